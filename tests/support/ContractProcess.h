#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QProcess>
#include <QtCore/QStringList>

#include <functional>

namespace qmasque::test {

// ContractProcess: one of our binaries as a child process whose stdout follows a line contract
// ending in `ready` (README: "Running qmasque", "qmasque-proxy"). It keeps everything the child
// printed, drains both pipes while waiting (a child blocked on a full pipe never exits), and is
// killed when destroyed if still running. AppProcess and ProxyProcess add their contract.
class ContractProcess
{
public:
    ~ContractProcess();
    Q_DISABLE_COPY_MOVE(ContractProcess)

    // run: runs it to completion (command-line errors, --help); the exit code, or -1.
    int run(const QStringList &arguments, int timeoutMs);
    void terminate(); // SIGTERM
    void interrupt(); // SIGINT
    // waitForExit: the exit code once it exited normally within `timeoutMs`, else -1.
    int waitForExit(int timeoutMs);
    // exitReport: how it ended (or that it still runs) and the end of its stderr, for a failure
    // message.
    QString exitReport();

    QByteArray standardOutput();
    QByteArray standardError();
    const QString &error() const { return m_error; }
    QProcess &process() { return m_process; }
    QProcessEnvironment &environment() { return m_environment; }

protected:
    // `command`: the program and the arguments that precede the caller's (a wrapper such as
    // `ip netns exec NAME`, then the binary).
    explicit ContractProcess(QStringList command);

    enum class Line : quint8
    {
        More,   // go on reading
        Ready,  // the contract is met
        Broken, // the contract is broken (error() says how)
    };
    // startAndWait: starts it and hands every stdout line (trimmed) to `onLine` until Ready,
    // Broken, an exit or `timeoutMs`; false with error() unless Ready.
    bool startAndWait(const QStringList &arguments, int timeoutMs,
                      const std::function<Line(const QByteArray &)> &onLine);

    QString m_error;

private:
    void launch(const QStringList &arguments);
    void drain();

    QStringList m_command;
    QProcessEnvironment m_environment;
    QProcess m_process;
    QByteArray m_stdout;
    QByteArray m_stderr;
    qsizetype m_stdoutParsed = 0; // bytes of m_stdout startAndWait() has seen as lines
};

} // namespace qmasque::test
