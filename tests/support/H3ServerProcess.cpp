#include "support/H3ServerProcess.h"

#include "support/TestPki.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QDeadlineTimer>

namespace qmasque::test {

H3ServerProcess::H3ServerProcess(QStringList prefix)
    : m_prefix(std::move(prefix))
{
    m_process.setProcessChannelMode(QProcess::SeparateChannels);
}

H3ServerProcess::~H3ServerProcess()
{
    kill();
}

QString H3ServerProcess::executable()
{
    return QCoreApplication::applicationDirPath() + QStringLiteral("/h3_test_server");
}

bool H3ServerProcess::start(const QString &address, quint16 port, const QByteArray &secret,
                            int timeoutMs)
{
    const TestPki &pki = TestPki::instance();
    QStringList arguments = m_prefix;
    arguments << executable() << QStringLiteral("--cert") << pki.serverCert
              << QStringLiteral("--key") << pki.serverKey << QStringLiteral("--address") << address
              << QStringLiteral("--port") << QString::number(port);
    if (!secret.isEmpty())
        arguments << QStringLiteral("--secret") << QString::fromLatin1(secret.toHex());
    const QString program = arguments.takeFirst();
    m_process.start(program, arguments);
    if (!m_process.waitForStarted(timeoutMs)) {
        m_error = QStringLiteral("%1 did not start: %2").arg(program, m_process.errorString());
        return false;
    }
    QDeadlineTimer deadline(timeoutMs);
    QByteArray output;
    while (!deadline.hasExpired()) {
        if (m_process.state() != QProcess::Running) {
            m_error = QStringLiteral("server exited: %1")
                          .arg(QString::fromLocal8Bit(m_process.readAllStandardError()));
            return false;
        }
        m_process.waitForReadyRead(50);
        output += m_process.readAllStandardOutput();
        const qsizetype at = output.indexOf("LISTENING ");
        const qsizetype end = output.indexOf('\n', at);
        if (at >= 0 && end > at) {
            m_port = quint16(output.mid(at + 10, end - at - 10).trimmed().toUInt());
            return m_port != 0;
        }
    }
    m_error = QStringLiteral("server did not report its port");
    return false;
}

void H3ServerProcess::kill()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.kill();
    m_process.waitForFinished(10000);
}

} // namespace qmasque::test
