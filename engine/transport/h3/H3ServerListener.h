#pragma once

#include "transport/ServerListener.h"
#include "transport/ServerOptions.h"
#include "transport/h3/QuicConnection.h"
#include "transport/h3/QuicTls.h"
#include "transport/h3/UdpSocket.h"

#include <QtCore/QElapsedTimer>

#include <array>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace qmasque {

class H3ServerConnection;

// H3ServerListener: accepts HTTP/3 connections on one UDP socket and demultiplexes packets to
// them by Destination Connection ID (a CID -> connection map that the connections keep current
// as ngtcp2 issues and retires ids).
//
//     auto *listener = new H3ServerListener(options, parent);
//     if (Status ok = listener->listen(QHostAddress::Any, 443); !ok) ...
//     connect(listener, &ServerListener::newConnection, ...);
//
// Per RFC 9000 it answers unknown versions with Version Negotiation, short header packets for
// unknown connections with a Stateless Reset (tokens derived from the static secret, rate
// limited), and, with ServerOptions::quicRetry, validates client addresses with Retry tokens
// before creating any connection state. A connection is handed out (newConnection) once its
// handshake completed; failed handshakes are dropped silently.
//
// Binding a wildcard address serves both families (dual stack); replies leave with the source
// address the kernel picks, so multi-homed hosts should bind a specific address.
//
// Ownership: connections are children of the listener and are deleted by it once they closed
// and their closing period (three PTOs) ended. Engine thread only.
class H3ServerListener final : public ServerListener,
                               private h3::UdpSocket::Receiver,
                               private h3::QuicPacketSink,
                               private h3::QuicConnectionIdRegistry
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H3ServerListener)

public:
    explicit H3ServerListener(const ServerOptions &options, QObject *parent = nullptr);
    // Sends CONNECTION_CLOSE to every open connection and deletes them.
    ~H3ServerListener() override;

    // listen: loads the certificate and key, then binds. Errors: invalid_config,
    // address_in_use, permission_denied, io_error.
    Status listen(const QHostAddress &address, quint16 port) override;
    quint16 serverPort() const override;
    void goawayAll() override;
    void close() override;

    // setStaticSecret: the key (at least 32 bytes) of stateless reset and Retry tokens. A
    // server restarted with the same secret resets the connections of its previous life
    // (RFC 9000, 10.3). Default: random per listener. Call before listen().
    void setStaticSecret(const QByteArray &secret);
    // connectionCount: connections alive (including closing ones not yet deleted).
    qsizetype connectionCount() const noexcept { return qsizetype(m_connections.size()); }

    // StatelessCounters: packets sent without a connection, for the dashboard and the tests.
    struct StatelessCounters
    {
        quint64 versionNegotiations = 0;
        quint64 retries = 0;
        quint64 invalidTokens = 0;
        quint64 statelessResets = 0;
    };
    StatelessCounters statelessCounters() const noexcept { return m_counters; }

private:
    struct CidKey
    {
        std::array<uint8_t, NGTCP2_MAX_CIDLEN> data{};
        uint8_t length = 0;
        friend bool operator==(const CidKey &, const CidKey &) = default;
    };
    struct CidHash
    {
        size_t operator()(const CidKey &key) const noexcept;
    };
    static CidKey keyOf(const uint8_t *data, size_t length) noexcept;

    void acceptConnection(const ngtcp2_pkt_hd &header, const h3::SocketAddress &from,
                          const quint8 *data, qsizetype size);
    void handleShortHeaderForUnknown(const ngtcp2_version_cid &packet,
                                     const h3::SocketAddress &from, qsizetype size);
    void removeConnection(H3ServerConnection *connection);
    void markDirty(h3::QuicConnection *connection);
    void sendStateless(const h3::SocketAddress &to, const QByteArray &packet);

    // UdpSocket::Receiver
    void handleDatagram(const h3::SocketAddress &from, const quint8 *data, qsizetype size) override;
    void handleReadFinished() override;
    void handleWritable() override;
    void handleSocketError(int error) override;

    // QuicPacketSink
    h3::UdpSocket::SendResult sendPackets(const ngtcp2_addr &to, const quint8 *data, qsizetype size,
                                          qsizetype segmentSize) override;
    void waitForWritable(h3::QuicConnection *connection) override;

    // QuicConnectionIdRegistry
    void addConnectionId(const ngtcp2_cid &cid, h3::QuicConnection *connection) override;
    void removeConnectionId(const ngtcp2_cid &cid) override;

    ServerOptions m_options;
    QByteArray m_secret;
    bool m_accepting = false;
    std::unique_ptr<h3::QuicTlsServerContext> m_tls;
    std::unique_ptr<h3::UdpSocket> m_socket;
    std::unordered_map<CidKey, h3::QuicConnection *, CidHash> m_cids;
    std::unordered_map<h3::QuicConnection *, H3ServerConnection *> m_connections;
    std::unordered_set<h3::QuicConnection *> m_blocked;
    std::vector<h3::QuicConnection *> m_dirty;
    std::vector<h3::QuicConnection *> m_scratch;
    QByteArray m_statelessPacket; // reused
    StatelessCounters m_counters;
    // Stateless resets are rate limited (RFC 9000, 10.3: they can be used for amplification).
    QElapsedTimer m_resetWindow;
    int m_resetsInWindow = 0;
};

} // namespace qmasque
