#include "support/ContractProcess.h"

#include <QtCore/QDeadlineTimer>

#include <csignal>

namespace qmasque::test {

ContractProcess::ContractProcess(QStringList command)
    : m_command(std::move(command))
    , m_environment(QProcessEnvironment::systemEnvironment())
{}

ContractProcess::~ContractProcess()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
}

void ContractProcess::launch(const QStringList &arguments)
{
    QStringList all = m_command + arguments;
    m_process.setProcessEnvironment(m_environment);
    m_process.start(all.takeFirst(), all);
}

bool ContractProcess::startAndWait(const QStringList &arguments, int timeoutMs,
                                   const std::function<Line(const QByteArray &)> &onLine)
{
    launch(arguments);
    if (!m_process.waitForStarted(timeoutMs)) {
        m_error = m_process.errorString();
        return false;
    }
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        drain();
        for (qsizetype end; (end = m_stdout.indexOf('\n', m_stdoutParsed)) >= 0;) {
            const QByteArray line = m_stdout.sliced(m_stdoutParsed, end - m_stdoutParsed).trimmed();
            m_stdoutParsed = end + 1;
            switch (onLine(line)) {
            case Line::More:
                break;
            case Line::Ready:
                return true;
            case Line::Broken:
                return false;
            }
        }
        if (m_process.state() == QProcess::NotRunning) {
            m_error = QStringLiteral("exited before ready: ") + exitReport();
            return false;
        }
        m_process.waitForReadyRead(50);
    }
    m_error = QStringLiteral("no ready line within %1 ms; ").arg(timeoutMs) + exitReport();
    return false;
}

int ContractProcess::run(const QStringList &arguments, int timeoutMs)
{
    launch(arguments);
    const bool finished = m_process.waitForFinished(timeoutMs);
    drain();
    if (!finished || m_process.exitStatus() != QProcess::NormalExit)
        return -1;
    return m_process.exitCode();
}

void ContractProcess::terminate()
{
    ::kill(pid_t(m_process.processId()), SIGTERM);
}

void ContractProcess::interrupt()
{
    ::kill(pid_t(m_process.processId()), SIGINT);
}

int ContractProcess::waitForExit(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (m_process.state() != QProcess::NotRunning && !deadline.hasExpired()) {
        drain();
        m_process.waitForFinished(50);
    }
    drain();
    if (m_process.state() != QProcess::NotRunning || m_process.exitStatus() != QProcess::NormalExit)
        return -1;
    return m_process.exitCode();
}

QString ContractProcess::exitReport()
{
    const QString how = m_process.state() != QProcess::NotRunning ? QStringLiteral("still running")
                        : m_process.exitStatus() == QProcess::CrashExit
                            ? QStringLiteral("crashed")
                            : QStringLiteral("exit code %1").arg(m_process.exitCode());
    return how + QStringLiteral("; stderr ends with:\n") +
           QString::fromLocal8Bit(standardError().right(4000));
}

void ContractProcess::drain()
{
    m_stdout += m_process.readAllStandardOutput();
    m_stderr += m_process.readAllStandardError();
}

QByteArray ContractProcess::standardOutput()
{
    drain();
    return m_stdout;
}

QByteArray ContractProcess::standardError()
{
    drain();
    return m_stderr;
}

} // namespace qmasque::test
