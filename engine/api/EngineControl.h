#pragma once

#include "api/EngineEvents.h"
#include "api/Error.h"
#include "api/Profile.h"

#include <QtCore/QObject>

namespace qmasque {

// EngineControl: the whole surface the GUI and the headless runner use. The implementation
// (Engine) lives on the engine thread; callers on other threads invoke the slots with queued
// connections (connect a signal of theirs, or QMetaObject::invokeMethod(..., Qt::QueuedConnection))
// and receive the signals as queued values. Nothing here hands out pointers into the engine.
class EngineControl : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

public Q_SLOTS:
    // start: applies the profile (validated again), opens the listeners, goes Running; a failure
    // ends in stateChanged(Failed, error).
    virtual void start(const qmasque::Profile &profile) = 0;
    // stop: closes every tunnel gracefully, then the pool and the listeners; ends Stopped.
    virtual void stop() = 0;
    // closeStream: aborts one tunnel, named as in the snapshot (connection id + stream id).
    virtual void closeStream(quint64 connectionId, qint64 streamId) = 0;
    // closeConnection: graceful GOAWAY on a pooled connection (its streams finish), or closes a
    // direct h1 tunnel.
    virtual void closeConnection(quint64 connectionId) = 0;
    // setSnapshotInterval: the snapshot rate, in milliseconds (default 250, i.e. 4 Hz).
    virtual void setSnapshotInterval(int milliseconds) = 0;
    // acknowledgeSnapshot: the consumer finished with the last snapshot. At most one snapshot is
    // in flight: the next one is built only after this (a slow GUI gets fewer, never stale ones).
    virtual void acknowledgeSnapshot() = 0;

Q_SIGNALS:
    void stateChanged(qmasque::EngineState state, const qmasque::Error &error);
    void snapshotReady(const qmasque::EngineSnapshot &snapshot);
    void tunnelClosed(const qmasque::TunnelRecord &record);
    void raceFinished(const qmasque::RaceRecord &record);
    void logged(const qmasque::LogEntry &entry);
};

} // namespace qmasque
