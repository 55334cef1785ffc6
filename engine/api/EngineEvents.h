#pragma once

#include "api/Snapshot.h"

#include <QtCore/QList>
#include <QtCore/QMetaType>
#include <QtCore/QString>

#include <optional>

namespace qmasque {

// EngineState: the lifecycle of the engine as the GUI and the headless runner see it.
enum class EngineState : quint8
{
    Stopped,  // nothing runs
    Starting, // listeners opening, profile being applied
    Running,  // listeners open, tunnels can be made
    Stopping, // tunnels closing gracefully
    Failed,   // start failed; the error says why
};
const char *engineStateName(EngineState state) noexcept;

// EngineSnapshot: everything the dashboard shows, built on the engine thread at the snapshot
// rate; a value with no pointers into the engine.
struct EngineSnapshot
{
    EngineState state = EngineState::Stopped;
    QString profileName;
    QString proxy; // "https://host:port"
    PoolSnapshot pool;
    // h1 tunnels own their TLS socket and are not pooled: each appears as a connection row with
    // transport H1 and exactly one stream.
    QList<ConnectionSnapshot> directConnections;
    quint64 tunnelsOpened = 0; // since start
    quint64 tunnelsFailed = 0; // refused or failed before opening
    quint64 bytesSent = 0;     // tunnel payload, all tunnels ever (open and closed)
    quint64 bytesReceived = 0;
    QStringList listeners; // "socks5 127.0.0.1:1080", "udp-forward 127.0.0.1:5353=..."
};

// TunnelRecord: one tunnel's whole life, emitted when it closes (the "Closed" tab, the log,
// the headless close line).
struct TunnelRecord
{
    quint64 tunnelId = 0;
    TunnelProtocol protocol = TunnelProtocol::Tcp;
    TransportKind transport = TransportKind::H2;
    quint64 connectionId = 0; // owner id (h2/h3) or the direct connection's id (h1)
    StreamId streamId = -1;
    QString target;
    QString localClient;
    qint64 openedAtMs = 0; // wall clock, ms since the Unix epoch
    qint64 closedAtMs = 0;
    qint64 openLatencyMs = -1; // request sent → 2xx; -1 when it never opened
    int responseStatus = 0;
    QString proxyStatus;
    QString closeReason; // error code name ("peer_fin", "local_close", "handshake_rejected")
    QString closeDetail;
    quint64 bytesSent = 0;
    quint64 bytesReceived = 0;
    quint64 datagramsSent = 0;
    quint64 datagramsReceived = 0;
    quint64 datagramsDropped = 0;
};

// RaceRecord: how a tunnel's transport race went (the dashboard's race timeline).
struct RaceAttempt
{
    TransportKind transport = TransportKind::H3;
    qint64 startOffsetMs = 0; // from the race start
    qint64 durationMs = 0;    // until it won, failed or was cancelled
    QString result;           // "won", "cancelled", or the error code name
};

struct RaceRecord
{
    quint64 tunnelId = 0;
    QString proxy;
    QString target;
    qint64 startedAtMs = 0; // wall clock
    QList<RaceAttempt> attempts;
    std::optional<TransportKind> winner;
    QString error; // when every attempt failed
};

// LogEntry: one log line, forwarded to the GUI's log panel.
struct LogEntry
{
    qint64 timeMs = 0; // wall clock
    QtMsgType level = QtInfoMsg;
    QString category; // "qmasque.pool"
    QString message;
};

// engineSnapshotToJson: the --snapshot file: the pool snapshot's keys (docs in the README),
// plus "engine" (state, profile, proxy, tunnel and byte totals, listeners) and
// "direct_connections" (h1 tunnels, same shape as "connections").
QByteArray engineSnapshotToJson(const EngineSnapshot &snapshot, bool indented = false);

void registerEngineMetaTypes();

} // namespace qmasque

Q_DECLARE_METATYPE(qmasque::EngineState)
Q_DECLARE_METATYPE(qmasque::EngineSnapshot)
Q_DECLARE_METATYPE(qmasque::TunnelRecord)
Q_DECLARE_METATYPE(qmasque::RaceRecord)
Q_DECLARE_METATYPE(qmasque::LogEntry)
