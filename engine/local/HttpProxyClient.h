#pragma once

#include "local/HttpProxyCodec.h"
#include "local/LocalStreamSocket.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QTimer>

namespace qmasque {

class HttpForwardExchange;
class TcpRelay;
class TcpTunnel;
class TunnelClient;

// HttpProxyOptions: limits of the HTTP proxy front end. Times in milliseconds.
struct HttpProxyOptions
{
    int headTimeoutMs = 30000;   // a request head must be complete this long after it started
    int keepAliveIdleMs = 60000; // an idle persistent connection is closed after this
    int maxClients = 1024;       // connections beyond this many get 503 at once
    int lingerMs = 2000;         // after an error response: wait this long for the client's FIN
};

// HttpProxyClient: one local connection to the HTTP proxy port.
//
//   ReadingHead --CONNECT host:port--> Opening --open--> Tunneling (TcpRelay) --> done
//        ^      --GET http://...-----> Opening --open--> Forwarding (HttpForwardExchange)
//        |                                                   |
//        +------------------- keep-alive --------------------+ (else: close)
//
// The head is read into a buffer bounded by kMaxRequestHead; nothing more is read while a
// tunnel opens or a request is being forwarded. Every problem of this client ends this client
// only: errors in its request get an error response (errorResponse(): 400, 408, 431, 501, 505;
// 403/502/503/504 when the tunnel did not open), then a lingering close (FIN, then the client's
// remaining bytes are read and dropped until its FIN or lingerMs) so the response is not lost to
// an RST. A failure after response bytes were sent resets the connection.
//
// Owned by the HttpProxyServer; finished() asks it to delete this object (deleteLater()).
// Engine thread only.
class HttpProxyClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpProxyClient)

public:
    // `client` (not owned) must outlive this object.
    HttpProxyClient(TunnelClient *client, SocketFd fd, const HttpProxyOptions &options,
                    QObject *parent = nullptr);
    ~HttpProxyClient() override;

    void start();
    // refuse: answers `status` at once and closes (the server's client limit).
    void refuse(int status, const Error &error);
    // stop: ends the connection now: a CONNECT tunnel is closed with FINs both ways, anything
    // else is closed at once. finished() follows.
    void stop();

    QString peer() const { return m_socket->peerString(); }
    int requestsServed() const noexcept { return m_requestsServed; }

Q_SIGNALS:
    void finished(qmasque::HttpProxyClient *client);

private:
    enum class Phase : quint8
    {
        ReadingHead,
        Opening,
        Tunneling,
        Forwarding,
        Closing, // an error response is flushed / the lingering close runs
        Done,
    };

    void handleReadable();
    void readHead();
    void tryParseHead();
    void openTunnel(HttpProxyRequest request, QByteArray rest);
    void handleTunnelOpened(TcpTunnel *tunnel, HttpProxyRequest request, QByteArray rest);
    void handleExchangeCompleted();
    void handleExchangeFailed(const Error &error);
    void handleHeadTimeout();
    void respondError(int status, const Error &error);
    void flushOut();
    void linger();
    void abortConnection();
    void finish();

    TunnelClient *m_client; // not owned; outlives this object
    HttpProxyOptions m_options;
    LocalStreamSocket *m_socket; // child
    Phase m_phase = Phase::ReadingHead;
    QByteArray m_in; // request bytes read and not handed on yet
    bool m_eof = false;
    QByteArray m_out; // an error response being written
    qsizetype m_outOffset = 0;
    qint64 m_lingerDiscarded = 0;
    QTimer m_timer; // head timeout, keep-alive idle, or linger
    quint64 m_openId = 0;
    QPointer<TcpTunnel> m_tunnel;              // not owned (TunnelClient's)
    TcpRelay *m_relay = nullptr;               // child (Tunneling)
    HttpForwardExchange *m_exchange = nullptr; // child (Forwarding)
    int m_requestsServed = 0;
};

} // namespace qmasque
