#pragma once

#include "Engine.h"

#include <QtCore/QThread>

namespace qmasque {

class LogForwarder;

// EngineThread: the engine thread ("qmasque-engine") and the Engine living on it. The GUI and the
// headless runner create one, talk to engine() only through queued calls and its signals (the
// Engine is an EngineControl), and destroy it last:
//
//   EngineThread thread;                       // Engine created, moved, thread started
//   MainWindow window(thread.engine());        // or the headless runner
//   ...
//   // ~EngineThread: Engine::shutdownNow() on the engine thread, then the thread ends and
//   // the Engine is deleted there.
//
// With a LogForwarder, its entries reach the engine's logged() signal. Owned by the thread that
// created it (the main thread).
class EngineThread final
{
    Q_DISABLE_COPY_MOVE(EngineThread)

public:
    explicit EngineThread(Engine::Options options = {}, LogForwarder *log = nullptr);
    ~EngineThread();

    // engine: lives on the engine thread; never call its methods directly from another thread.
    Engine *engine() const noexcept { return m_engine; }
    QThread *thread() noexcept { return &m_thread; }

private:
    QThread m_thread;
    Engine *m_engine; // deleted on the engine thread when it finishes
};

} // namespace qmasque
