#include "ui/TrafficHistory.h"

namespace qmasque::ui {

TrafficHistory::Rates TrafficHistory::RateWindow::add(qint64 timeMs, quint64 sent, quint64 received,
                                                      qint64 spanMs)
{
    if (!m_readings.isEmpty() &&
        (sent < m_readings.constLast().sent || received < m_readings.constLast().received ||
         timeMs <= m_readings.constLast().timeMs))
        m_readings.clear(); // restarted counters (or clock): start over, no spike
    m_readings.append({timeMs, sent, received});
    // Keep the newest reading at least `spanMs` old, and everything after it.
    while (m_readings.size() > 2 && m_readings.at(1).timeMs <= timeMs - spanMs)
        m_readings.removeFirst();
    if (m_readings.size() < 2)
        return {};
    const Reading &from = m_readings.constFirst();
    const double seconds = double(timeMs - from.timeMs) / 1000.0;
    return {double(sent - from.sent) / seconds, double(received - from.received) / seconds, true};
}

TrafficHistory::TrafficHistory(qint64 windowMs)
    : m_windowMs(windowMs)
{}

void TrafficHistory::add(const EngineSnapshot &snapshot, qint64 fallbackNowMs)
{
    const qint64 now = snapshot.pool.takenAtMs > 0 ? snapshot.pool.takenAtMs : fallbackNowMs;
    if (m_latestMs > 0 && now <= m_latestMs)
        return; // a repeated or out-of-order snapshot adds no information
    m_latestMs = now;

    m_rates = m_counters.add(now, snapshot.bytesSent, snapshot.bytesReceived, kRateSpanMs);
    if (m_rates.valid) {
        m_up << QPointF(double(now), m_rates.upBytesPerSecond);
        m_down << QPointF(double(now), m_rates.downBytesPerSecond);
    }

    qint64 tunnels = snapshot.directConnections.size();
    for (const ConnectionSnapshot &connection : snapshot.pool.connections)
        tunnels += connection.streams.size();
    m_tunnels << QPointF(double(now), double(tunnels));

    for (const ConnectionSnapshot &connection : snapshot.pool.connections)
        addConnection(connection, now);
    for (const ConnectionSnapshot &connection : snapshot.directConnections)
        addConnection(connection, now);

    trim(m_up);
    trim(m_down);
    trim(m_tunnels);
    for (auto it = m_connections.begin(); it != m_connections.end();) {
        if (now - it->lastSeenMs > m_windowMs) {
            it = m_connections.erase(it);
            continue;
        }
        trim(it->up);
        trim(it->down);
        trim(it->rttMs);
        trim(it->minRttMs);
        ++it;
    }
}

void TrafficHistory::addConnection(const ConnectionSnapshot &connection, qint64 nowMs)
{
    ConnectionSeries &series = m_connections[connection.id];
    const TransportStats &stats = connection.stats;
    series.rates = series.counters.add(nowMs, stats.bytesSent, stats.bytesReceived, kRateSpanMs);
    if (series.rates.valid) {
        series.up << QPointF(double(nowMs), series.rates.upBytesPerSecond);
        series.down << QPointF(double(nowMs), series.rates.downBytesPerSecond);
    }
    if (stats.smoothedRttUs >= 0)
        series.rttMs << QPointF(double(nowMs), double(stats.smoothedRttUs) / 1000.0);
    if (stats.minRttUs >= 0)
        series.minRttMs << QPointF(double(nowMs), double(stats.minRttUs) / 1000.0);
    series.lastSeenMs = nowMs;
}

void TrafficHistory::clear()
{
    *this = TrafficHistory(m_windowMs);
}

const TrafficHistory::ConnectionSeries *TrafficHistory::connection(quint64 connectionId) const
{
    const auto it = m_connections.constFind(connectionId);
    return it == m_connections.constEnd() ? nullptr : &*it;
}

void TrafficHistory::trim(QList<QPointF> &points) const
{
    const double cutoff = double(m_latestMs - m_windowMs);
    qsizetype stale = 0;
    while (stale < points.size() && points.at(stale).x() < cutoff)
        ++stale;
    if (stale > 0)
        points.remove(0, stale);
}

} // namespace qmasque::ui
