#include "local/HttpProxyClient.h"

#include "core/Log.h"
#include "local/HttpForwardExchange.h"
#include "local/TcpRelay.h"
#include "tunnel/TunnelClient.h"

namespace qmasque {

namespace {

constexpr qint64 kHeadReadChunk = 4096;
constexpr qint64 kMaxLingerDiscard = 1024 * 1024;

} // namespace

HttpProxyClient::HttpProxyClient(TunnelClient *client, SocketFd fd, const HttpProxyOptions &options,
                                 QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_options(options)
    , m_socket(new LocalStreamSocket(std::move(fd), this))
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &HttpProxyClient::handleHeadTimeout);
    connect(m_socket, &LocalStreamSocket::readable, this, &HttpProxyClient::handleReadable);
    connect(m_socket, &LocalStreamSocket::writable, this, &HttpProxyClient::flushOut);
}

HttpProxyClient::~HttpProxyClient()
{
    if (m_openId != 0)
        m_client->cancel(m_openId);
    delete m_relay; // before the tunnel goes and the socket closes
    delete m_exchange;
    if (m_tunnel && m_tunnel->state() != TunnelState::Closed)
        m_tunnel->close();
}

void HttpProxyClient::start()
{
    m_timer.start(m_options.headTimeoutMs);
    m_socket->setReadEnabled(true);
}

void HttpProxyClient::refuse(int status, const Error &error)
{
    respondError(status, error);
}

void HttpProxyClient::handleReadable()
{
    switch (m_phase) {
    case Phase::ReadingHead:
        readHead();
        return;
    case Phase::Closing:
        linger();
        return;
    default:
        // Opening: nothing is read until the tunnel is there (relay and exchange read
        // themselves).
        m_socket->setReadEnabled(false);
        return;
    }
}

void HttpProxyClient::readHead()
{
    // Never more than one byte past the limit: enough to tell "too large".
    while (m_in.size() <= kMaxRequestHead) {
        const qsizetype before = m_in.size();
        const qint64 room = qMin<qint64>(kHeadReadChunk, kMaxRequestHead + 1 - before);
        m_in.resize(before + qsizetype(room));
        const qint64 n = m_socket->read(m_in.data() + before, room);
        m_in.resize(before + qsizetype(qMax<qint64>(n, 0)));
        if (n == -1)
            break;
        if (n == -2) {
            qCDebug(lcLocal) << "http-proxy" << peer() << m_socket->error().toString();
            abortConnection();
            return;
        }
        if (n == 0) {
            m_eof = true;
            m_socket->setReadEnabled(false);
            break;
        }
        if (m_in.indexOf("\r\n\r\n", qMax<qsizetype>(0, before - 3)) >= 0)
            break;
    }
    tryParseHead();
}

void HttpProxyClient::tryParseHead()
{
    const Result<qsizetype> end = findHeadEnd(m_in, kMaxRequestHead);
    if (!end) {
        respondError(431, end.error());
        return;
    }
    if (*end == 0) {
        if (!m_eof)
            return; // more to come (the head timer runs)
        if (m_in.isEmpty()) {
            finish(); // the client left between requests: nothing to answer
            return;
        }
        respondError(400, Error(ErrorCode::MalformedHeader,
                                QStringLiteral("the client closed in the middle of the "
                                               "request head (%1 bytes)")
                                    .arg(m_in.size())));
        return;
    }
    auto request = parseProxyRequest(QByteArrayView(m_in).first(*end));
    if (!request) {
        respondError(request.error().httpStatus, request.error());
        return;
    }
    QByteArray rest = m_in.sliced(*end);
    m_in.clear();
    openTunnel(std::move(*request), std::move(rest));
}

void HttpProxyClient::openTunnel(HttpProxyRequest request, QByteArray rest)
{
    m_phase = Phase::Opening;
    m_timer.stop();
    m_socket->setReadEnabled(false); // the client waits for our answer (or its bytes wait)
    const QString host = request.host;
    const quint16 port = request.port;
    m_openId = m_client->openTcp(
        host, port, this,
        [this, request = std::move(request),
         rest = std::move(rest)](const Result<TcpTunnel *> &result) mutable {
            m_openId = 0;
            if (!result) {
                qCDebug(lcLocal) << "http-proxy" << peer() << request.host << request.port
                                 << result.error().toString();
                respondError(statusForTunnelError(result.error()), result.error());
                return;
            }
            handleTunnelOpened(*result, std::move(request), std::move(rest));
        },
        QStringLiteral("http-proxy ") + peer());
}

