#pragma once

#include "api/EngineControl.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>

namespace qmasque::ui {

// EngineLink: the dashboard's only handle on the engine. Commands are posted to the engine's
// thread as queued calls (QMetaObject::invokeMethod with Qt::QueuedConnection), so the GUI never
// waits for the engine; the engine's signals arrive here queued, as values. The engine is not
// owned and may live on another thread; if it is destroyed first, commands are dropped.
// GUI thread only.
class EngineLink final : public QObject
{
    Q_OBJECT

public:
    explicit EngineLink(EngineControl *engine, QObject *parent = nullptr);

    bool hasEngine() const { return !m_engine.isNull(); }

    void start(const Profile &profile);
    void stop();
    void closeStream(quint64 connectionId, StreamId streamId);
    void closeConnection(quint64 connectionId);
    void setSnapshotInterval(int milliseconds);
    void acknowledgeSnapshot();

Q_SIGNALS:
    void stateChanged(qmasque::EngineState state, const qmasque::Error &error);
    void snapshotReady(const qmasque::EngineSnapshot &snapshot);
    void tunnelClosed(const qmasque::TunnelRecord &record);
    void raceFinished(const qmasque::RaceRecord &record);
    void logged(const qmasque::LogEntry &entry);

private:
    // post: runs `call(engine)` on the engine's thread, later; never blocks.
    template<typename Call>
    void post(Call call);

    QPointer<EngineControl> m_engine; // not owned
};

} // namespace qmasque::ui
