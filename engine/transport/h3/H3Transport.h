#pragma once

#include "transport/Transport.h"
#include "transport/h3/H3Session.h"
#include "transport/h3/QuicConnection.h"
#include "transport/h3/UdpSocket.h"

#include <QtCore/QTimer>

#include <memory>

class QHostInfo;

namespace qmasque {

// H3Transport: the HTTP/3 client transport (RFC 9114 over QUIC, RFC 9000) with HTTP Datagrams
// (RFC 9297): one QUIC connection to the proxy on its own connected UDP socket.
//
// Create it unconnected, parented to its owner, then connectToProxy():
//     auto *transport = new H3Transport(owner);
//     transport->connectToProxy(options);   // connected() or closed(error) follows
// The connect deadline (ConnectOptions::connectTimeoutMs) covers name resolution
// (connect_timeout), the QUIC handshake (ngtcp2's handshake timeout: handshake_timeout) and the
// wait for the server's SETTINGS (handshake_timeout); connected() comes only once the handshake
// completed and SETTINGS arrived, so peerSettings() is meaningful at first use.
//
// Close reasons (closed()): idle_timeout, application_error (peer's H3 code in wireCode),
// connection_closed (peer closed with H3_NO_ERROR), quic_transport_error,
// quic_handshake_failed, tls_untrusted_certificate / tls_hostname_mismatch /
// tls_certificate_expired / tls_pin_mismatch / tls_handshake_failed / tls_client_certificate,
// alpn_mismatch, stateless_reset, handshake_timeout, connect_timeout, connection_refused and
// network_unreachable (ICMP, during the handshake at once, later when it persists for a PTO),
// dns_failed, invalid_config, local_close, goaway (peer's GOAWAY drained).
//
// HTTP datagrams (RFC 9297) go out as QUIC DATAGRAM frames (sendDatagram(): quarter stream id +
// payload; bounded queue, queue_full / datagram_too_large counted) and arrive as
// datagramReceived() for open streams (others are counted and dropped); the owner routes them to
// the sessions. DATAGRAM capsules a peer sends on the request stream instead (RFC 9297, 3.5) are
// stream data here: the session's capsule parser treats them as datagrams.
//
// Statistics: RTT (smoothed, variance, min), congestion window, bytes in flight, path MTU, QUIC
// version, ALPN, TLS version/cipher/group/peer certificate, bytes and packets each way,
// datagrams sent/received/dropped by reason. packetsLost approximates the total from ngtcp2
// 1.11's per-stream loss counts and lost DATAGRAM frames (no connection total in that version).
//
// Engine thread only.
class H3Transport final : public Transport,
                          private h3::H3SessionEvents,
                          private h3::UdpSocket::Receiver,
                          private h3::QuicPacketSink
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H3Transport)

public:
    explicit H3Transport(QObject *parent = nullptr);
    // Sends CONNECTION_CLOSE (H3_NO_ERROR) if the connection is still open.
    ~H3Transport() override;

    TransportKind kind() const override { return TransportKind::H3; }
    State state() const override;

    void connectToProxy(const ConnectOptions &options) override;
    Result<StreamId> submitRequest(const Request &request) override;
    std::optional<qint64> peerStreamLimit() const override;

    Status setStreamHandler(StreamId id, StreamHandler *handler) override;
    void clearStreamHandler(StreamId id) override;
    Result<qint64> sendStreamData(StreamId id, QByteArrayView data) override;
    Status endStream(StreamId id) override;
    void resetStream(StreamId id, StreamResetReason reason) override;
    void consumeStreamData(StreamId id, qint64 bytes) override;
    Status sendDatagram(StreamId id, QByteArrayView payload) override;
    qint64 maxDatagramPayload(StreamId id) const override;
    PeerSettings peerSettings() const override;
    qint64 openStreamCount() const override;
    void goaway() override;
    void close() override;
    TransportStats stats() const override;

private:
    void handleLookup(const QHostInfo &info);
    void start(const QHostAddress &address);
    void handleConnectTimeout();
    void fail(const Error &reason);
    void emitClosed(const Error &reason);

    // H3SessionEvents
    void sessionConnected() override;
    void sessionSettingsChanged() override;
    void sessionGoawayReceived(StreamId id) override;
    void sessionStreamReset(StreamId id, const Error &reason) override;
    void sessionDatagramReceived(StreamId id, QByteArrayView payload) override;
    void sessionClosed(const Error &reason) override;

    // UdpSocket::Receiver
    void handleDatagram(const h3::SocketAddress &from, const quint8 *data, qsizetype size) override;
    void handleReadFinished() override;
    void handleWritable() override;
    void handleSocketError(int error) override;

    // QuicPacketSink
    h3::UdpSocket::SendResult sendPackets(const ngtcp2_addr &to, const quint8 *data, qsizetype size,
                                          qsizetype segmentSize) override;
    void waitForWritable(h3::QuicConnection *connection) override;

    ConnectOptions m_options;
    State m_state = State::Idle; // before the session exists, and once closed
    bool m_closed = false;
    QTimer m_connectTimer;
    int m_lookupId = -1;
    // Destroyed in reverse order: the QUIC connection first (it calls into the session and
    // the socket), then the socket, then the session.
    std::unique_ptr<h3::H3Session> m_session;
    std::unique_ptr<h3::UdpSocket> m_socket;
    std::unique_ptr<h3::QuicConnection> m_quic;
};

} // namespace qmasque
