#include "service/EngineThread.h"

#include "service/LogForwarder.h"

namespace qmasque {

EngineThread::EngineThread(Engine::Options options, LogForwarder *log)
    : m_engine(new Engine(std::move(options)))
{
    m_thread.setObjectName(QStringLiteral("qmasque-engine"));
    // Created here, then moved: every object the engine makes later (in start(), on its
    // thread) is born there.
    m_engine->moveToThread(&m_thread);
    QObject::connect(&m_thread, &QThread::finished, m_engine, &QObject::deleteLater);
    if (log)
        QObject::connect(log, &LogForwarder::logged, m_engine, &EngineControl::logged);
    m_thread.start();
}

EngineThread::~EngineThread()
{
    Engine *engine = m_engine;
    QMetaObject::invokeMethod(
        engine, [engine] { engine->shutdownNow(); }, Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
}

} // namespace qmasque
