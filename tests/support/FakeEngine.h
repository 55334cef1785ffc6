#pragma once

#include "api/EngineControl.h"
#include "support/SnapshotGenerator.h"

#include <QtCore/QList>
#include <QtCore/QMutex>

#include <memory>
#include <optional>

class QTimer;

namespace qmasque::test {

// FakeEngine: an EngineControl for the dashboard's tests, benchmark and preview. It records every
// command it receives and publishes snapshots the way the real engine does: at most one in flight,
// the next only after acknowledgeSnapshot().
//
// Two ways to drive it:
// - by hand (tests): publish(snapshot), emitState(), emitTunnelClosed()... and read commands();
// - from a SnapshotGenerator (preview, benchmark): setGenerator(); start() then ticks at the
//   snapshot interval and forwards the generator's closed tunnels, races and log lines; the
//   close commands are applied to the generator.
// Lives on one thread (the GUI's in tests, its own "engine" thread in the preview); commands(),
// acknowledgements() and the counters may be read from any thread.
class FakeEngine : public EngineControl
{
    Q_OBJECT

public:
    struct Command
    {
        enum Kind
        {
            Start,
            Stop,
            CloseStream,
            CloseConnection,
            SetSnapshotInterval,
        };
        Kind kind = Start;
        quint64 connectionId = 0;
        qint64 streamId = -1;
        int intervalMs = 0;
        std::optional<Profile> profile;
    };

    explicit FakeEngine(QObject *parent = nullptr);
    ~FakeEngine() override;

    // setGenerator: ticks come from this generator once start() ran. Takes ownership.
    void setGenerator(std::unique_ptr<SnapshotGenerator> generator);
    // setWallClock: generator ticks use the wall clock (the preview) instead of advancing by the
    // configured interval (deterministic tests and benchmarks). Default false.
    void setWallClock(bool wallClock) { m_wallClock = wallClock; }

    QList<Command> commands() const;
    QList<Command> commands(Command::Kind kind) const;
    void clearCommands();
    int acknowledgements() const;
    int snapshotsPublished() const;
    int ticksSkipped() const; // generator ticks skipped because a snapshot was still in flight
    bool snapshotInFlight() const;
    int snapshotIntervalMs() const;

    // Manual driving. publish() emits even while a snapshot is in flight (tests of a misbehaving
    // engine can use it); it counts as in flight until acknowledged.
    void publish(const EngineSnapshot &snapshot);
    void emitState(EngineState state, const Error &error = {});
    void emitTunnelClosed(const TunnelRecord &record) { Q_EMIT tunnelClosed(record); }
    void emitRaceFinished(const RaceRecord &record) { Q_EMIT raceFinished(record); }
    void emitLogged(const LogEntry &entry) { Q_EMIT logged(entry); }
    // step: one generator tick now (as the timer would do): forwards the tick's closed tunnels,
    // races and log lines, then publishes the snapshot, unless one is still in flight.
    void step() { handleTick(); }

public Q_SLOTS:
    void start(const qmasque::Profile &profile) override;
    void stop() override;
    void closeStream(quint64 connectionId, qint64 streamId) override;
    void closeConnection(quint64 connectionId) override;
    void setSnapshotInterval(int milliseconds) override;
    void acknowledgeSnapshot() override;

private:
    void record(const Command &command);
    void handleTick();

    mutable QMutex m_mutex; // guards the recorded commands and counters
    QList<Command> m_commands;
    int m_acknowledgements = 0;
    int m_published = 0;
    int m_skipped = 0;
    bool m_inFlight = false;
    int m_intervalMs = 250;

    std::unique_ptr<SnapshotGenerator> m_generator;
    QTimer *m_timer = nullptr; // child
    bool m_wallClock = false;
    EngineState m_state = EngineState::Stopped;
};

} // namespace qmasque::test
