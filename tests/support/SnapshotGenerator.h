#pragma once

#include "api/EngineEvents.h"

#include <QtCore/QList>
#include <QtCore/QRandomGenerator>
#include <QtCore/QString>

namespace qmasque::test {

// SnapshotGeneratorConfig: the shape of the synthetic traffic. The generator keeps `connections`
// pooled h2/h3 connections alive (replacing those that drain or idle out), keeps about
// `streamsPerConnection` tunnels on each, and `directConnections` h1 tunnels beside the pool.
struct SnapshotGeneratorConfig
{
    int connections = 6;
    int streamsPerConnection = 12;
    int directConnections = 2;
    double h3Share = 0.7;           // fraction of new pooled connections dialed as h3
    double changeFraction = 0.1;    // fraction of open streams whose counters move each tick
    double streamChurn = 0.02;      // chance per tick that an open stream starts closing
    double connectionChurn = 0.004; // chance per tick that a ready connection receives GOAWAY
    double failureRate = 0.05;      // fraction of new tunnels the proxy refuses
    double idleChance = 0.003;      // chance per tick that a connection's tunnels all end (idle)
    qint64 intervalMs = 250;        // the tick length `next()` advances by
    qint64 idleTimeoutMs = 30000;   // an unused connection closes after this
    quint32 seed = 1;
    QString proxyHost = QStringLiteral("proxy.example.net");
    quint16 proxyPort = 443;
};

// SnapshotGenerator: realistic synthetic EngineSnapshots for the dashboard's tests, benchmark and
// preview. Every tick moves time forward; connections dial, become ready, fill up, drain after a
// GOAWAY, idle out and close; streams connect, open (or are refused with a Proxy-Status), carry
// bytes and datagrams, close; ids are never reused. Closed tunnels, races and log lines made
// since the last take*() are kept for the caller (bounded by what one tick can create).
// Deterministic for a given config and seed. Not thread-safe; use it from one thread.
class SnapshotGenerator
{
public:
    explicit SnapshotGenerator(const SnapshotGeneratorConfig &config, qint64 startMs = 0);

    // next: advances by config.intervalMs (or to `nowMs`, wall clock) and returns the snapshot.
    EngineSnapshot next();
    EngineSnapshot next(qint64 nowMs);
    // current: the last snapshot returned (an empty Running snapshot before the first tick).
    const EngineSnapshot &current() const { return m_snapshot; }

    // The events of the ticks since the last call.
    QList<TunnelRecord> takeClosedTunnels();
    QList<RaceRecord> takeRaces();
    QList<LogEntry> takeLogs();

    // Commands, as the engine would apply them: the stream closes at the next tick (a record with
    // close reason local_close), the connection receives GOAWAY (direct: closes). False when the
    // id is unknown.
    bool closeStream(quint64 connectionId, qint64 streamId);
    bool closeConnection(quint64 connectionId);

    const SnapshotGeneratorConfig &config() const { return m_config; }
    qint64 nowMs() const { return m_nowMs; }

private:
    struct Stream
    {
        StreamSnapshot snapshot;
        quint64 tunnelId = 0;
        qint64 openedAtMs = 0;
        int ticksInState = 0;
        bool refused = false;
        bool closeRequested = false;
        quint64 rateUp = 0; // bytes per tick while active
        quint64 rateDown = 0;
    };
    struct Connection
    {
        ConnectionSnapshot snapshot; // streams kept in `streams` and copied out per tick
        QList<Stream> streams;
        bool direct = false;
        int targetStreams = 0; // the generator opens streams until this many are in use
        qint64 baseRttUs = 0;  // the path's RTT the measured one wanders around
        int ticksInState = 0;
        qint64 nextStreamId = 0;
        qint64 createdAtMs = 0;
    };

    void tick(qint64 elapsedMs);
    void tickConnection(Connection &connection, qint64 elapsedMs);
    void tickStream(Connection &connection, Stream &stream);
    void openStreams(Connection &connection);
    void addConnection(bool direct, bool warm);
    Stream makeStream(Connection &connection, bool warm);
    void closeStreamRecord(const Connection &connection, const Stream &stream,
                           const QString &reason, const QString &detail);
    void raceFor(const Connection &connection, const QString &target);
    void setConnectionState(Connection &connection, ConnectionState state);
    void bumpStream(Connection &connection, Stream &stream);
    void log(QtMsgType level, const char *category, const QString &message);
    void rebuildSnapshot();
    double uniform() { return m_random.generateDouble(); }
    quint64 between(quint64 low, quint64 high) { return m_random.bounded(low, high + 1); }

    SnapshotGeneratorConfig m_config;
    QRandomGenerator m_random;
    qint64 m_nowMs = 0;
    quint64 m_nextConnectionId = 1;
    quint64 m_nextTunnelId = 1;
    QList<Connection> m_connections; // pooled and direct, by id
    EngineSnapshot m_snapshot;
    QList<TunnelRecord> m_closed;
    QList<RaceRecord> m_races;
    QList<LogEntry> m_logs;
    PoolCounters m_counters;
    quint64 m_tunnelsOpened = 0;
    quint64 m_tunnelsFailed = 0;
    quint64 m_bytesSent = 0; // all tunnels ever
    quint64 m_bytesReceived = 0;
};

} // namespace qmasque::test
