#include "local/HttpForwardExchange.h"

namespace qmasque {

namespace {

constexpr int kMaxReadsPerWake = 16;

Error withStatus(Error error, int status)
{
    error.httpStatus = status;
    return error;
}

} // namespace

HttpForwardExchange::HttpForwardExchange(LocalStreamSocket *socket, TcpTunnel *tunnel,
                                         HttpProxyRequest request, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_tunnel(tunnel)
    , m_request(std::move(request))
    , m_down(socket)
{}

HttpForwardExchange::~HttpForwardExchange()
{
    if (m_tunnel) {
        m_tunnel->setReceiver({}); // never inside a tunnel callback (deleteLater())
        disconnect(m_tunnel, nullptr, this, nullptr);
    }
    disconnect(m_socket, nullptr, this, nullptr);
}

void HttpForwardExchange::start(QByteArray pending)
{
    if (std::exchange(m_started, true))
        return;
    if (!m_tunnel || !m_tunnel->isOpen()) {
        fail(withStatus(Error(ErrorCode::StreamClosed, QStringLiteral("the tunnel is gone")), 502));
        return;
    }
    m_in = std::move(pending);
    m_up = m_request.upstreamHead;
    connect(m_socket, &LocalStreamSocket::readable, this, &HttpForwardExchange::pumpUp);
    connect(m_socket, &LocalStreamSocket::writable, this,
            &HttpForwardExchange::handleSocketWritable);
    connect(m_tunnel, &TcpTunnel::writable, this, &HttpForwardExchange::handleTunnelWritable);
    connect(m_tunnel, &TcpTunnel::readFinished, this,
            &HttpForwardExchange::handleTunnelReadFinished);
    connect(m_tunnel, &TunnelSession::closed, this, &HttpForwardExchange::handleTunnelClosed);
    QPointer<HttpForwardExchange> self(this);
    m_tunnel->setReceiver([self](QByteArrayView data) {
        if (self)
            self->receive(data);
    });
    if (!m_ended)
        pumpUp();
}

void HttpForwardExchange::pumpUp()
{
    if (m_ended || !m_tunnel)
        return;
    for (int reads = 0;;) {
        if (m_upOffset < m_up.size()) {
            const Result<qint64> accepted =
                m_tunnel->write(QByteArrayView(m_up).sliced(m_upOffset));
            if (!accepted) {
                m_socket->setReadEnabled(false); // the tunnel is ending: closed() says why
                return;
            }
            m_upOffset += qsizetype(*accepted);
            if (m_upOffset < m_up.size()) {
                m_socket->setReadEnabled(false); // full: wait for writable()
                return;
            }
        }
        m_up.resize(0);
        m_upOffset = 0;
        if (m_request.body.finished()) {
            // The request is out; what follows is the client's next request, which waits.
            if (!m_upDone) {
                m_upDone = true;
                m_leftover = std::exchange(m_in, {});
            }
            m_socket->setReadEnabled(false);
            maybeComplete();
            return;
        }
        if (m_in.isEmpty()) {
            if (reads++ == kMaxReadsPerWake) {
                m_socket->setReadEnabled(true);
                return;
            }
            m_in.resize(kReadChunk);
            const qint64 n = m_socket->read(m_in.data(), kReadChunk);
            if (n <= 0) {
                m_in.resize(0);
                if (n == -1) {
                    m_socket->setReadEnabled(true);
                } else if (n == -2) {
                    fail(m_socket->error());
                } else {
                    fail(withStatus(Error(ErrorCode::MalformedHeader,
                                          QStringLiteral("the client closed before the end of "
                                                         "the request body")),
                                    400));
                }
                return;
            }
            m_in.resize(qsizetype(n));
        }
        // The body passes through raw; the decoder only tells where it ends.
        m_scratch.resize(0);
        const Result<qsizetype> used = m_request.body.feed(m_in, m_scratch);
        if (!used) {
            fail(withStatus(used.error(), 400));
            return;
        }
        if (*used == m_in.size()) {
            std::swap(m_up, m_in); // no copy; both buffers keep their capacity
            m_in.resize(0);
        } else {
            m_up = m_in.first(*used);
            m_in.remove(0, *used);
        }
    }
}

void HttpForwardExchange::handleTunnelWritable()
{
    if (!m_upDone)
        pumpUp();
}

void HttpForwardExchange::receive(QByteArrayView data)
{
    while (!m_ended && !data.isEmpty()) {
        if (m_responseDone) {
            // RFC 9112, 9.3: nothing may follow a response on a "Connection: close" exchange;
            // stray bytes are dropped (their credit returned).
            if (m_tunnel)
                m_tunnel->consume(data.size());
            return;
        }
        if (!m_inBody) {
            if (Status ok = receiveHead(data); !ok) {
                fail(ok.error());
                return;
            }
            continue;
        }
        m_scratch.resize(0);
        const Result<qsizetype> used = m_response.body.feed(data, m_scratch);
        if (!used) {
            fail(withStatus(used.error(), 502));
            return;
        }
        queueDown(data.first(*used), false);
        data = data.sliced(*used);
        if (m_response.body.finished())
            finishResponse();
    }
}

Status HttpForwardExchange::receiveHead(QByteArrayView &data)
{
    const qsizetype before = m_head.size();
    m_head.append(data.data(), qMin<qsizetype>(data.size(), kMaxResponseHead));
    const Result<qsizetype> end = findHeadEnd(m_head, kMaxResponseHead);
    if (!end)
        return withStatus(end.error(), 502);
    if (*end == 0) {
        // Incomplete: the bytes are kept here (bounded), so their credit goes back now.
        if (m_tunnel)
            m_tunnel->consume(data.size());
        data = {};
        return {};
    }
    const qsizetype fromData = *end - before;
    if (m_tunnel)
        m_tunnel->consume(fromData);
    data = data.sliced(fromData);
    m_head.truncate(*end);
    auto response = parseOriginResponse(m_head, m_request);
    m_head.clear();
    if (!response)
        return response.error();
    m_response = std::move(*response);
    if (m_response.interim) {
        // RFC 9110, 15.2: 1xx responses are forwarded; the final one follows.
        queueDown(clientResponseHead(m_response, false), true);
        return {};
    }
    // The client's connection persists only when both messages are delimited and complete:
    // a close-delimited response, a request body still arriving, or the client's "close" end
    // it (RFC 9112, 9.3 and 9.6).
    m_keepAlive = !m_request.clientClose && !m_response.untilClose && m_upDone;
    queueDown(clientResponseHead(m_response, !m_keepAlive), true);
    m_inBody = true;
    if (m_response.body.finished())
        finishResponse();
    return {};
}

void HttpForwardExchange::queueDown(QByteArrayView data, bool ownBytes)
{
    if (data.isEmpty())
        return;
    m_responseStarted = true;
    if (!m_down.write(data, ownBytes, m_tunnel))
        fail(m_socket->error());
}

void HttpForwardExchange::handleSocketWritable()
{
    if (m_ended)
        return;
    switch (m_down.flush(m_tunnel)) {
    case SocketWriteQueue::Flush::Failed:
        fail(m_socket->error());
        return;
    case SocketWriteQueue::Flush::Pending:
        return;
    case SocketWriteQueue::Flush::Drained:
        maybeComplete();
        return;
    }
}

void HttpForwardExchange::handleTunnelReadFinished()
{
    // The origin closed its side: that ends a close-delimited body (RFC 9112, 6.3 (8)).
    if (m_inBody && m_response.untilClose)
        finishResponse();
    else if (!m_responseDone)
        fail(
            withStatus(Error(ErrorCode::PeerFin, m_inBody ? QStringLiteral("the origin closed in "
                                                                           "the middle of the body")
                                                          : QStringLiteral("the origin closed "
                                                                           "without a response")),
                       502));
}

void HttpForwardExchange::handleTunnelClosed(const Error &reason)
{
    if (m_ended)
        return;
    if (reason.code == ErrorCode::PeerFin && m_inBody && m_response.untilClose) {
        finishResponse();
        return;
    }
    if (!m_responseDone)
        fail(withStatus(reason, m_responseStarted ? 502 : statusForTunnelError(reason)));
}

void HttpForwardExchange::finishResponse()
{
    if (std::exchange(m_responseDone, true))
        return;
    maybeComplete();
}

void HttpForwardExchange::maybeComplete()
{
    if (m_ended || !m_responseDone || !m_down.isEmpty())
        return;
    if (!m_upDone)
        m_keepAlive = false; // the request body was cut short by the response: close
    m_ended = true;
    m_socket->setReadEnabled(false);
    emit completed();
}

void HttpForwardExchange::fail(const Error &error)
{
    if (std::exchange(m_ended, true))
        return;
    m_socket->setReadEnabled(false);
    m_socket->setWriteNotification(false);
    m_keepAlive = false;
    emit failed(error);
}

} // namespace qmasque
