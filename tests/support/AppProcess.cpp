#include "support/AppProcess.h"

#include "support/TestSupport.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QTimer>

#include <csignal>

namespace qmasque::test {

AppProcess::AppProcess()
    : m_environment(QProcessEnvironment::systemEnvironment())
{
    m_environment.insert(QStringLiteral("XDG_CONFIG_HOME"), m_config.path());
    m_environment.remove(QStringLiteral("QT_LOGGING_RULES")); // the app's own levels apply
}

AppProcess::~AppProcess()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
}

QString AppProcess::executable()
{
    return binaryPath(QStringLiteral("app/qmasque"));
}

bool AppProcess::start(const QStringList &arguments, int timeoutMs)
{
    m_process.setProcessEnvironment(m_environment);
    m_process.start(executable(), arguments);
    if (!m_process.waitForStarted(timeoutMs)) {
        m_error = m_process.errorString();
        return false;
    }
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        while (m_process.canReadLine()) {
            const QByteArray line = m_process.readLine().trimmed();
            m_stdout += line + '\n';
            if (line.startsWith("listening ")) {
                // listening <kind> <addr:port>[ extra]
                const QList<QByteArray> fields = line.split(' ');
                m_listeners.insert(QString::fromLatin1(fields.value(1)),
                                   QString::fromLatin1(fields.value(2)));
            } else if (line.startsWith("try: ")) {
                m_hints.append(QString::fromLocal8Bit(line.mid(5)));
            } else if (line == "ready") {
                return true;
            }
        }
        if (m_process.state() == QProcess::NotRunning) {
            m_error = QStringLiteral("exited with %1: %2")
                          .arg(m_process.exitCode())
                          .arg(QString::fromLocal8Bit(standardError()));
            return false;
        }
        m_process.waitForReadyRead(50);
    }
    m_error = QStringLiteral("no ready line within %1 ms; stderr:\n%2")
                  .arg(timeoutMs)
                  .arg(QString::fromLocal8Bit(standardError().right(4000)));
    return false;
}

int AppProcess::run(const QStringList &arguments, int timeoutMs)
{
    m_process.setProcessEnvironment(m_environment);
    m_process.start(executable(), arguments);
    if (!m_process.waitForFinished(timeoutMs) || m_process.exitStatus() != QProcess::NormalExit)
        return -1;
    return m_process.exitCode();
}

void AppProcess::terminate()
{
    ::kill(pid_t(m_process.processId()), SIGTERM);
}

void AppProcess::interrupt()
{
    ::kill(pid_t(m_process.processId()), SIGINT);
}

int AppProcess::waitForExit(int timeoutMs)
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

quint16 AppProcess::listenerPort(const QString &kind) const
{
    const QString address = listener(kind);
    return quint16(address.mid(address.lastIndexOf(u':') + 1).toUInt());
}

void AppProcess::drain()
{
    m_stdout += m_process.readAllStandardOutput();
    m_stderr += m_process.readAllStandardError();
}

QByteArray AppProcess::standardOutput()
{
    drain();
    return m_stdout;
}

QByteArray AppProcess::standardError()
{
    drain();
    return m_stderr;
}

QList<QByteArray> AppProcess::stderrLines()
{
    return standardError().split('\n');
}

CommandResult runCommand(const QString &program, const QStringList &arguments, int timeoutMs)
{
    CommandResult result;
    QProcess process;
    QEventLoop loop;
    QTimer deadline;
    deadline.setSingleShot(true);
    QObject::connect(&process, &QProcess::finished, &loop, &QEventLoop::quit);
    QObject::connect(&process, &QProcess::errorOccurred, &loop, [&loop](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart)
            loop.quit();
    });
    QObject::connect(&deadline, &QTimer::timeout, &loop, &QEventLoop::quit);
    process.start(program, arguments);
    deadline.start(timeoutMs);
    if (process.state() != QProcess::NotRunning)
        loop.exec();
    if (process.state() != QProcess::NotRunning) {
        process.kill();
        process.waitForFinished(5000);
    } else if (process.exitStatus() == QProcess::NormalExit &&
               process.error() != QProcess::FailedToStart) {
        result.exitCode = process.exitCode();
    }
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

QString scriptPath(const QString &name)
{
    return sourcePath(QStringLiteral("tests/integration/scripts/") + name);
}

QByteArray demoSha256(qint64 size)
{
    QByteArray block(251 * 256, Qt::Uninitialized);
    for (qsizetype i = 0; i < block.size(); ++i)
        block[i] = char(i % 251);
    QCryptographicHash hash(QCryptographicHash::Sha256);
    qint64 left = size;
    while (left > 0) {
        const qint64 part = qMin<qint64>(left, block.size());
        hash.addData(QByteArrayView(block.constData(), part));
        left -= part;
    }
    return hash.result().toHex();
}

} // namespace qmasque::test
