#pragma once

#include "api/Error.h"
#include "local/Socks5Codec.h"
#include "local/Socks5Server.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QTimer>

class QTcpSocket;

namespace qmasque {

class Socks5UdpRelay;
class TcpTunnel;

// Socks5Connection: one SOCKS5 client on its TCP connection: method negotiation, optional
// username/password (RFC 1929), the request, then either
//  - CONNECT: a TCP tunnel and the byte relay both ways, with backpressure: the local socket is
//    not read while the tunnel's write is short (resumed on writable()), and received bytes are
//    consume()d only once the local socket wrote them to the kernel (bytesWritten), so a slow
//    local reader stalls the remote sender instead of filling memory; or
//  - UDP ASSOCIATE: a Socks5UdpRelay that lives as long as this TCP connection (RFC 1928, 7).
//
// Half-close: the target's FIN becomes shutdown(SHUT_WR) on the local socket once everything
// was written; the client's FIN (QTcpSocket closes on end of file) ends the tunnel gracefully
// after the bytes already read were sent.
//
// Ownership: the socket is a child. finished() tells the server (queued use only: the server
// deletes the connection later). Engine thread only.
class Socks5Connection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Socks5Connection)

public:
    Socks5Connection(QTcpSocket *socket, TunnelClient *client, const Socks5Config &config,
                     Socks5Stats *stats, QObject *parent);
    ~Socks5Connection() override;

    // stop: closes the tunnel (gracefully) or the relay, then the socket. Idempotent.
    void stop();
    // peer: "127.0.0.1:51234".
    const QString &peer() const noexcept { return m_peer; }

Q_SIGNALS:
    void finished(qmasque::Socks5Connection *connection);

private:
    enum class Phase : quint8
    {
        Greeting,
        Authentication,
        Request,
        Opening,    // CONNECT sent to the tunnel client, waiting
        Relaying,   // CONNECT tunnel open
        Associated, // UDP relay running
        Done,
    };

    void handleReadyRead();
    void handleBytesWritten(qint64 bytes);
    void handleDisconnected();
    void handleHandshakeTimeout();
    bool handleGreeting();
    bool handleCredentials();
    bool handleRequest();
    void openConnect(const socks5::Address &destination);
    void openAssociate(const socks5::Address &clientHint);
    void handleTunnel(const Result<TcpTunnel *> &result);
    void handleTunnelClosed(const Error &reason);
    void pumpUp();
    void deliverDown(QByteArrayView data);
    void maybeShutdownLocalWrite();
    void sendControl(const QByteArray &bytes);
    void fail(socks5::Reply reply, const Error &error, bool sendReply);
    void finish(bool reset);
    void emitFinished();

    QTcpSocket *m_socket;         // child
    TunnelClient *m_client;       // not owned; outlives the server and its connections
    const Socks5Config &m_config; // the server's; outlives this
    Socks5Stats *m_stats;         // the server's
    QString m_peer;
    QString m_localClient; // "socks5 127.0.0.1:51234"
    Phase m_phase = Phase::Greeting;
    QTimer m_handshakeTimer;
    QByteArray m_handshake; // bytes of the greeting / authentication / request so far

    // CONNECT.
    quint64 m_tunnelId = 0;
    QPointer<TcpTunnel> m_tunnel; // owned by the tunnel client
    QByteArray m_up;              // read from the socket, not yet accepted by the tunnel
    qsizetype m_upOffset = 0;
    qint64 m_controlUnflushed = 0; // reply bytes written to the socket, not yet flushed
    bool m_upBlocked = false;      // the tunnel's write was short: wait for writable()
    bool m_localEof = false;
    bool m_tunnelReadDone = false;
    bool m_localWriteShut = false;
    bool m_finishedEmitted = false;

    // UDP ASSOCIATE.
    Socks5UdpRelay *m_relay = nullptr; // child
};

} // namespace qmasque
