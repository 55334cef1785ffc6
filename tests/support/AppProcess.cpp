#include "support/AppProcess.h"

#include "support/TestSupport.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QTimer>

namespace qmasque::test {

AppProcess::AppProcess()
    : ContractProcess({executable()})
{
    environment().insert(QStringLiteral("XDG_CONFIG_HOME"), m_config.path());
    environment().remove(QStringLiteral("QT_LOGGING_RULES")); // the app's own levels apply
}

QString AppProcess::executable()
{
    return binaryPath(QStringLiteral("app/qmasque"));
}

bool AppProcess::start(const QStringList &arguments, int timeoutMs)
{
    return startAndWait(arguments, timeoutMs, [this](const QByteArray &line) {
        if (line.startsWith("listening ")) {
            // listening <kind> <addr:port>[ extra]
            const QList<QByteArray> fields = line.split(' ');
            m_listeners.insert(QString::fromLatin1(fields.value(1)),
                               QString::fromLatin1(fields.value(2)));
        } else if (line.startsWith("try: ")) {
            m_hints.append(QString::fromLocal8Bit(line.mid(5)));
        } else if (line == "ready") {
            return Line::Ready;
        }
        return Line::More;
    });
}

quint16 AppProcess::listenerPort(const QString &kind) const
{
    const QString address = listener(kind);
    return quint16(address.mid(address.lastIndexOf(u':') + 1).toUInt());
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
