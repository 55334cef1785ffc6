#include "ui/DashboardController.h"

#include "ui/ClosedTunnelModel.h"
#include "ui/ConnectionModel.h"
#include "ui/EngineLink.h"
#include "ui/LogModel.h"
#include "ui/RaceModel.h"

#include <QtCore/QDateTime>
#include <QtCore/QElapsedTimer>
#include <QtCore/QTimer>

namespace qmasque::ui {

namespace {

constexpr int kFlushIntervalMs = 200;

// appendBounded: appends and drops the oldest beyond `capacity`.
template<typename T>
void appendBounded(QList<T> &list, const T &value, qsizetype capacity)
{
    list.append(value);
    if (list.size() > capacity)
        list.remove(0, list.size() - capacity);
}

} // namespace

DashboardController::DashboardController(EngineControl *engine, QObject *parent)
    : QObject(parent)
    , m_link(new EngineLink(engine, this))
    , m_connections(new ConnectionModel(this))
    , m_streams(new StreamModel(this))
    , m_closed(new ClosedTunnelModel(this))
    , m_races(new RaceModel(this))
    , m_log(new LogModel(this))
    , m_flushTimer(new QTimer(this))
{
    m_flushTimer->setSingleShot(true);
    m_flushTimer->setInterval(kFlushIntervalMs);
    m_flushTimer->setTimerType(Qt::CoarseTimer);
    connect(m_flushTimer, &QTimer::timeout, this, &DashboardController::flushEvents);
    connect(m_link, &EngineLink::snapshotReady, this, &DashboardController::handleSnapshot);
    connect(m_link, &EngineLink::stateChanged, this, &DashboardController::handleState);
    connect(m_link, &EngineLink::tunnelClosed, this, &DashboardController::handleTunnelClosed);
    connect(m_link, &EngineLink::raceFinished, this, &DashboardController::handleRace);
    connect(m_link, &EngineLink::logged, this, &DashboardController::handleLog);
}

DashboardController::~DashboardController() = default;

void DashboardController::setPaused(bool paused)
{
    if (paused == m_paused)
        return;
    m_paused = paused;
    if (!paused)
        flushEvents();
    Q_EMIT pausedChanged(paused);
}

void DashboardController::setDarkPalette(bool dark)
{
    m_connections->setDarkPalette(dark);
    m_streams->setDarkPalette(dark);
    m_closed->setDarkPalette(dark);
    m_log->setDarkPalette(dark);
}

void DashboardController::start(const Profile &profile)
{
    m_link->start(profile);
}

void DashboardController::stop()
{
    m_link->stop();
}

void DashboardController::closeStream(const StreamKey &key)
{
    m_link->closeStream(key.connectionId, key.streamId);
}

void DashboardController::closeStreams(const QList<StreamKey> &keys)
{
    for (const StreamKey &key : keys)
        m_link->closeStream(key.connectionId, key.streamId);
}

void DashboardController::closeConnection(quint64 connectionId)
{
    m_link->closeConnection(connectionId);
}

void DashboardController::closeAll()
{
    const auto closeEvery = [this](const QList<ConnectionSnapshot> &connections) {
        for (const ConnectionSnapshot &connection : connections) {
            for (const StreamSnapshot &stream : connection.streams)
                m_link->closeStream(connection.id, stream.streamId);
        }
    };
    closeEvery(m_latest.pool.connections);
    closeEvery(m_latest.directConnections);
}

void DashboardController::setSnapshotInterval(int milliseconds)
{
    m_link->setSnapshotInterval(milliseconds);
}

void DashboardController::handleSnapshot(const EngineSnapshot &snapshot)
{
    QElapsedTimer timer;
    timer.start();
    m_latest = snapshot;
    if (snapshot.state == EngineState::Stopped || snapshot.state == EngineState::Failed) {
        m_latest.pool.connections.clear();
        m_latest.directConnections.clear();
    }
    if (!m_paused) {
        m_connections->apply(m_latest);
        m_streams->apply(m_latest);
        ++m_applied;
    }
    m_history.add(snapshot, QDateTime::currentMSecsSinceEpoch());

    DashboardSummary &s = m_summary;
    s.profileName = snapshot.profileName;
    s.proxy = snapshot.proxy;
    s.listeners = snapshot.listeners;
    s.connections = m_latest.pool.connections.size();
    s.directTunnels = m_latest.directConnections.size();
    s.activeTunnels = s.directTunnels;
    for (const ConnectionSnapshot &connection : std::as_const(m_latest.pool.connections))
        s.activeTunnels += connection.streams.size();
    s.dials = snapshot.pool.totals.dials;
    s.waiters = snapshot.pool.totals.waiters;
    s.tunnelsOpened = snapshot.tunnelsOpened;
    s.tunnelsFailed = snapshot.tunnelsFailed;
    s.bytesSent = snapshot.bytesSent;
    s.bytesReceived = snapshot.bytesReceived;
    s.rates = m_history.poolRates();

    if (!m_paused)
        flushEvents(); // closed tunnels and the rows they left vanish together
    m_lastSnapshotNs = timer.nsecsElapsed();
    Q_EMIT snapshotProcessed();
    // EngineControl::acknowledgeSnapshot: the engine builds the next snapshot only after this.
    m_link->acknowledgeSnapshot();
}

void DashboardController::handleState(EngineState state, const Error &error)
{
    m_state = state;
    m_error = error;
    if (state == EngineState::Stopped || state == EngineState::Failed)
        clearLiveTables();
    Q_EMIT stateChanged(state, error);
}

void DashboardController::clearLiveTables()
{
    m_latest.pool.connections.clear();
    m_latest.directConnections.clear();
    m_connections->clear();
    m_streams->clear();
    m_summary.connections = 0;
    m_summary.directTunnels = 0;
    m_summary.activeTunnels = 0;
    m_summary.dials = 0;
    m_summary.waiters = 0;
    m_summary.rates = {};
}

void DashboardController::handleTunnelClosed(const TunnelRecord &record)
{
    appendBounded(m_pendingClosed, record, m_closed->capacity());
    scheduleFlush();
}

void DashboardController::handleRace(const RaceRecord &record)
{
    appendBounded(m_pendingRaces, record, RaceModel::kDefaultCapacity);
    scheduleFlush();
}

void DashboardController::handleLog(const LogEntry &entry)
{
    appendBounded(m_pendingLog, entry, m_log->capacity());
    scheduleFlush();
}

void DashboardController::scheduleFlush()
{
    if (!m_flushTimer->isActive())
        m_flushTimer->start();
}

void DashboardController::flushEvents()
{
    m_flushTimer->stop();
    if (!m_paused && !m_pendingClosed.isEmpty())
        m_closed->append(std::exchange(m_pendingClosed, {}));
    if (!m_pendingRaces.isEmpty())
        m_races->append(std::exchange(m_pendingRaces, {}));
    if (!m_pendingLog.isEmpty())
        m_log->append(std::exchange(m_pendingLog, {}));
}

} // namespace qmasque::ui
