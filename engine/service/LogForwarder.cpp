#include "service/LogForwarder.h"

#include <QtCore/QDateTime>
#include <QtCore/QLoggingCategory>
#include <QtCore/QMutex>

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace qmasque {

namespace {

// The shared state between the handler (any thread) and the installed forwarder.
struct Shared
{
    QMutex mutex;
    LogForwarder *forwarder = nullptr; // the installed one, or null
    QList<LogEntry> queue;
    quint64 overflow = 0; // entries beyond the queue bound
    bool flushPosted = false;
    int maxQueued = 2000;
};

Shared &shared()
{
    static Shared state;
    return state;
}

std::atomic<bool> g_toStderr{false};
thread_local bool t_inHandler = false;

const char *levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return "debug";
    case QtInfoMsg:
        return "info";
    case QtWarningMsg:
        return "warning";
    case QtCriticalMsg:
        return "error";
    case QtFatalMsg:
        return "fatal";
    }
    return "info";
}

} // namespace

LogForwarder::LogForwarder(Options options, QObject *parent)
    : QObject(parent)
    , m_options(options)
{
    g_toStderr = options.toStderr;
    m_window.start();
    m_summaryTimer.setSingleShot(true);
    connect(&m_summaryTimer, &QTimer::timeout, this, &LogForwarder::emitSummary);
}

LogForwarder::~LogForwarder()
{
    if (!m_installed)
        return;
    qInstallMessageHandler(m_previous);
    QMutexLocker lock(&shared().mutex);
    if (shared().forwarder == this)
        shared().forwarder = nullptr;
    shared().queue.clear();
    shared().flushPosted = false;
}

void LogForwarder::install()
{
    {
        QMutexLocker lock(&shared().mutex);
        shared().forwarder = this;
        shared().maxQueued = m_options.maxQueued;
    }
    m_previous = qInstallMessageHandler(&LogForwarder::handleMessage);
    m_installed = true;
}

void LogForwarder::setToStderr(bool enabled)
{
    m_options.toStderr = enabled;
    g_toStderr = enabled;
}

void LogForwarder::applyLogLevel(const QString &level)
{
    const bool debug = level == u"debug";
    const bool info = debug || level == u"info";
    const bool warning = info || level == u"warning";
    const auto flag = [](bool on) {
        return on ? QStringLiteral("true") : QStringLiteral("false");
    };
    QLoggingCategory::setFilterRules(
        QStringLiteral("qmasque.*.debug=%1\nqmasque.*.info=%2\nqmasque.*.warning=%3\n")
            .arg(flag(debug), flag(info), flag(warning)));
}

QByteArray LogForwarder::formatLine(QtMsgType type, const char *category, const QString &message)
{
    QByteArray line = QDateTime::currentDateTime().toString(Qt::ISODateWithMs).toLatin1();
    line += ' ';
    line += levelName(type);
    line += ' ';
    line += category ? category : "default";
    line += ": ";
    line += message.toLocal8Bit();
    return line;
}

void LogForwarder::handleMessage(QtMsgType type, const QMessageLogContext &context,
                                 const QString &message)
{
    const char *category = context.category ? context.category : "default";
    if (t_inHandler) {
        // A message about handling a message: stderr only, never the queue (no recursion).
        std::fprintf(stderr, "%s\n", formatLine(type, category, message).constData());
        return;
    }
    t_inHandler = true;
    if (g_toStderr) {
        const QByteArray line = formatLine(type, category, message) + '\n';
        std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
        std::fflush(stderr);
    }
    if (qstrncmp(category, "qmasque.", 8) == 0) {
        LogEntry entry;
        entry.timeMs = QDateTime::currentMSecsSinceEpoch();
        entry.level = type;
        entry.category = QString::fromLatin1(category);
        entry.message = message;
        Shared &state = shared();
        QMutexLocker lock(&state.mutex);
        if (state.forwarder) {
            if (state.queue.size() < state.maxQueued)
                state.queue.append(std::move(entry));
            else
                ++state.overflow;
            if (!state.flushPosted) {
                state.flushPosted = true;
                // Posted under the mutex: the forwarder cannot be destroyed meanwhile.
                LogForwarder *forwarder = state.forwarder;
                QMetaObject::invokeMethod(
                    forwarder, [forwarder] { forwarder->flush(); }, Qt::QueuedConnection);
            }
        }
    }
    t_inHandler = false;
    if (type == QtFatalMsg)
        std::abort();
}

void LogForwarder::flush()
{
    QList<LogEntry> entries;
    quint64 overflow = 0;
    {
        QMutexLocker lock(&shared().mutex);
        entries.swap(shared().queue);
        overflow = std::exchange(shared().overflow, 0);
        shared().flushPosted = false;
    }
    m_notShownPending += overflow;
    m_notShownTotal += overflow;
    for (const LogEntry &entry : std::as_const(entries)) {
        if (m_window.elapsed() >= 1000) {
            emitSummary();
            m_window.restart();
            m_sentInWindow = 0;
        }
        if (m_sentInWindow >= m_options.maxEntriesPerSecond) {
            ++m_notShownPending;
            ++m_notShownTotal;
            continue;
        }
        ++m_sentInWindow;
        emit logged(entry);
    }
    if (m_notShownPending > 0 && !m_summaryTimer.isActive())
        m_summaryTimer.start(int(qMax<qint64>(1, 1000 - m_window.elapsed())));
}

void LogForwarder::emitSummary()
{
    if (m_notShownPending == 0)
        return;
    LogEntry summary;
    summary.timeMs = QDateTime::currentMSecsSinceEpoch();
    summary.level = QtWarningMsg;
    summary.category = QStringLiteral("qmasque.engine");
    summary.message = QStringLiteral("%1 log lines not shown: rate limit (%2 a second)")
                          .arg(m_notShownPending)
                          .arg(m_options.maxEntriesPerSecond);
    m_notShownPending = 0;
    emit logged(summary);
}

} // namespace qmasque
