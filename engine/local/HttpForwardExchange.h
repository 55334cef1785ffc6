#pragma once

#include "api/Error.h"
#include "local/HttpProxyCodec.h"
#include "local/LocalStreamSocket.h"
#include "local/SocketWriteQueue.h"
#include "tunnel/TcpTunnel.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>

namespace qmasque {

// HttpForwardExchange: one forwarded HTTP request (absolute-form "GET http://host/...", or
// origin-form with Host) and its response, over a TCP tunnel to the origin that carries only
// this exchange (the rewritten request says "Connection: close").
//
//  - up: the rewritten head, then the request body exactly as the client framed it
//    (Content-Length or chunked passes through unchanged; H1BodyDecoder only finds its end).
//    Bytes after the body (a pipelined next request) are not sent: they stay in leftover() and
//    in the kernel, because reading stops at the end of the body.
//  - down: response heads are parsed (bounded by kMaxResponseHead) and rewritten
//    (parseOriginResponse(), clientResponseHead()); 1xx interim responses are relayed; the
//    body passes through unchanged until its framing says it ended, or until the origin closes
//    for a response without framing. Bytes after the end are discarded.
// Backpressure as in TcpRelay: the socket is read only while the tunnel takes bytes, and tunnel
// credit is returned only for bytes the kernel took (head bytes once buffered here).
//
// End: completed() once the response was written to the socket entirely (keepAlive() then says
// whether the client may send another request), or failed(error): when nothing of the response
// reached the client yet (responseStarted() false), error.httpStatus is what to answer with;
// otherwise the client's connection must be reset (the response is cut). Neither the socket nor
// the tunnel is owned; the owner closes the tunnel and deletes the exchange (deleteLater())
// afterwards. Engine thread only.
class HttpForwardExchange final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpForwardExchange)

public:
    static constexpr qint64 kReadChunk = 64 * 1024;

    // `socket` and `tunnel` (open) are not owned; the socket must outlive the exchange, the
    // tunnel is guarded.
    HttpForwardExchange(LocalStreamSocket *socket, TcpTunnel *tunnel, HttpProxyRequest request,
                        QObject *parent = nullptr);
    ~HttpForwardExchange() override;

    // start: `pending` holds the bytes the client sent after the head (the start of the body,
    // maybe more requests). Call once.
    void start(QByteArray pending);

    bool responseStarted() const noexcept { return m_responseStarted; }
    // keepAlive: after completed(): the client's connection may carry another request.
    bool keepAlive() const noexcept { return m_keepAlive; }
    // leftover: after completed(): bytes the client sent after this request's body.
    QByteArray takeLeftover() { return std::exchange(m_leftover, {}); }
    int responseStatus() const noexcept { return m_response.status; }

Q_SIGNALS:
    void completed();
    void failed(const qmasque::Error &error);

private:
    void pumpUp();
    void handleTunnelWritable();
    void receive(QByteArrayView data);
    Status receiveHead(QByteArrayView &data);
    void queueDown(QByteArrayView data, bool ownBytes);
    void handleSocketWritable();
    void handleTunnelReadFinished();
    void handleTunnelClosed(const Error &reason);
    void finishResponse();
    void maybeComplete();
    void fail(const Error &error);

    LocalStreamSocket *m_socket;  // not owned; outlives the exchange
    QPointer<TcpTunnel> m_tunnel; // not owned (TunnelClient's)
    HttpProxyRequest m_request;

    // Up: bytes for the origin.
    QByteArray m_in; // read from the client, not yet looked at (after the head)
    QByteArray m_up; // accepted for the origin, not yet taken by the tunnel
    qsizetype m_upOffset = 0;
    QByteArray m_scratch;  // H1BodyDecoder output (unused: bodies pass through raw)
    QByteArray m_leftover; // after the request body
    bool m_upDone = false; // the whole request went into the tunnel

    // Down: bytes for the client.
    QByteArray m_head; // an incomplete response head (credit already returned)
    HttpOriginResponse m_response;
    bool m_inBody = false;
    bool m_responseDone = false;
    SocketWriteQueue m_down; // for the socket, not yet taken (heads are our own bytes)

    bool m_started = false;
    bool m_responseStarted = false;
    bool m_keepAlive = false;
    bool m_ended = false;
};

} // namespace qmasque
