#pragma once

#include "api/Types.h"
#include "core/MetricsRegistry.h"

#include <QtCore/QByteArray>

namespace qmasque {

// ProxyStats: a value snapshot of the proxy's activity (MasqueProxy::stats()). Byte counts are
// tunnel payload bytes: "up" from clients towards targets, "down" the other way; they include
// the live tunnels.
struct ProxyStats
{
    quint64 connectionsTotal = 0;
    quint64 connectionsActive = 0;
    quint64 tunnelsTotal = 0; // accepted
    quint64 tunnelsActive = 0;
    quint64 tunnelsByProtocol[3] = {0, 0, 0}; // accepted, indexed by TunnelProtocol
    quint64 rejections = 0;
    quint64 bytesUp = 0;
    quint64 bytesDown = 0;
    quint64 datagramsUp = 0;
    quint64 datagramsDown = 0;
    quint64 datagramsDropped = 0;
    quint64 ipPacketsDropped = 0;
};

// ProxyTunnelCounters: one tunnel's payload traffic ("up" = client to target).
struct ProxyTunnelCounters
{
    quint64 bytesUp = 0;
    quint64 bytesDown = 0;
    quint64 datagramsUp = 0;
    quint64 datagramsDown = 0;
};

// ProxyMetrics: the proxy's counters in a MetricsRegistry (OpenMetrics text via render(); the
// app may expose it). Families, all prefixed qmasque_proxy_:
//   connections_total{transport}, connections_active{transport}
//   tunnels_total{protocol,transport}       tunnels accepted (2xx sent)
//   tunnels_active{protocol,transport}
//   tunnel_duration_seconds{protocol,transport}   histogram, observed at close
//   rejections_total{reason}                 refusals by error name (forbidden, bad_path, ...)
//   bytes_up_total{protocol,transport}, bytes_down_total{protocol,transport}   at close
//   datagrams_dropped_total{protocol,reason} at close (too_large, queue_full, unknown_context,
//                                             malformed, send_failed)
//   ip_packets_dropped_total{reason}         at close (spoofed_source, out_of_scope, forbidden,
//                                             malformed, ttl_exceeded, too_large, no_route,
//                                             unanswered)
// Protocol labels are udp, tcp, ip; transports h1, h2, h3. Updated at events only (open, close,
// refusal), never per packet. Engine thread only.
class ProxyMetrics
{
public:
    ProxyMetrics();

    static const char *protocolLabel(TunnelProtocol protocol) noexcept;

    void connectionOpened(TransportKind transport);
    void connectionClosed(TransportKind transport);
    void tunnelOpened(TunnelProtocol protocol, TransportKind transport);
    // tunnelClosed: `wasOpen` false for tunnels that failed before the 2xx.
    void tunnelClosed(TunnelProtocol protocol, TransportKind transport, bool wasOpen,
                      double durationSeconds, const ProxyTunnelCounters &counters);
    void rejected(const char *reason);
    void datagramsDropped(TunnelProtocol protocol, const char *reason, quint64 count);
    void ipPacketsDropped(const char *reason, quint64 count);

    const MetricsRegistry &registry() const noexcept { return m_registry; }
    // totals: the closed part of ProxyStats (MasqueProxy adds the live tunnels).
    const ProxyStats &totals() const noexcept { return m_totals; }

private:
    MetricsRegistry m_registry;
    ProxyStats m_totals;
};

} // namespace qmasque
