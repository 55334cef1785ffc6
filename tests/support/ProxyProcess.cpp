#include "support/ProxyProcess.h"

#include "support/TestSupport.h"

#include <QtCore/QDeadlineTimer>

namespace qmasque::test {

ProxyProcess::ProxyProcess(QStringList prefix)
    : m_prefix(std::move(prefix))
{}

ProxyProcess::~ProxyProcess()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
}

QString ProxyProcess::executable()
{
    return binaryPath(QStringLiteral("app/qmasque-proxy"));
}

bool ProxyProcess::start(const QStringList &arguments, int timeoutMs)
{
    QStringList all = m_prefix;
    all.append(executable());
    all.append(arguments);
    m_process.start(all.takeFirst(), all);
    if (!m_process.waitForStarted(timeoutMs)) {
        m_error = m_process.errorString();
        return false;
    }
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        while (m_process.canReadLine()) {
            const QByteArray line = m_process.readLine().trimmed();
            m_stdout += line + '\n';
            if (line.startsWith("pin-sha256=")) {
                m_pin = QByteArray::fromBase64(line.mid(11));
            } else if (line.startsWith("listen=")) {
                // listen=127.0.0.1:43123 transports=h3,h2,h1
                const QList<QByteArray> fields = line.split(' ');
                const QByteArray endpoint = fields.value(0).mid(7);
                if (m_port == 0)
                    m_port = quint16(endpoint.mid(endpoint.lastIndexOf(':') + 1).toUInt());
                for (const QByteArray &field : fields) {
                    if (field.startsWith("transports="))
                        m_transports = QString::fromLatin1(field.mid(11)).split(u',');
                }
            } else if (line == "ready") {
                if (m_pin.size() == 32 && m_port != 0)
                    return true;
                m_error =
                    QStringLiteral("ready without pin or port:\n") + QString::fromLatin1(m_stdout);
                return false;
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
    m_error = QStringLiteral("no ready line within %1 ms").arg(timeoutMs);
    return false;
}

int ProxyProcess::run(const QStringList &arguments, int timeoutMs)
{
    QStringList all = m_prefix;
    all.append(executable());
    all.append(arguments);
    m_process.start(all.takeFirst(), all);
    if (!m_process.waitForFinished(timeoutMs) || m_process.exitStatus() != QProcess::NormalExit)
        return -1;
    m_stdout = m_process.readAllStandardOutput();
    return m_process.exitCode();
}

void ProxyProcess::terminate()
{
    m_process.terminate();
}

int ProxyProcess::waitForExit(int timeoutMs)
{
    // waitForFinished() is false for a process that already finished.
    if (m_process.state() != QProcess::NotRunning && !m_process.waitForFinished(timeoutMs))
        return -1;
    if (m_process.exitStatus() != QProcess::NormalExit)
        return -1;
    return m_process.exitCode();
}

QByteArray ProxyProcess::standardError()
{
    m_stderr += m_process.readAllStandardError();
    return m_stderr;
}

ConnectOptions ProxyProcess::clientOptions() const
{
    ConnectOptions options;
    options.host = QStringLiteral("127.0.0.1");
    options.port = m_port;
    options.tls.useSystemTrust = false;
    options.tls.pinsSha256 = {m_pin};
    options.connectTimeoutMs = 10000;
    return options;
}

} // namespace qmasque::test
