#include "ui/EngineLink.h"

namespace qmasque::ui {

EngineLink::EngineLink(EngineControl *engine, QObject *parent)
    : QObject(parent)
    , m_engine(engine)
{
    registerEngineMetaTypes();
    if (!engine)
        return;
    // Queued even when the engine shares this thread (tests): the dashboard handles every engine
    // event from its own event loop, never inside the engine's call stack.
    connect(engine, &EngineControl::stateChanged, this, &EngineLink::stateChanged,
            Qt::QueuedConnection);
    connect(engine, &EngineControl::snapshotReady, this, &EngineLink::snapshotReady,
            Qt::QueuedConnection);
    connect(engine, &EngineControl::tunnelClosed, this, &EngineLink::tunnelClosed,
            Qt::QueuedConnection);
    connect(engine, &EngineControl::raceFinished, this, &EngineLink::raceFinished,
            Qt::QueuedConnection);
    connect(engine, &EngineControl::logged, this, &EngineLink::logged, Qt::QueuedConnection);
}

template<typename Call>
void EngineLink::post(Call call)
{
    EngineControl *engine = m_engine.data();
    if (!engine)
        return;
    // The functor runs in the engine's thread; if the engine is destroyed before, Qt discards
    // the posted call with the engine's pending events.
    QMetaObject::invokeMethod(
        engine, [engine, call = std::move(call)] { call(engine); }, Qt::QueuedConnection);
}

void EngineLink::start(const Profile &profile)
{
    post([profile](EngineControl *engine) { engine->start(profile); });
}

void EngineLink::stop()
{
    post([](EngineControl *engine) { engine->stop(); });
}

void EngineLink::closeStream(quint64 connectionId, StreamId streamId)
{
    post([connectionId, streamId](EngineControl *engine) {
        engine->closeStream(connectionId, streamId);
    });
}

void EngineLink::closeConnection(quint64 connectionId)
{
    post([connectionId](EngineControl *engine) { engine->closeConnection(connectionId); });
}

void EngineLink::setSnapshotInterval(int milliseconds)
{
    post([milliseconds](EngineControl *engine) { engine->setSnapshotInterval(milliseconds); });
}

void EngineLink::acknowledgeSnapshot()
{
    post([](EngineControl *engine) { engine->acknowledgeSnapshot(); });
}

} // namespace qmasque::ui
