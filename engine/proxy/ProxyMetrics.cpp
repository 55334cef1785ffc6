#include "proxy/ProxyMetrics.h"

namespace qmasque {

namespace {

using Labels = MetricsRegistry::Labels;

QByteArray transportLabel(TransportKind transport)
{
    return QByteArray(transportKindName(transport));
}

void adjustGauge(MetricsRegistry &registry, const QByteArray &name, const Labels &labels,
                 double delta)
{
    registry.set(name, labels, registry.value(name, labels) + delta);
}

} // namespace

ProxyMetrics::ProxyMetrics()
{
    using Type = MetricsRegistry::Type;
    m_registry.declare("qmasque_proxy_connections", "Client connections accepted", Type::Counter,
                       {"transport"});
    m_registry.declare("qmasque_proxy_connections_active", "Client connections open", Type::Gauge,
                       {"transport"});
    m_registry.declare("qmasque_proxy_tunnels", "Tunnels accepted (2xx sent)", Type::Counter,
                       {"protocol", "transport"});
    m_registry.declare("qmasque_proxy_tunnels_active", "Tunnels open", Type::Gauge,
                       {"protocol", "transport"});
    m_registry.declare("qmasque_proxy_tunnel_duration_seconds", "Lifetime of accepted tunnels",
                       Type::Histogram, {"protocol", "transport"},
                       {0.01, 0.1, 1, 10, 60, 600, 3600});
    m_registry.declare("qmasque_proxy_rejections", "Tunnel requests refused, by reason",
                       Type::Counter, {"reason"});
    m_registry.declare("qmasque_proxy_bytes_up", "Payload bytes from clients to targets",
                       Type::Counter, {"protocol", "transport"});
    m_registry.declare("qmasque_proxy_bytes_down", "Payload bytes from targets to clients",
                       Type::Counter, {"protocol", "transport"});
    m_registry.declare("qmasque_proxy_datagrams_dropped", "HTTP datagrams dropped, by reason",
                       Type::Counter, {"protocol", "reason"});
    m_registry.declare("qmasque_proxy_ip_packets_dropped", "CONNECT-IP packets dropped, by reason",
                       Type::Counter, {"reason"});
}

const char *ProxyMetrics::protocolLabel(TunnelProtocol protocol) noexcept
{
    switch (protocol) {
    case TunnelProtocol::Udp:
        return "udp";
    case TunnelProtocol::Tcp:
        return "tcp";
    case TunnelProtocol::Ip:
        return "ip";
    }
    return "unknown";
}

void ProxyMetrics::connectionOpened(TransportKind transport)
{
    ++m_totals.connectionsTotal;
    ++m_totals.connectionsActive;
    m_registry.add("qmasque_proxy_connections", {transportLabel(transport)});
    adjustGauge(m_registry, "qmasque_proxy_connections_active", {transportLabel(transport)}, 1);
}

void ProxyMetrics::connectionClosed(TransportKind transport)
{
    --m_totals.connectionsActive;
    adjustGauge(m_registry, "qmasque_proxy_connections_active", {transportLabel(transport)}, -1);
}

void ProxyMetrics::tunnelOpened(TunnelProtocol protocol, TransportKind transport)
{
    ++m_totals.tunnelsTotal;
    ++m_totals.tunnelsActive;
    ++m_totals.tunnelsByProtocol[int(protocol)];
    const Labels labels{protocolLabel(protocol), transportLabel(transport)};
    m_registry.add("qmasque_proxy_tunnels", labels);
    adjustGauge(m_registry, "qmasque_proxy_tunnels_active", labels, 1);
}

void ProxyMetrics::tunnelClosed(TunnelProtocol protocol, TransportKind transport, bool wasOpen,
                                double durationSeconds, const ProxyTunnelCounters &counters)
{
    m_totals.bytesUp += counters.bytesUp;
    m_totals.bytesDown += counters.bytesDown;
    m_totals.datagramsUp += counters.datagramsUp;
    m_totals.datagramsDown += counters.datagramsDown;
    const Labels labels{protocolLabel(protocol), transportLabel(transport)};
    if (counters.bytesUp > 0)
        m_registry.add("qmasque_proxy_bytes_up", labels, double(counters.bytesUp));
    if (counters.bytesDown > 0)
        m_registry.add("qmasque_proxy_bytes_down", labels, double(counters.bytesDown));
    if (!wasOpen)
        return;
    --m_totals.tunnelsActive;
    adjustGauge(m_registry, "qmasque_proxy_tunnels_active", labels, -1);
    m_registry.observe("qmasque_proxy_tunnel_duration_seconds", labels, durationSeconds);
}

void ProxyMetrics::rejected(const char *reason)
{
    ++m_totals.rejections;
    m_registry.add("qmasque_proxy_rejections", {QByteArray(reason)});
}

void ProxyMetrics::datagramsDropped(TunnelProtocol protocol, const char *reason, quint64 count)
{
    if (count == 0)
        return;
    m_totals.datagramsDropped += count;
    m_registry.add("qmasque_proxy_datagrams_dropped",
                   {QByteArray(protocolLabel(protocol)), QByteArray(reason)}, double(count));
}

void ProxyMetrics::ipPacketsDropped(const char *reason, quint64 count)
{
    if (count == 0)
        return;
    m_totals.ipPacketsDropped += count;
    m_registry.add("qmasque_proxy_ip_packets_dropped", {QByteArray(reason)}, double(count));
}

} // namespace qmasque
