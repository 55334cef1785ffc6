#pragma once

#include "api/EngineEvents.h"
#include "api/Error.h"
#include "core/MetricsRegistry.h"

#include <QtCore/QByteArray>
#include <QtCore/QMap>

namespace qmasque {

struct TunnelCounters;

// TrafficTotals: tunnel payload and drops summed over tunnels (closed ones plus the open ones at
// the moment). Drops are keyed by reason ("queue_full", "too_large", ...).
struct TrafficTotals
{
    quint64 bytesSent = 0;
    quint64 bytesReceived = 0;
    quint64 datagramsSent = 0;
    quint64 datagramsReceived = 0;
    QMap<QByteArray, quint64> drops;

    void add(const TunnelCounters &counters);
    void add(const TrafficTotals &other);
};

// EngineMetrics: the client's OpenMetrics families (README, "Metrics"). Events are counted as
// they happen (a tunnel opened, failed or closed, a race); levels and byte totals are taken
// from the engine snapshot and the traffic totals when a scrape renders. Engine thread only.
class EngineMetrics
{
public:
    EngineMetrics();

    void tunnelOpened(TunnelProtocol protocol, TransportKind transport, qint64 openLatencyUs);
    // tunnelClosed: every record TunnelClient reports: an opened tunnel's end, or a failed race
    // (openLatencyMs == -1), counted as failed.
    void tunnelClosed(const TunnelRecord &record);
    // openFailed: every failed open, by error name (also those refused before racing).
    void openFailed(const Error &error);
    void raceFinished(const RaceRecord &record);

    // Everything a scrape needs besides the event counters.
    struct Levels
    {
        EngineSnapshot snapshot;
        QMap<QPair<QByteArray, QByteArray>, int> openTunnels; // (protocol, transport) -> count
        TrafficTotals traffic;
        quint64 dialsStarted = 0; // since the engine was created (over restarts)
        quint64 dialsFailed = 0;
        QList<QPair<QByteArray, quint64>> localDrops; // front ends' own drops
        QList<QPair<QByteArray, int>> localClients;   // listener description -> clients
    };
    // render: the OpenMetrics text; `extra` (another registry's text, e.g. the embedded demo
    // proxy's) is inserted before the final "# EOF".
    QByteArray render(const Levels &levels, const QByteArray &extra = {});

    static QByteArray protocolLabel(TunnelProtocol protocol);

    const MetricsRegistry &registry() const noexcept { return m_registry; }

private:
    void setCounter(const QByteArray &name, const MetricsRegistry::Labels &labels, double total);

    MetricsRegistry m_registry;
};

} // namespace qmasque
