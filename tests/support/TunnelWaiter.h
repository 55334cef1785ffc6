#pragma once

#include <QtCore/QEventLoop>
#include <QtCore/QTimer>

#include <functional>

namespace qmasque::test {

// TunnelWaiter: runs the event loop until a condition holds. The condition is re-checked when
// the test calls poke() (from a receiver callback, say), so a wait ends the moment the awaited
// data arrived: no polling interval, no sleeps (QTest::qWaitFor sleeps 10 ms per round, which
// makes thousands of small round trips slow).
class TunnelWaiter
{
public:
    // wait: true when `condition` held before `timeoutMs` passed.
    bool wait(std::function<bool()> condition, int timeoutMs)
    {
        if (condition())
            return true;
        QEventLoop loop;
        QTimer timer;
        timer.setSingleShot(true);
        QObject::connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
        timer.start(timeoutMs);
        m_loop = &loop;
        m_condition = std::move(condition);
        loop.exec();
        m_loop = nullptr;
        const bool held = m_condition();
        m_condition = {};
        return held;
    }

    void poke()
    {
        if (m_loop && m_condition && m_condition())
            m_loop->quit();
    }

private:
    QEventLoop *m_loop = nullptr;
    std::function<bool()> m_condition;
};

} // namespace qmasque::test
