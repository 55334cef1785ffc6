#pragma once

#include "support/ContractProcess.h"

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QStringList>
#include <QtCore/QTemporaryDir>

namespace qmasque::test {

// AppProcess: the qmasque binary as a child process, isolated from the user's configuration
// (XDG_CONFIG_HOME points into a temporary directory, so no default profile is read). start()
// waits for the stdout contract (README, "Running qmasque"): one `listening <kind> <addr>`
// line per listener, `try:` hints, then `ready`. Killed when destroyed if still running.
class AppProcess final : public ContractProcess
{
public:
    AppProcess();

    static QString executable();

    // start: runs qmasque with `arguments` (add --headless yourself) and waits for `ready`;
    // false with error() when it exited or did not get there within `timeoutMs`.
    bool start(const QStringList &arguments, int timeoutMs = 20000);
    int run(const QStringList &arguments, int timeoutMs = 20000)
    {
        return ContractProcess::run(arguments, timeoutMs);
    }

    // listener: the address of `kind` ("socks5", "metrics", "demo-http", "demo-udp-echo",
    // "demo-proxy") as printed, "127.0.0.1:43121"; empty when not listed.
    QString listener(const QString &kind) const { return m_listeners.value(kind); }
    quint16 listenerPort(const QString &kind) const;
    QStringList hints() const { return m_hints; }

    // stderrLines: stderr so far, split into lines.
    QList<QByteArray> stderrLines();
    QString configDirectory() const { return m_config.path(); }

private:
    QTemporaryDir m_config;
    QHash<QString, QString> m_listeners;
    QStringList m_hints;
};

// CommandResult: what runCommand() saw.
struct CommandResult
{
    int exitCode = -1; // -1: did not exit normally in time (then it was killed)
    QByteArray out;
    QByteArray err;
};

// runCommand: runs a program to completion while the event loop keeps turning (so AppProcess
// pipes keep draining and QProcess signals flow).
CommandResult runCommand(const QString &program, const QStringList &arguments, int timeoutMs);
// scriptPath: tests/integration/scripts/<name> in the source tree.
QString scriptPath(const QString &name);

// demoSha256: the SHA-256 of the demo server's /SIZE body (byte i = i mod 251), computed here
// from the README's definition, independently of the server's code.
QByteArray demoSha256(qint64 size);

} // namespace qmasque::test