void HttpProxyClient::handleTunnelOpened(TcpTunnel *tunnel, HttpProxyRequest request,
                                         QByteArray rest)
{
    m_tunnel = tunnel;
    ++m_requestsServed;
    if (request.kind == HttpProxyRequest::Kind::Connect) {
        // RFC 9110, 9.3.6: 2xx, then the connection is a tunnel; bytes the client sent after
        // the head (optimistic data) go first.
        m_phase = Phase::Tunneling;
        m_relay = new TcpRelay(m_socket, tunnel, this);
        connect(m_relay, &TcpRelay::finished, this, [this](const Error &reason) {
            qCDebug(lcLocal) << "http-proxy" << peer() << "tunnel ended:" << reason.toString();
            finish();
        });
        m_relay->start(std::move(rest), kConnectEstablished);
        return;
    }
    m_phase = Phase::Forwarding;
    m_exchange = new HttpForwardExchange(m_socket, tunnel, std::move(request), this);
    connect(m_exchange, &HttpForwardExchange::completed, this,
            &HttpProxyClient::handleExchangeCompleted);
    connect(m_exchange, &HttpForwardExchange::failed, this, &HttpProxyClient::handleExchangeFailed);
    m_exchange->start(std::move(rest));
}

void HttpProxyClient::handleExchangeCompleted()
{
    const bool keepAlive = m_exchange->keepAlive();
    m_in = m_exchange->takeLeftover();
    std::exchange(m_exchange, nullptr)->deleteLater();
    if (m_tunnel)
        m_tunnel->close(); // one exchange per tunnel ("Connection: close" to the origin)
    m_tunnel.clear();
    if (!keepAlive) {
        m_phase = Phase::Closing;
        m_socket->shutdownWrite();
        linger();
        return;
    }
    // RFC 9112, 9.3: the next request on the same connection.
    m_phase = Phase::ReadingHead;
    m_timer.start(m_in.isEmpty() ? m_options.keepAliveIdleMs : m_options.headTimeoutMs);
    if (!m_in.isEmpty())
        tryParseHead();
    if (m_phase == Phase::ReadingHead)
        m_socket->setReadEnabled(true);
}

void HttpProxyClient::handleExchangeFailed(const Error &error)
{
    const bool started = m_exchange->responseStarted();
    std::exchange(m_exchange, nullptr)->deleteLater();
    if (m_tunnel && m_tunnel->state() != TunnelState::Closed)
        m_tunnel->abort(error);
    m_tunnel.clear();
    qCDebug(lcLocal) << "http-proxy" << peer() << "forwarding failed:" << error.toString();
    if (started) {
        abortConnection(); // the response is cut: the client must not take it as complete
        return;
    }
    respondError(error.httpStatus ? error.httpStatus : 502, error);
}

void HttpProxyClient::handleHeadTimeout()
{
    if (m_phase == Phase::Closing) {
        finish(); // the linger time is over
        return;
    }
    if (m_phase != Phase::ReadingHead)
        return;
    if (m_in.isEmpty()) {
        finish(); // an idle persistent connection (RFC 9112, 9.8: closing it is fine)
        return;
    }
    respondError(408, Error(ErrorCode::Timeout, QStringLiteral("the request head did not "
                                                               "arrive within %1 ms")
                                                    .arg(m_options.headTimeoutMs)));
}

void HttpProxyClient::respondError(int status, const Error &error)
{
    m_phase = Phase::Closing;
    m_timer.stop();
    m_in.clear();
    m_out = errorResponse(status, error);
    m_outOffset = 0;
    flushOut();
}

void HttpProxyClient::flushOut()
{
    if (m_phase != Phase::Closing)
        return; // the relay and the exchange listen to writable() themselves
    while (m_outOffset < m_out.size()) {
        const qint64 written =
            m_socket->write(m_out.constData() + m_outOffset, m_out.size() - m_outOffset);
        if (written < 0) {
            finish();
            return;
        }
        if (written == 0) {
            m_socket->setWriteNotification(true);
            return;
        }
        m_outOffset += qsizetype(written);
    }
    m_socket->setWriteNotification(false);
    m_out.clear();
    m_outOffset = 0;
    // A lingering close (RFC 9112, 9.6): FIN now, then read until the client's FIN, so unread
    // request bytes do not make the kernel answer with an RST that destroys the response.
    m_socket->shutdownWrite();
    linger();
}

void HttpProxyClient::linger()
{
    if (!m_out.isEmpty())
        return; // still writing the response
    if (!m_timer.isActive())
        m_timer.start(m_options.lingerMs);
    char buffer[4096];
    for (;;) {
        const qint64 n = m_socket->read(buffer, sizeof(buffer));
        if (n == -1) {
            m_socket->setReadEnabled(true);
            return;
        }
        if (n <= 0 || (m_lingerDiscarded += n) > kMaxLingerDiscard) {
            finish();
            return;
        }
    }
}

void HttpProxyClient::abortConnection()
{
    m_socket->abortOnClose();
    finish();
}

void HttpProxyClient::stop()
{
    if (m_phase == Phase::Done)
        return;
    if (m_relay) {
        m_relay->closeGracefully(); // finished() follows through the relay
        return;
    }
    if (m_openId != 0)
        m_client->cancel(std::exchange(m_openId, 0));
    if (m_tunnel && m_tunnel->state() != TunnelState::Closed)
        m_tunnel->close();
    finish();
}

void HttpProxyClient::finish()
{
    if (std::exchange(m_phase, Phase::Done) == Phase::Done)
        return;
    m_timer.stop();
    if (m_openId != 0)
        m_client->cancel(std::exchange(m_openId, 0));
    m_socket->close();
    emit finished(this);
}

} // namespace qmasque
