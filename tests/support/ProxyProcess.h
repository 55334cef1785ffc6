#pragma once

#include "transport/ConnectOptions.h"

#include <QtCore/QByteArray>
#include <QtCore/QProcess>
#include <QtCore/QStringList>

namespace qmasque::test {

// ProxyProcess: the qmasque-proxy binary as a child process. start() waits for the stdout
// contract (README, "qmasque-proxy"): `pin-sha256=<base64>`, one `listen=<ADDR>:<PORT>
// transports=<list>` per endpoint, then `ready`. Killed when destroyed if still running.
class ProxyProcess
{
public:
    explicit ProxyProcess(QStringList prefix = {});
    ~ProxyProcess();
    Q_DISABLE_COPY_MOVE(ProxyProcess)

    static QString executable();

    // start: runs the binary with `arguments` and waits for `ready`; false (with error()) when
    // it exited or did not get there within `timeoutMs`.
    bool start(const QStringList &arguments, int timeoutMs = 15000);
    // run: runs it to completion (for command-line errors); returns the exit code, or -1.
    int run(const QStringList &arguments, int timeoutMs = 15000);
    // terminate: SIGTERM.
    void terminate();
    // waitForExit: the exit code once it exited normally within `timeoutMs`, else -1.
    int waitForExit(int timeoutMs);

    QByteArray pin() const { return m_pin; } // raw 32 bytes
    quint16 port() const { return m_port; }
    QStringList transports() const { return m_transports; }
    ConnectOptions clientOptions() const;
    QByteArray standardError();
    QByteArray standardOutput() const { return m_stdout; }
    const QString &error() const { return m_error; }
    QProcess &process() { return m_process; }

private:
    QStringList m_prefix;
    QProcess m_process;
    QByteArray m_stdout;
    QByteArray m_stderr;
    QByteArray m_pin;
    quint16 m_port = 0;
    QStringList m_transports;
    QString m_error;
};

} // namespace qmasque::test
