#include "support/FakeEngine.h"

#include <QtCore/QDateTime>
#include <QtCore/QMutexLocker>
#include <QtCore/QTimer>

namespace qmasque::test {

FakeEngine::FakeEngine(QObject *parent)
    : EngineControl(parent)
    , m_timer(new QTimer(this))
{
    registerEngineMetaTypes();
    m_timer->setTimerType(Qt::PreciseTimer);
    m_timer->setInterval(m_intervalMs);
    connect(m_timer, &QTimer::timeout, this, &FakeEngine::handleTick);
}

FakeEngine::~FakeEngine() = default;

void FakeEngine::setGenerator(std::unique_ptr<SnapshotGenerator> generator)
{
    m_generator = std::move(generator);
}

QList<FakeEngine::Command> FakeEngine::commands() const
{
    QMutexLocker lock(&m_mutex);
    return m_commands;
}

QList<FakeEngine::Command> FakeEngine::commands(Command::Kind kind) const
{
    QMutexLocker lock(&m_mutex);
    QList<Command> out;
    for (const Command &command : m_commands) {
        if (command.kind == kind)
            out << command;
    }
    return out;
}

void FakeEngine::clearCommands()
{
    QMutexLocker lock(&m_mutex);
    m_commands.clear();
}

int FakeEngine::acknowledgements() const
{
    QMutexLocker lock(&m_mutex);
    return m_acknowledgements;
}

int FakeEngine::snapshotsPublished() const
{
    QMutexLocker lock(&m_mutex);
    return m_published;
}

int FakeEngine::ticksSkipped() const
{
    QMutexLocker lock(&m_mutex);
    return m_skipped;
}

bool FakeEngine::snapshotInFlight() const
{
    QMutexLocker lock(&m_mutex);
    return m_inFlight;
}

int FakeEngine::snapshotIntervalMs() const
{
    QMutexLocker lock(&m_mutex);
    return m_intervalMs;
}

void FakeEngine::publish(const EngineSnapshot &snapshot)
{
    {
        QMutexLocker lock(&m_mutex);
        m_inFlight = true;
        ++m_published;
    }
    Q_EMIT snapshotReady(snapshot);
}

void FakeEngine::emitState(EngineState state, const Error &error)
{
    m_state = state;
    Q_EMIT stateChanged(state, error);
}

void FakeEngine::start(const Profile &profile)
{
    Command command;
    command.kind = Command::Start;
    command.profile = profile;
    record(command);
    emitState(EngineState::Starting);
    // Running follows from the event loop, as the real engine's listeners open asynchronously.
    QTimer::singleShot(0, this, [this] {
        if (m_state != EngineState::Starting)
            return;
        emitState(EngineState::Running);
        if (m_generator)
            m_timer->start();
    });
}

void FakeEngine::stop()
{
    Command command;
    command.kind = Command::Stop;
    record(command);
    m_timer->stop();
    emitState(EngineState::Stopping);
    QTimer::singleShot(0, this, [this] {
        if (m_state == EngineState::Stopping)
            emitState(EngineState::Stopped);
    });
}

void FakeEngine::closeStream(quint64 connectionId, qint64 streamId)
{
    Command command;
    command.kind = Command::CloseStream;
    command.connectionId = connectionId;
    command.streamId = streamId;
    record(command);
    if (m_generator)
        m_generator->closeStream(connectionId, streamId);
}

void FakeEngine::closeConnection(quint64 connectionId)
{
    Command command;
    command.kind = Command::CloseConnection;
    command.connectionId = connectionId;
    record(command);
    if (m_generator)
        m_generator->closeConnection(connectionId);
}

void FakeEngine::setSnapshotInterval(int milliseconds)
{
    Command command;
    command.kind = Command::SetSnapshotInterval;
    command.intervalMs = milliseconds;
    record(command);
    {
        QMutexLocker lock(&m_mutex);
        m_intervalMs = milliseconds;
    }
    m_timer->setInterval(milliseconds);
}

void FakeEngine::acknowledgeSnapshot()
{
    QMutexLocker lock(&m_mutex);
    ++m_acknowledgements;
    m_inFlight = false;
}

void FakeEngine::record(const Command &command)
{
    QMutexLocker lock(&m_mutex);
    m_commands << command;
}

void FakeEngine::handleTick()
{
    if (!m_generator)
        return;
    {
        // EngineControl::acknowledgeSnapshot: at most one snapshot in flight; a slow consumer
        // gets fewer snapshots, never a queue of stale ones.
        QMutexLocker lock(&m_mutex);
        if (m_inFlight) {
            ++m_skipped;
            return;
        }
    }
    const EngineSnapshot snapshot =
        m_wallClock ? m_generator->next(QDateTime::currentMSecsSinceEpoch()) : m_generator->next();
    const QList<TunnelRecord> closed = m_generator->takeClosedTunnels();
    for (const TunnelRecord &record : closed)
        Q_EMIT tunnelClosed(record);
    const QList<RaceRecord> races = m_generator->takeRaces();
    for (const RaceRecord &race : races)
        Q_EMIT raceFinished(race);
    const QList<LogEntry> logs = m_generator->takeLogs();
    for (const LogEntry &entry : logs)
        Q_EMIT logged(entry);
    publish(snapshot);
}

} // namespace qmasque::test
