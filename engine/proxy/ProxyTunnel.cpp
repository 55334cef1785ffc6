#include "proxy/ProxyTunnel.h"

#include "proxy/ProxyContext.h"
#include "proxy/ProxyLog.h"
#include "proxy/ProxyRefusal.h"

namespace qmasque {

ProxyTunnel::ProxyTunnel(ProxyContext &context, ServerConnection *connection, StreamId id,
                         const TunnelRequest &request, const QString &logId, QObject *parent)
    : QObject(parent)
    , m_context(context)
    , m_streamId(id)
    , m_connection(connection)
    , m_request(request)
    , m_transport(connection->kind())
    , m_logId(logId)
    , m_client(formatEndpoint(connection->peerAddress(), connection->peerPort()))
{
    m_age.start();
}

ProxyTunnel::~ProxyTunnel()
{
    if (m_handlerSet && m_connection)
        m_connection->clearStreamHandler(m_streamId);
}

void ProxyTunnel::start()
{
    if (!m_connection) {
        finish(Error(ErrorCode::ConnectionClosed, QStringLiteral("connection gone")));
        return;
    }
    if (Status set = m_connection->setStreamHandler(m_streamId, this); !set) {
        finish(set.error());
        return;
    }
    m_handlerSet = true;
    // setStreamHandler() replays kept events: a reset that came first has finished us.
    if (m_state == State::Closed)
        return;
    startSetup();
}

bool ProxyTunnel::accept(bool capsules, const QString &peer)
{
    if (m_state != State::Setup)
        return false;
    if (!m_connection) {
        finish(Error(ErrorCode::ConnectionClosed, QStringLiteral("connection gone")));
        return false;
    }
    Response response;
    response.status = 200;
    if (capsules) // RFC 9297, 3.4: the response confirms the Capsule Protocol
        response.headers.append(Header{"capsule-protocol", "?1"});
    if (Status sent = m_connection->submitResponse(m_streamId, response, false); !sent) {
        finish(sent.error());
        return false;
    }
    m_state = State::Open;
    m_age.restart();
    m_context.metrics.tunnelOpened(m_request.protocol, m_transport);
    logTunnelOpen(
        TunnelLogFields{m_logId, m_client, m_transport,
                        QLatin1StringView(ProxyMetrics::protocolLabel(m_request.protocol)),
                        m_request.target()},
        peer);
    return true;
}

void ProxyTunnel::refuse(const Error &reason)
{
    if (m_state != State::Setup)
        return;
    const RefusalMessage message = buildRefusal(reason, m_context.config.proxyName);
    sendRefusal(m_connection.data(), m_streamId, message);
    m_context.metrics.rejected(reason.name());
    logTunnelRefused(
        TunnelLogFields{m_logId, m_client, m_transport,
                        QLatin1StringView(ProxyMetrics::protocolLabel(m_request.protocol)),
                        m_request.target()},
        message.response.status, reason);
    finish(reason);
}

void ProxyTunnel::finish(const Error &reason)
{
    if (m_state == State::Closed)
        return;
    const bool wasOpen = m_state == State::Open;
    m_state = State::Closed;
    if (m_handlerSet && m_connection)
        m_connection->clearStreamHandler(m_streamId);
    m_handlerSet = false;
    const ProxyTunnelCounters traffic = counters();
    const quint64 drops = dropCount();
    releaseResources();
    m_context.metrics.tunnelClosed(m_request.protocol, m_transport, wasOpen,
                                   double(m_age.elapsed()) / 1000.0, traffic);
    if (wasOpen) {
        logTunnelClose(
            TunnelLogFields{m_logId, m_client, m_transport,
                            QLatin1StringView(ProxyMetrics::protocolLabel(m_request.protocol)),
                            m_request.target()},
            reason, m_age.elapsed(), traffic, drops);
    }
    Q_EMIT finished(this);
    deleteLater(); // we may be inside a transport or socket callback
}

void ProxyTunnel::abort(StreamResetReason resetReason, const Error &reason)
{
    if (m_state == State::Closed)
        return;
    if (m_connection) {
        if (m_handlerSet)
            m_connection->clearStreamHandler(m_streamId);
        m_handlerSet = false;
        m_connection->resetStream(m_streamId, resetReason);
    }
    finish(reason);
}

void ProxyTunnel::terminate(const Error &reason)
{
    abort(StreamResetReason::Cancel, reason);
}

void ProxyTunnel::onStreamResponse(StreamId, const Response &) {}

void ProxyTunnel::onStreamReset(StreamId, const Error &reason)
{
    // The stream is gone already: nothing to reset or clear.
    m_handlerSet = false;
    finish(reason);
}

void ProxyTunnel::onConnectionClosed(StreamId, const Error &reason)
{
    m_handlerSet = false;
    finish(Error(ErrorCode::ConnectionClosed, reason.toString()));
}

} // namespace qmasque
