#pragma once

#include "api/Result.h"
#include "local/Socks5Codec.h"
#include "local/Socks5Server.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtNetwork/QHostAddress>

#include <deque>
#include <memory>
#include <unordered_map>

class QUdpSocket;

namespace qmasque {

class UdpTunnel;

// Socks5UdpRelay: the UDP side of one SOCKS5 UDP ASSOCIATE (RFC 1928, 7). The client sends each
// datagram with the SOCKS UDP header naming its target; the relay opens one CONNECT-UDP tunnel
// per target (RFC 9298) on the first datagram, keeps up to maxPendingDatagrams while it opens,
// and sends replies back with the header naming the target as the client wrote it (a domain
// name stays a name). Fragmented datagrams (FRAG != 0) are dropped and counted: reassembly is
// optional and rarely used. Only datagrams from the client's address are accepted (and from the
// port it announced, or the first one it used).
//
// A target whose tunnel failed is not retried for kRetryAfterMs (its datagrams are dropped and
// counted); a target whose tunnel closed is reopened by its next datagram.
//
// Hot path: one receive buffer and one send buffer for the relay's life, no copy of a payload
// except into the tunnel's own send path and the reply datagram; nothing logged per datagram.
// Owned by its Socks5Connection; engine thread only.
class Socks5UdpRelay final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Socks5UdpRelay)

public:
    static constexpr qint64 kRetryAfterMs = 1000;

    // `client`, `config` and `stats` are not owned and outlive the relay.
    Socks5UdpRelay(TunnelClient *client, const Socks5Config &config, Socks5Stats *stats,
                   const QHostAddress &clientAddress, quint16 clientPort, QString localClient,
                   QObject *parent);
    ~Socks5UdpRelay() override;

    // bind: a UDP socket on `address` (the address the client reached the server on), port 0.
    Status bind(const QHostAddress &address);
    quint16 port() const;
    // stop: closes every tunnel gracefully and the socket. Idempotent.
    void stop();
    int targetCount() const { return int(m_targets.size()); }

private:
    struct Target
    {
        socks5::Address address;
        QByteArray header; // the SOCKS UDP header of replies from this target
        quint64 openId = 0;
        QPointer<UdpTunnel> tunnel;
        std::deque<QByteArray> pending; // while opening
        qint64 failedAtMs = -1;
    };
    struct KeyHash
    {
        size_t operator()(const QByteArray &key) const noexcept { return qHash(key); }
    };

    void handleReadyRead();
    void route(QByteArrayView key, const socks5::UdpDatagram &datagram);
    void open(const QByteArray &key, Target &target);
    void handleOpened(const QByteArray &key, const Result<UdpTunnel *> &result);
    void handleTunnelClosed(const QByteArray &key, UdpTunnel *tunnel);
    void sendToClient(const Target &target, QByteArrayView payload);

    TunnelClient *m_client; // not owned
    const Socks5Config &m_config;
    Socks5Stats *m_stats;
    QHostAddress m_clientAddress;
    quint16 m_clientPort; // 0 until the first datagram when the client did not announce it
    QString m_localClient;
    QUdpSocket *m_socket; // child
    QByteArray m_in;      // one datagram as received
    QByteArray m_out;     // one reply as sent
    QElapsedTimer m_clock;
    std::unordered_map<QByteArray, std::unique_ptr<Target>, KeyHash> m_targets;
    bool m_stopped = false;
};

} // namespace qmasque
