#include "service/EngineMetrics.h"

#include "tunnel/TunnelSession.h"

namespace qmasque {

namespace {

using Type = MetricsRegistry::Type;

QByteArray transportLabel(TransportKind transport)
{
    return QByteArray(transportKindName(transport));
}

} // namespace

void TrafficTotals::add(const TunnelCounters &counters)
{
    bytesSent += counters.bytesSent;
    bytesReceived += counters.bytesReceived;
    datagramsSent += counters.datagramsSent;
    datagramsReceived += counters.datagramsReceived;
    const std::pair<const char *, quint64> reasons[] = {
        {"too_large", counters.dropTooLarge},
        {"queue_full", counters.dropQueueFull},
        {"unknown_context", counters.dropUnknownContext},
        {"malformed", counters.dropMalformed},
        {"oversized", counters.dropOversized},
        {"early", counters.dropEarly},
        {"no_receiver", counters.dropNoReceiver},
    };
    for (const auto &[reason, count] : reasons) {
        if (count > 0)
            drops[QByteArray(reason)] += count;
    }
}

void TrafficTotals::add(const TrafficTotals &other)
{
    bytesSent += other.bytesSent;
    bytesReceived += other.bytesReceived;
    datagramsSent += other.datagramsSent;
    datagramsReceived += other.datagramsReceived;
    for (auto it = other.drops.cbegin(); it != other.drops.cend(); ++it)
        drops[it.key()] += it.value();
}

EngineMetrics::EngineMetrics()
{
    m_registry.declare("qmasque_upstream_connections", "Upstream proxy connections, by state",
                       Type::Gauge, {"transport", "state"});
    m_registry.declare("qmasque_dials", "Upstream connection dials started", Type::Counter);
    m_registry.declare("qmasque_dials_failed", "Upstream connection dials that failed",
                       Type::Counter);
    m_registry.declare("qmasque_tunnels_open", "Tunnels open now", Type::Gauge,
                       {"protocol", "transport"});
    m_registry.declare("qmasque_tunnels_opened", "Tunnels opened (2xx received)", Type::Counter,
                       {"protocol", "transport"});
    m_registry.declare("qmasque_tunnels_failed",
                       "Tunnel races that failed, by the transport whose error was reported",
                       Type::Counter, {"protocol", "transport"});
    m_registry.declare("qmasque_tunnels_closed", "Opened tunnels that ended, by reason",
                       Type::Counter, {"protocol", "transport", "reason"});
    m_registry.declare("qmasque_tunnel_open_errors", "Failed tunnel opens, by error", Type::Counter,
                       {"reason"});
    m_registry.declare("qmasque_tunnel_open_latency_seconds", "Tunnel request sent to 2xx received",
                       Type::Histogram, {"transport"},
                       {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
    m_registry.declare("qmasque_races", "Transport races, by winner (none: every attempt failed)",
                       Type::Counter, {"winner"});
    m_registry.declare("qmasque_bytes_sent", "Tunnel payload bytes sent (local to proxy)",
                       Type::Counter);
    m_registry.declare("qmasque_bytes_received", "Tunnel payload bytes received (proxy to local)",
                       Type::Counter);
    m_registry.declare("qmasque_datagrams_sent", "Datagrams and IP packets sent into tunnels",
                       Type::Counter);
    m_registry.declare("qmasque_datagrams_received",
                       "Datagrams and IP packets received from tunnels", Type::Counter);
    m_registry.declare("qmasque_drops", "Datagrams or packets dropped, by reason", Type::Counter,
                       {"reason"});
    m_registry.declare("qmasque_local_clients", "Local clients served now, by listener",
                       Type::Gauge, {"listener"});
}

QByteArray EngineMetrics::protocolLabel(TunnelProtocol protocol)
{
    switch (protocol) {
    case TunnelProtocol::Udp:
        return QByteArrayLiteral("udp");
    case TunnelProtocol::Tcp:
        return QByteArrayLiteral("tcp");
    case TunnelProtocol::Ip:
        return QByteArrayLiteral("ip");
    }
    return QByteArrayLiteral("unknown");
}

void EngineMetrics::tunnelOpened(TunnelProtocol protocol, TransportKind transport,
                                 qint64 openLatencyUs)
{
    m_registry.add("qmasque_tunnels_opened", {protocolLabel(protocol), transportLabel(transport)});
    if (openLatencyUs >= 0)
        m_registry.observe("qmasque_tunnel_open_latency_seconds", {transportLabel(transport)},
                           double(openLatencyUs) / 1e6);
}

void EngineMetrics::tunnelClosed(const TunnelRecord &record)
{
    const QByteArray protocol = protocolLabel(record.protocol);
    const QByteArray transport = transportLabel(record.transport);
    if (record.openLatencyMs < 0) {
        m_registry.add("qmasque_tunnels_failed", {protocol, transport});
        return;
    }
    m_registry.add("qmasque_tunnels_closed", {protocol, transport, record.closeReason.toLatin1()});
}

void EngineMetrics::openFailed(const Error &error)
{
    m_registry.add("qmasque_tunnel_open_errors", {QByteArray(error.name())});
}

void EngineMetrics::raceFinished(const RaceRecord &record)
{
    if (record.winner) {
        m_registry.add("qmasque_races", {transportLabel(*record.winner)});
        return;
    }
    // A race cancelled by its user has neither a winner nor an error: not a race outcome.
    if (!record.error.isEmpty())
        m_registry.add("qmasque_races", {QByteArrayLiteral("none")});
}

void EngineMetrics::setCounter(const QByteArray &name, const MetricsRegistry::Labels &labels,
                               double total)
{
    const double delta = total - m_registry.value(name, labels);
    // delta 0 still adds the sample: a counter that never moved is exposed as 0, not absent.
    if (delta >= 0)
        m_registry.add(name, labels, delta);
}

QByteArray EngineMetrics::render(const Levels &levels, const QByteArray &extra)
{
    m_registry.clearSamples("qmasque_upstream_connections");
    QMap<QPair<QByteArray, QByteArray>, int> connections;
    for (const ConnectionSnapshot &connection : levels.snapshot.pool.connections)
        ++connections[{transportLabel(connection.transport),
                       QByteArray(connectionStateName(connection.state))}];
    for (const ConnectionSnapshot &connection : levels.snapshot.directConnections)
        ++connections[{transportLabel(connection.transport),
                       QByteArray(connectionStateName(connection.state))}];
    for (auto it = connections.cbegin(); it != connections.cend(); ++it)
        m_registry.set("qmasque_upstream_connections", {it.key().first, it.key().second},
                       it.value());

    m_registry.clearSamples("qmasque_tunnels_open");
    for (auto it = levels.openTunnels.cbegin(); it != levels.openTunnels.cend(); ++it)
        m_registry.set("qmasque_tunnels_open", {it.key().first, it.key().second}, it.value());

    m_registry.clearSamples("qmasque_local_clients");
    for (const auto &[listener, clients] : levels.localClients)
        m_registry.set("qmasque_local_clients", {listener}, clients);

    setCounter("qmasque_dials", {}, double(levels.dialsStarted));
    setCounter("qmasque_dials_failed", {}, double(levels.dialsFailed));
    setCounter("qmasque_bytes_sent", {}, double(levels.traffic.bytesSent));
    setCounter("qmasque_bytes_received", {}, double(levels.traffic.bytesReceived));
    setCounter("qmasque_datagrams_sent", {}, double(levels.traffic.datagramsSent));
    setCounter("qmasque_datagrams_received", {}, double(levels.traffic.datagramsReceived));
    for (auto it = levels.traffic.drops.cbegin(); it != levels.traffic.drops.cend(); ++it)
        setCounter("qmasque_drops", {it.key()}, double(it.value()));
    QMap<QByteArray, quint64> local;
    for (const auto &[reason, count] : levels.localDrops)
        local[reason] += count;
    for (auto it = local.cbegin(); it != local.cend(); ++it)
        setCounter("qmasque_drops", {it.key()}, double(it.value()));

    QByteArray text = m_registry.render();
    if (!extra.isEmpty()) {
        // One exposition, one "# EOF" (OpenMetrics 1.0): the other registry's families go
        // before ours ends.
        QByteArray other = extra;
        if (other.endsWith("# EOF\n"))
            other.chop(6);
        text.insert(text.size() - 6, other);
    }
    return text;
}

} // namespace qmasque
