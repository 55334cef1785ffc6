#pragma once

#include "api/EngineEvents.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QTimer>

namespace qmasque {

// LogForwarder: the process's Qt message handler. Every message becomes
//  - a line on stderr, when `toStderr` (headless): "<time> <level> <category>: <message>"
//    (the format qmasque-proxy uses), and
//  - for the qmasque.* categories, a LogEntry: logged() on the forwarder's thread, at most
//    `maxEntriesPerSecond` a second; the rest are counted and summed up in one entry
//    ("N log lines not shown: rate limit") when the second is over.
//
// Thread safety: messages may come from any thread. The handler only formats, writes stderr,
// appends to a bounded queue under a mutex and posts one flush to the forwarder; logged() is
// emitted from the forwarder's event loop. A message logged while handling a message (Qt
// warning about the post itself, say) is written to stderr only: no recursion.
//
// One forwarder is installed at a time (install()); the destructor restores the previous
// handler. Which levels reach the handler is decided by the category filter (applyLogLevel()).
class LogForwarder final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LogForwarder)

public:
    struct Options
    {
        bool toStderr = false;
        int maxEntriesPerSecond = 200;
        int maxQueued = 2000; // between two flushes; more are counted as not shown
    };

    explicit LogForwarder(Options options, QObject *parent = nullptr);
    ~LogForwarder() override;

    // install: makes this the process's message handler.
    void install();
    void setToStderr(bool enabled);

    // applyLogLevel: qmasque.* categories at `level` and above ("debug", "info", "warning",
    // "error"); Qt's own categories keep their defaults. QT_LOGGING_RULES still overrides.
    static void applyLogLevel(const QString &level);
    // formatLine: the stderr form of one message (no newline).
    static QByteArray formatLine(QtMsgType type, const char *category, const QString &message);

    // notShown: entries dropped by the rate limit or the queue bound so far.
    quint64 notShown() const noexcept { return m_notShownTotal; }

Q_SIGNALS:
    void logged(const qmasque::LogEntry &entry);

private:
    static void handleMessage(QtMsgType type, const QMessageLogContext &context,
                              const QString &message);
    void flush();
    void emitSummary();

    Options m_options;
    QtMessageHandler m_previous = nullptr;
    bool m_installed = false;
    QElapsedTimer m_window; // the current one-second window
    int m_sentInWindow = 0;
    quint64 m_notShownPending = 0; // not yet summed up in an entry
    quint64 m_notShownTotal = 0;
    QTimer m_summaryTimer;
};

} // namespace qmasque
