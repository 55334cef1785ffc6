#pragma once

#include "api/EngineControl.h"
#include "ui/StreamModel.h"
#include "ui/TrafficHistory.h"

#include <QtCore/QObject>

class QTimer;

namespace qmasque::ui {

class ClosedTunnelModel;
class ConnectionModel;
class EngineLink;
class LogModel;
class RaceModel;

// DashboardSummary: what the status bar shows, from the last snapshot.
struct DashboardSummary
{
    QString profileName;
    QString proxy;
    QStringList listeners;
    qint64 connections = 0; // pooled connections
    qint64 directTunnels = 0;
    qint64 activeTunnels = 0; // streams on pooled connections + direct tunnels
    qint64 dials = 0;
    qint64 waiters = 0;
    quint64 tunnelsOpened = 0;
    quint64 tunnelsFailed = 0;
    quint64 bytesSent = 0;
    quint64 bytesReceived = 0;
    TrafficHistory::Rates rates;
};

// DashboardController: the dashboard's state, without widgets. It owns the models and the
// traffic history, applies each engine snapshot to them (keyed diffs), acknowledges every
// snapshot once applied or skipped, batches the event streams (closed tunnels, races, log lines)
// into one model update per 200 ms, and turns the user's actions into engine commands through
// EngineLink. "Paused" freezes the live tables and the closed list (records wait, bounded) while
// the charts, the status and the log keep going; snapshots are still acknowledged, so the
// engine never stalls. The engine is not owned. GUI thread only.
class DashboardController final : public QObject
{
    Q_OBJECT

public:
    explicit DashboardController(EngineControl *engine, QObject *parent = nullptr);
    ~DashboardController() override;

    ConnectionModel *connectionModel() const { return m_connections; }
    StreamModel *streamModel() const { return m_streams; }
    ClosedTunnelModel *closedModel() const { return m_closed; }
    RaceModel *raceModel() const { return m_races; }
    LogModel *logModel() const { return m_log; }
    const TrafficHistory &history() const { return m_history; }
    const DashboardSummary &summary() const { return m_summary; }
    EngineState state() const { return m_state; }
    const Error &lastError() const { return m_error; }
    bool isPaused() const { return m_paused; }
    // snapshotsApplied: snapshots applied to the tables (not counting paused ones).
    quint64 snapshotsApplied() const { return m_applied; }
    // lastSnapshotNs: how long handling the last snapshot took on the GUI thread (models,
    // proxies, history), in nanoseconds; the repaint it causes comes later.
    qint64 lastSnapshotNs() const { return m_lastSnapshotNs; }

    void setPaused(bool paused);
    void setDarkPalette(bool dark);

    // Commands (queued to the engine; none waits).
    void start(const Profile &profile);
    void stop();
    void closeStream(const StreamKey &key);
    void closeStreams(const QList<StreamKey> &keys);
    void closeConnection(quint64 connectionId);
    // closeAll: aborts every tunnel of the last snapshot (pooled streams and direct tunnels).
    void closeAll();
    void setSnapshotInterval(int milliseconds);

    // flushEvents: applies the batched closed tunnels, races and log lines now.
    void flushEvents();

Q_SIGNALS:
    void stateChanged(qmasque::EngineState state, const qmasque::Error &error);
    // snapshotProcessed: a snapshot was handled (applied, or only charted while paused).
    void snapshotProcessed();
    void pausedChanged(bool paused);

private:
    void handleSnapshot(const EngineSnapshot &snapshot);
    void handleState(EngineState state, const Error &error);
    void handleTunnelClosed(const TunnelRecord &record);
    void handleRace(const RaceRecord &record);
    void handleLog(const LogEntry &entry);
    void scheduleFlush();
    void clearLiveTables();

    EngineLink *m_link;             // child
    ConnectionModel *m_connections; // child
    StreamModel *m_streams;         // child
    ClosedTunnelModel *m_closed;    // child
    RaceModel *m_races;             // child
    LogModel *m_log;                // child
    QTimer *m_flushTimer;           // child
    TrafficHistory m_history;
    DashboardSummary m_summary;
    EngineSnapshot m_latest; // the last snapshot received (closeAll names its streams)
    EngineState m_state = EngineState::Stopped;
    Error m_error;
    bool m_paused = false;
    quint64 m_applied = 0;
    qint64 m_lastSnapshotNs = 0;
    QList<TunnelRecord> m_pendingClosed; // bounded by the closed model's capacity
    QList<RaceRecord> m_pendingRaces;
    QList<LogEntry> m_pendingLog;
};

} // namespace qmasque::ui
