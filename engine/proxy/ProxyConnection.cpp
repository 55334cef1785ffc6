#include "proxy/ProxyConnection.h"

#include "core/Log.h"
#include "proxy/IpProxyTunnel.h"
#include "proxy/MasqueProxy.h"
#include "proxy/ProxyAuth.h"
#include "proxy/ProxyContext.h"
#include "proxy/ProxyLog.h"
#include "proxy/ProxyRefusal.h"
#include "proxy/ProxyRequest.h"
#include "proxy/TcpProxyTunnel.h"
#include "proxy/UdpProxyTunnel.h"

namespace qmasque {

ProxyConnection::ProxyConnection(MasqueProxy &proxy, ServerConnection *connection, quint64 id,
                                 QObject *parent)
    : QObject(parent)
    , m_proxy(proxy)
    , m_connection(connection)
    , m_id(id)
    , m_transport(connection->kind())
    , m_client(formatEndpoint(connection->peerAddress(), connection->peerPort()))
{
    connect(connection, &ServerConnection::requestReceived, this, &ProxyConnection::handleRequest);
    connect(connection, &HttpConnection::datagramReceived, this, &ProxyConnection::handleDatagram);
    connect(connection, &HttpConnection::closed, this, &ProxyConnection::handleClosed);
    m_proxy.context().metrics.connectionOpened(m_transport);
    qCDebug(lcProxy).noquote() << QStringLiteral("connection-open id=c%1 client=%2 transport=%3")
                                      .arg(m_id)
                                      .arg(m_client,
                                           QLatin1StringView(transportKindName(m_transport)));
}

ProxyConnection::~ProxyConnection()
{
    // Normally every tunnel is gone by now; make sure none outlives us half-registered.
    for (auto &[id, tunnel] : m_tunnels) {
        tunnel->disconnect(this);
        tunnel->onConnectionClosed(id, Error(ErrorCode::Shutdown, QStringLiteral("proxy stopped")));
    }
    if (!m_closed)
        m_proxy.context().metrics.connectionClosed(m_transport);
}

void ProxyConnection::handleRequest(StreamId id, const IncomingRequest &request)
{
    ProxyContext &context = m_proxy.context();
    const ProxyConfig &config = context.config;
    if (m_proxy.isDraining()) {
        refuse(id, request,
               Error(ErrorCode::Overload, QStringLiteral("the proxy is shutting down")));
        return;
    }
    if (qsizetype(m_tunnels.size()) >= config.maxTunnelsPerConnection) {
        refuse(id, request,
               Error(ErrorCode::Overload, QStringLiteral("%1 tunnels on this connection")
                                              .arg(config.maxTunnelsPerConnection)));
        return;
    }
    if (config.maxTunnels > 0 && context.tunnelsInFlight >= config.maxTunnels) {
        refuse(id, request,
               Error(ErrorCode::Overload,
                     QStringLiteral("%1 tunnels on this proxy").arg(config.maxTunnels)));
        return;
    }
    if (!m_proxy.auth().check(request.headers)) {
        refuse(id, request,
               Error(ErrorCode::AuthRequired, QStringLiteral("proxy authentication required")),
               m_proxy.auth().challenges());
        return;
    }
    auto parsed = m_proxy.parser().parse(request);
    if (!parsed) {
        refuse(id, request, parsed.error());
        return;
    }

    const QString logId = QStringLiteral("c%1/%2").arg(m_id).arg(id);
    ProxyTunnel *tunnel = nullptr;
    switch (parsed->protocol) {
    case TunnelProtocol::Udp:
        tunnel = new UdpProxyTunnel(context, m_connection.data(), id, *parsed, logId, this);
        break;
    case TunnelProtocol::Tcp:
        tunnel = new TcpProxyTunnel(context, m_connection.data(), id, *parsed, logId, this);
        break;
    case TunnelProtocol::Ip:
        tunnel = new IpProxyTunnel(context, m_connection.data(), id, *parsed, logId, this);
        break;
    }
    m_tunnels.emplace(id, tunnel);
    ++context.tunnelsInFlight;
    connect(tunnel, &ProxyTunnel::finished, this, &ProxyConnection::handleTunnelFinished);
    tunnel->start();
}

void ProxyConnection::refuse(StreamId id, const IncomingRequest &request, const Error &reason,
                             const HeaderList &extraHeaders)
{
    ProxyContext &context = m_proxy.context();
    const RefusalMessage message = buildRefusal(reason, context.config.proxyName, extraHeaders);
    sendRefusal(m_connection.data(), id, message);
    context.metrics.rejected(reason.name());
    // What the request asked for, as far as it can be told without trusting it.
    const QByteArray protocol = request.protocol.isEmpty() && request.method == "CONNECT"
                                    ? QByteArrayLiteral("tcp")
                                    : request.protocol.toLower().replace("connect-", "");
    const QByteArray target = request.protocol.isEmpty() ? request.authority : request.path;
    logTunnelRefused(TunnelLogFields{QStringLiteral("c%1/%2").arg(m_id).arg(id), m_client,
                                     m_transport,
                                     QString::fromLatin1(protocol.left(16)).remove(u' '),
                                     QString::fromLatin1(target.left(256)).remove(u' ')},
                     message.response.status, reason);
}

void ProxyConnection::handleDatagram(StreamId id, QByteArrayView payload)
{
    auto it = m_tunnels.find(id);
    if (it == m_tunnels.end()) {
        // RFC 9297, 2.1: a datagram for a stream we do not know (yet, or any more) is dropped.
        ++m_unknownDatagrams;
        return;
    }
    it->second->onDatagram(id, payload);
}

void ProxyConnection::handleTunnelFinished(ProxyTunnel *tunnel)
{
    auto it = m_tunnels.find(tunnel->streamId());
    if (it == m_tunnels.end() || it->second != tunnel)
        return;
    m_tunnels.erase(it);
    --m_proxy.context().tunnelsInFlight;
}

void ProxyConnection::handleClosed(const Error &reason)
{
    if (m_closed)
        return;
    m_closed = true;
    // Each tunnel finishes (and leaves the map through handleTunnelFinished).
    std::vector<std::pair<StreamId, ProxyTunnel *>> tunnels(m_tunnels.begin(), m_tunnels.end());
    for (auto &[id, tunnel] : tunnels)
        tunnel->onConnectionClosed(id, reason);
    m_proxy.context().metrics.connectionClosed(m_transport);
    qCDebug(lcProxy).noquote() << QStringLiteral("connection-close id=c%1 client=%2 reason=%3")
                                      .arg(m_id)
                                      .arg(m_client, QLatin1StringView(reason.name()));
    Q_EMIT finished(this);
}

void ProxyConnection::goaway()
{
    if (m_connection && !m_closed)
        m_connection->goaway();
}

void ProxyConnection::terminate(const Error &reason)
{
    std::vector<ProxyTunnel *> tunnels;
    for (auto &[id, tunnel] : m_tunnels)
        tunnels.push_back(tunnel);
    for (ProxyTunnel *tunnel : tunnels)
        tunnel->terminate(reason);
    if (m_connection && !m_closed)
        m_connection->close(); // closed() follows, queued
}

void ProxyConnection::addLiveCounters(quint64 *bytesUp, quint64 *bytesDown, quint64 *datagramsUp,
                                      quint64 *datagramsDown) const
{
    for (const auto &[id, tunnel] : m_tunnels) {
        const ProxyTunnelCounters counters = tunnel->counters();
        *bytesUp += counters.bytesUp;
        *bytesDown += counters.bytesDown;
        *datagramsUp += counters.datagramsUp;
        *datagramsDown += counters.datagramsDown;
    }
}

} // namespace qmasque
