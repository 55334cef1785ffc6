#pragma once

#include "api/TransportStats.h"
#include "api/Types.h"

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QMetaType>
#include <QtCore/QString>

namespace qmasque {

// The pool snapshot: plain values describing every pooled upstream connection, its streams and
// the dials in flight. The engine builds one on its own thread (UpstreamPool::snapshot()) and
// hands it to the GUI, the CLI and the tests by value; nothing in here points into the engine.
// Times are milliseconds, sizes and counters bytes or items; -1 means "not known / not armed".
// The JSON form (snapshotToJson) is a published contract: docs/snapshot-json.md.

// ConnectionState: where a pooled connection is in its life.
enum class ConnectionState : quint8
{
    Dialing,  // connecting to the proxy
    Ready,    // takes new streams
    Full,     // at its stream limit (or the transport said stream_limit); takes none until one ends
    Draining, // the peer sent GOAWAY: existing streams finish, no new ones
    Closing,  // closed or closing; the owner is about to go away
};

// StreamState: a tunnel stream as its session sees it.
enum class StreamState : quint8
{
    Connecting, // request sent, no final response yet
    Open,       // 2xx received, data flows
    Closing,    // FIN sent or received, finishing
};

// DatagramPath: how a stream's HTTP datagrams travel (RFC 9297).
enum class DatagramPath : quint8
{
    None,         // the tunnel carries no datagrams (TCP)
    QuicDatagram, // QUIC DATAGRAM frames (h3, RFC 9297, 2.1)
    Capsule,      // DATAGRAM capsules inside the stream (h2/h1, RFC 9297, 3.5)
};

// StreamLimitSource: where a connection's stream limit comes from.
enum class StreamLimitSource : quint8
{
    Fixed,   // configured maxStreams
    Peer,    // the peer's SETTINGS_MAX_CONCURRENT_STREAMS (h2) or MAX_STREAMS credit (h3)
    Default, // the peer said nothing: 100
};

// StreamSnapshot: one tunnel stream on a pooled connection. The owner fills streamId, ageMs and
// what it knows from the request (protocol, target) and from routing (datagramPath,
// datagramsReceived for QUIC datagrams); the session then completes or overrides the row in
// StreamHandler::describeStream().
struct StreamSnapshot
{
    StreamId streamId = -1;
    TunnelProtocol protocol = TunnelProtocol::Tcp;
    QString target;      // what the tunnel reaches: "example.com:443", "10.0.0.0/8", the path
    QString localClient; // who uses it locally: "socks5 127.0.0.1:51234", "forward :5353"
    StreamState state = StreamState::Connecting;
    int responseStatus = 0; // final HTTP status, 0 = none yet
    QString proxyStatus;    // the proxy's Proxy-Status (RFC 9209), as received
    DatagramPath datagramPath = DatagramPath::None;
    quint64 bytesSent = 0; // tunnel payload bytes (stream data, capsules excluded)
    quint64 bytesReceived = 0;
    quint64 datagramsSent = 0;
    quint64 datagramsReceived = 0;
    quint64 datagramsDropped = 0; // every drop of this stream (too large, queue full, context)
    qint64 ageMs = 0;             // since the stream was acquired
};

// ConnectionSnapshot: one pooled upstream connection (UpstreamOwner::info()).
struct ConnectionSnapshot
{
    quint64 id = 0; // owner id, unique per process; commands (close connection) name it
    TransportKind transport = TransportKind::H3;
    QString proxyHost; // normalised host of the fingerprint
    quint16 proxyPort = 0;
    QString fingerprint; // Fingerprint::toString(): "h3 proxy.example:443 3fa2c1d0"
    ConnectionState state = ConnectionState::Dialing;
    qint64 streamsInUse = 0;
    qint64 streamLimit = 0;
    StreamLimitSource streamLimitSource = StreamLimitSource::Default;
    qint64 idleRemainingMs = -1;        // until the idle timer closes it; -1 = not armed
    qint64 ageMs = 0;                   // since the owner was created (dial start)
    quint64 datagramsRouted = 0;        // QUIC datagrams delivered to a session
    quint64 datagramsUnknownStream = 0; // QUIC datagrams for a stream nobody owns: dropped
    TransportStats stats;
    QList<StreamSnapshot> streams; // sorted by stream id
};

// DialSnapshot: one fingerprint with a dial in flight or checkouts waiting.
struct DialSnapshot
{
    QString fingerprint;
    TransportKind transport = TransportKind::H3;
    QString proxyHost;
    quint16 proxyPort = 0;
    bool dialing = false; // a dial is in flight (else the waiters wait for a free stream slot)
    quint64 ownerId = 0;  // the dialing owner, 0 when none
    qint64 ageMs = 0;     // of the dial; 0 when none
    qint64 waiters = 0;   // checkouts queued for this fingerprint
};

// PoolTotals: sums over the snapshot.
struct PoolTotals
{
    qint64 connections = 0;
    qint64 streams = 0;
    qint64 streamLimit = 0; // sum of the connections' limits
    qint64 dials = 0;
    qint64 waiters = 0;
};

// PoolCounters: monotonic counters since the pool was created.
struct PoolCounters
{
    quint64 checkouts = 0;     // checkout() and openStream() calls
    quint64 streamsOpened = 0; // successful acquires through openStream()
    quint64 dialsStarted = 0;
    quint64 dialsFailed = 0;
    quint64 retries = 0; // stream_limit / goaway / owner_gone retried on another owner
    quint64 checkoutTimeouts = 0;
    quint64 connectionsClosed = 0;
};

// PoolSnapshot: the whole pool at one instant.
struct PoolSnapshot
{
    qint64 takenAtMs = 0;                  // wall clock, ms since the Unix epoch
    QList<ConnectionSnapshot> connections; // by owner id (creation order)
    QList<DialSnapshot> dials;
    PoolTotals totals;
    PoolCounters counters;
};

// Stable snake_case names used in the JSON form, the logs and the CLI.
const char *connectionStateName(ConnectionState state) noexcept;
const char *streamStateName(StreamState state) noexcept;
const char *datagramPathName(DatagramPath path) noexcept;
const char *streamLimitSourceName(StreamLimitSource source) noexcept;

// snapshotToJson: the documented JSON form (docs/snapshot-json.md), UTF-8. `indented` adds
// newlines and two-space indentation for humans; the keys and values are the same.
QByteArray snapshotToJson(const PoolSnapshot &snapshot, bool indented = false);

// registerSnapshotMetaTypes: registers the snapshot types for queued signals between threads.
// Idempotent; the engine calls it before publishing.
void registerSnapshotMetaTypes();

} // namespace qmasque

Q_DECLARE_METATYPE(qmasque::ConnectionState)
Q_DECLARE_METATYPE(qmasque::StreamSnapshot)
Q_DECLARE_METATYPE(qmasque::ConnectionSnapshot)
Q_DECLARE_METATYPE(qmasque::DialSnapshot)
Q_DECLARE_METATYPE(qmasque::PoolSnapshot)
