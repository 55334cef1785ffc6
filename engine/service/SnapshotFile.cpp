#include "service/SnapshotFile.h"

#include "core/Log.h"

#include <QtCore/QSaveFile>

namespace qmasque {

SnapshotFile::SnapshotFile(QString path, int intervalMs, Builder build, QObject *parent)
    : QObject(parent)
    , m_path(std::move(path))
    , m_build(std::move(build))
{
    m_timer.setInterval(intervalMs);
    m_timer.setTimerType(Qt::CoarseTimer);
    connect(&m_timer, &QTimer::timeout, this, [this] { (void)writeNow(); });
}

Status SnapshotFile::start()
{
    Status first = writeNow();
    if (!first)
        return first;
    m_timer.start();
    return {};
}

void SnapshotFile::stop()
{
    m_timer.stop();
}

Status SnapshotFile::writeNow()
{
    return write(m_build());
}

Status SnapshotFile::writeFinal(EngineState finalState)
{
    EngineSnapshot last = m_build();
    last.state = finalState;
    return write(last);
}

Status SnapshotFile::write(const EngineSnapshot &snapshot)
{
    QSaveFile file(m_path);
    QString problem;
    if (!file.open(QIODevice::WriteOnly)) {
        problem = file.errorString();
    } else {
        const QByteArray json = engineSnapshotToJson(snapshot, true);
        if (file.write(json) != json.size() || !file.commit())
            problem = file.errorString();
    }
    if (problem.isEmpty()) {
        ++m_writes;
        if (!m_lastError.isEmpty())
            qCInfo(lcEngine, "snapshot %s: writing again", qPrintable(m_path));
        m_lastError.clear();
        return {};
    }
    if (problem != m_lastError)
        qCWarning(lcEngine, "snapshot %s: %s", qPrintable(m_path), qPrintable(problem));
    m_lastError = problem;
    return Error(ErrorCode::Io,
                 QStringLiteral("snapshot: cannot write %1: %2").arg(m_path, problem));
}

} // namespace qmasque
