#pragma once

#include "api/EngineEvents.h"
#include "api/Result.h"

#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <functional>

namespace qmasque {

// SnapshotFile: writes engineSnapshotToJson() to a file every `intervalMs` (--snapshot,
// --snapshot-ms), atomically: QSaveFile writes a temporary file in the same directory and
// renames it over the target, so a reader sees the previous snapshot or the new one, never a
// partial one. A failed write is logged once per distinct error and retried at the next tick.
// Engine thread only.
class SnapshotFile final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SnapshotFile)

public:
    using Builder = std::function<EngineSnapshot()>;

    SnapshotFile(QString path, int intervalMs, Builder build, QObject *parent = nullptr);

    // start: writes one snapshot now and then every interval. The first write's error is
    // returned (e.g. the directory does not exist), so a bad path fails the engine's start.
    Status start();
    void stop();
    // writeNow: one snapshot now.
    Status writeNow();
    // writeFinal: the last snapshot, at stop: the file outlives the process, so it says how
    // the engine ended (`finalState`) next to the last counters.
    Status writeFinal(EngineState finalState);
    const QString &path() const noexcept { return m_path; }
    quint64 writes() const noexcept { return m_writes; }

private:
    Status write(const EngineSnapshot &snapshot);

    const QString m_path;
    Builder m_build;
    QTimer m_timer;
    QString m_lastError;
    quint64 m_writes = 0;
};

} // namespace qmasque
