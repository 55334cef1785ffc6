#include "ui/TrafficHistory.h"

namespace qmasque::ui {

namespace {

// rate: bytes per second between two counter readings; 0 when the counter went backwards.
double rate(quint64 now, quint64 before, qint64 elapsedMs)
{
    if (elapsedMs <= 0 || now < before)
        return 0;
    return double(now - before) * 1000.0 / double(elapsedMs);
}

} // namespace

TrafficHistory::TrafficHistory(qint64 windowMs)
    : m_windowMs(windowMs)
{}

void TrafficHistory::add(const EngineSnapshot &snapshot, qint64 fallbackNowMs)
{
    const qint64 now = snapshot.pool.takenAtMs > 0 ? snapshot.pool.takenAtMs : fallbackNowMs;
    if (m_havePrevious && now <= m_lastSampleMs)
        return; // a repeated or out-of-order snapshot adds no information
    m_latestMs = now;

    if (m_havePrevious) {
        const qint64 elapsed = now - m_lastSampleMs;
        m_rates.upBytesPerSecond = rate(snapshot.bytesSent, m_lastSent, elapsed);
        m_rates.downBytesPerSecond = rate(snapshot.bytesReceived, m_lastReceived, elapsed);
        m_rates.valid = true;
        m_up << QPointF(double(now), m_rates.upBytesPerSecond);
        m_down << QPointF(double(now), m_rates.downBytesPerSecond);
    }
    m_havePrevious = true;
    m_lastSampleMs = now;
    m_lastSent = snapshot.bytesSent;
    m_lastReceived = snapshot.bytesReceived;

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
    if (series.lastSampleMs > 0) {
        const qint64 elapsed = nowMs - series.lastSampleMs;
        series.rates.upBytesPerSecond = rate(stats.bytesSent, series.lastSent, elapsed);
        series.rates.downBytesPerSecond = rate(stats.bytesReceived, series.lastReceived, elapsed);
        series.rates.valid = true;
        series.up << QPointF(double(nowMs), series.rates.upBytesPerSecond);
        series.down << QPointF(double(nowMs), series.rates.downBytesPerSecond);
    }
    if (stats.smoothedRttUs >= 0)
        series.rttMs << QPointF(double(nowMs), double(stats.smoothedRttUs) / 1000.0);
    if (stats.minRttUs >= 0)
        series.minRttMs << QPointF(double(nowMs), double(stats.minRttUs) / 1000.0);
    series.lastSeenMs = nowMs;
    series.lastSampleMs = nowMs;
    series.lastSent = stats.bytesSent;
    series.lastReceived = stats.bytesReceived;
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
