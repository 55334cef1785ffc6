#pragma once

#include "api/EngineEvents.h"

#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QPointF>

namespace qmasque::ui {

// TrafficHistory: the chart data, derived from successive snapshots. Rates are byte-counter
// deltas divided by the time between snapshots (PoolSnapshot::takenAtMs), over the last second
// (`rateSpanMs`; four snapshots at 4 Hz) so one busy or quiet tick does not make the rate jump.
// Points are (x = wall-clock ms since the Unix epoch, y = value) and older than `windowMs` behind
// the newest snapshot are dropped. Per connection: wire throughput, smoothed and minimum RTT; a
// connection's series outlive the connection by one window (a closed connection stays inspectable).
// A counter that goes backwards (engine restarted) restarts the rate without a spike. GUI thread
// only.
class TrafficHistory
{
public:
    struct Rates
    {
        double upBytesPerSecond = 0;
        double downBytesPerSecond = 0;
        bool valid = false; // false until two snapshots were seen
    };

    // RateWindow: byte counters over the last `span` ms, and the rate across them.
    class RateWindow
    {
    public:
        // add: a reading at `timeMs`; returns the rate since the oldest reading within the span
        // (invalid for the first reading, and after a counter went backwards).
        Rates add(qint64 timeMs, quint64 sent, quint64 received, qint64 spanMs);

    private:
        struct Reading
        {
            qint64 timeMs;
            quint64 sent;
            quint64 received;
        };
        QList<Reading> m_readings; // ascending time
    };

    struct ConnectionSeries
    {
        QList<QPointF> up; // bytes per second
        QList<QPointF> down;
        QList<QPointF> rttMs; // smoothed RTT, ms
        QList<QPointF> minRttMs;
        Rates rates;
        qint64 lastSeenMs = 0;
        RateWindow counters;
    };

    static constexpr qint64 kRateSpanMs = 1000;

    explicit TrafficHistory(qint64 windowMs = 5 * 60 * 1000);

    // add: one snapshot. `fallbackNowMs` is used when the snapshot carries no time.
    void add(const EngineSnapshot &snapshot, qint64 fallbackNowMs);
    void clear();

    qint64 windowMs() const { return m_windowMs; }
    qint64 latestMs() const { return m_latestMs; }
    Rates poolRates() const { return m_rates; }
    const QList<QPointF> &poolUp() const { return m_up; }
    const QList<QPointF> &poolDown() const { return m_down; }
    const QList<QPointF> &activeTunnels() const { return m_tunnels; }
    // connection: the series of one connection, nullptr when unknown.
    const ConnectionSeries *connection(quint64 connectionId) const;

private:
    void addConnection(const ConnectionSnapshot &connection, qint64 nowMs);
    void trim(QList<QPointF> &points) const;

    qint64 m_windowMs;
    qint64 m_latestMs = 0;
    RateWindow m_counters;
    Rates m_rates;
    QList<QPointF> m_up;
    QList<QPointF> m_down;
    QList<QPointF> m_tunnels;
    QHash<quint64, ConnectionSeries> m_connections;
};

} // namespace qmasque::ui
