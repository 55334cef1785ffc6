#pragma once

#include <QtCore/QObject>

class QSocketNotifier;

namespace qmasque {

// SignalWatcher: SIGINT and SIGTERM as a Qt signal. The C handler only writes one byte to a
// socket pair (async-signal-safe); a QSocketNotifier on the other end emits received() from the
// event loop of the thread that created the watcher, where Qt work is allowed. One watcher per
// process; the previous handlers are restored on destruction. SIGPIPE is ignored while it
// exists (writes to closed sockets fail with EPIPE instead of killing the process).
class SignalWatcher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SignalWatcher)

public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

    bool isValid() const noexcept { return m_notifier != nullptr; }

Q_SIGNALS:
    // received: SIGINT or SIGTERM arrived; `count` is how many so far (a second one usually
    // means "now").
    void received(int signalNumber, int count);

private:
    void handleActivated();

    int m_fds[2] = {-1, -1};
    QSocketNotifier *m_notifier = nullptr; // child
    int m_count = 0;
};

} // namespace qmasque
