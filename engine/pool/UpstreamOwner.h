#pragma once

#include "api/Result.h"
#include "api/Snapshot.h"
#include "pool/Fingerprint.h"
#include "transport/StreamHandler.h"
#include "transport/Transport.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QTimer>

namespace qmasque {

class UpstreamOwner;

// OwnerOptions: how a pooled connection is run. Times in milliseconds.
struct OwnerOptions
{
    // idleTimeoutMs: close the connection after it had no stream for this long; 0 = never.
    int idleTimeoutMs = 30000;
    // maxStreams: streams at once; 0 = dynamic: the peer's limit (h2
    // SETTINGS_MAX_CONCURRENT_STREAMS, followed live; h3 open streams + MAX_STREAMS credit),
    // kDefaultStreamLimit when the peer said nothing.
    int maxStreams = 0;
    // dialGuardMarginMs: a dial whose transport reports neither connected() nor closed() within
    // ConnectOptions::connectTimeoutMs + this margin fails with connect_timeout.
    int dialGuardMarginMs = 2000;

    static constexpr qint64 kDefaultStreamLimit = 100;
};

// ReleaseMode: how a session gives its stream back.
enum class ReleaseMode : quint8
{
    Reset,    // abort the stream (RST_STREAM / RESET_STREAM): the session gives up
    Graceful, // the session sent FIN and is done: only unregister, bytes in flight still arrive
};

// AcquiredStream: what acquireStream() hands a session. The session sends with
// `transport->sendStreamData / endStream / sendDatagram / consumeStreamData` directly; the owner
// is not on the outbound data path. Both pointers are guarded (QPointer): the transport is the
// owner's child and goes away with it, after the session got onConnectionClosed().
struct AcquiredStream
{
    StreamId id = -1;
    QPointer<Transport> transport;
    QPointer<UpstreamOwner> owner;
};

// UpstreamOwner: one pooled h2 or h3 connection to the proxy (the seed object, in Qt terms).
//
// - It dials the connection itself: the transport is born its child from the factory (the test
//   seam), so connection-level events (datagrams, resets, GOAWAY, SETTINGS, close) come to it.
//   dialFinished() reports the outcome once, always from the event loop (never inside dial() or
//   a transport callback). After a failed dial the owner deletes itself (deleteLater()).
// - Sessions acquire streams: the request is submitted at once and the session is registered as
//   the stream's StreamHandler, so responses and data go transport -> session directly.
// - Per-stream demultiplexing the transport does not do: h3 datagrams by stream id (a hash lookup
//   and one virtual call), stream resets (free the slot), connection close (every session is
//   told once with the typed reason), GOAWAY (draining).
// - It goes away (connectionClosed(), then deleteLater()) when the connection closes, the idle
//   timer expires, a draining connection has no stream left, or stop() is called.
//
// Threading: lives on the engine thread. acquireStream() and info() are direct calls from that
// thread only. releaseStream(), closeStream() and stop() are slots: invoke them queued from
// another thread (the GUI's "close stream").
class UpstreamOwner final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamOwner)

public:
    // The factory must make a transport of endpoint.transport (h2 or h3). `fingerprint` is the
    // endpoint's pool key (Fingerprint::of(endpoint) when null).
    UpstreamOwner(UpstreamEndpoint endpoint, Fingerprint fingerprint, OwnerOptions options,
                  TransportFactory factory, QObject *parent = nullptr);
    ~UpstreamOwner() override;

    // dial: creates the transport and starts connecting. Call once. dialFinished() follows.
    // A factory that throws or returns nullptr, a transport destroyed before connected(), or one
    // that never answers (connectTimeoutMs + dialGuardMarginMs) is reported as an error
    // (dial_crashed / connect_timeout); the transport's own errors are reported unchanged.
    void dial();

    // info: a value snapshot for the dashboard; the session of each stream completes its row
    // (StreamHandler::describeStream). Rows are sorted by stream id.
    ConnectionSnapshot info() const;

    quint64 id() const noexcept { return m_id; }
    const Fingerprint &fingerprint() const noexcept { return m_fingerprint; }
    const UpstreamEndpoint &endpoint() const noexcept { return m_endpoint; }
    ConnectionState state() const noexcept { return m_state; }
    // transport: the connection, or nullptr before dial() and after it was torn down.
    Transport *transport() const noexcept { return m_transport; }
    qint64 streamsInUse() const noexcept { return m_streams.size(); }
    // streamsReleased: streams this owner let go of so far. While such streams finish closing
    // on the wire (h2: the peer's END_STREAM; h3: its MAX_STREAMS credit) the transport may
    // refuse a stream the owner counts free: a stream_limit that passes on its own.
    quint64 streamsReleased() const noexcept { return m_streamsReleased; }
    // streamLimit: the current limit (fixed, the peer's, or kDefaultStreamLimit).
    qint64 streamLimit() const;
    // canOpenStream: ready, not draining, below the limit and not marked full by the transport.
    bool canOpenStream() const;
    // idleRemainingMs: until the idle timer fires; -1 when it is not armed.
    qint64 idleRemainingMs() const;

public Q_SLOTS:
    // acquireStream: opens a tunnel stream for `handler` now (a slot: called directly on the
    // engine thread). Submits `request` (Transport::submitRequest), registers `handler` for the
    // stream (the transport replays events that arrived before, in order, before this returns),
    // watches `session` (its destruction releases the stream) and stops the idle timer. Does not
    // wait for the response. `handler` is not owned and must stay valid until the stream is
    // released or the session destroyed; usually `session` is the QObject implementing it.
    // Errors: owner_gone (closing), not_ready (still dialing), goaway (draining), stream_limit
    // (at the limit, or the transport refused: the owner is then full until a stream ends),
    // invalid_argument, or the transport's own error.
    Result<AcquiredStream> acquireStream(const Request &request, StreamHandler *handler,
                                         QObject *session);

    // releaseStream: the session is done with the stream. Reset aborts it; Graceful (after the
    // session sent FIN) only unregisters, so bytes in flight are not reset. Idempotent; unknown
    // ids are ignored. The session is not called back.
    void releaseStream(qmasque::StreamId id, qmasque::ReleaseMode mode = ReleaseMode::Reset);
    // closeStream: closes a stream on someone else's behalf (the dashboard): resets it and tells
    // its session onStreamReset(local_close). Idempotent.
    void closeStream(qmasque::StreamId id);
    // stop: closes the connection now; every session is told onConnectionClosed(reason); then
    // connectionClosed(reason) and deleteLater(). A dial in flight ends with dialFinished(error).
    void stop(const qmasque::Error &reason = Error(ErrorCode::Shutdown, QStringLiteral("stopped")));

Q_SIGNALS:
    // dialFinished: the dial outcome, exactly once, from the event loop. After ok = false the
    // owner deletes itself.
    void dialFinished(bool ok, const qmasque::Error &error);
    // stateChanged: the derived state changed (ready <-> full, draining, closing).
    void stateChanged(qmasque::ConnectionState state);
    void streamAcquired(qmasque::StreamId id);
    // streamReleased: the stream's slot is free; `reason` says why (local_close for a release,
    // the reset reason, cancelled for a destroyed session, the connection's close reason).
    void streamReleased(qmasque::StreamId id, const qmasque::Error &reason);
    // connectionClosed: the connection of a successfully dialed owner is gone, once; the owner
    // deletes itself afterwards.
    void connectionClosed(const qmasque::Error &reason);

private:
    struct StreamEntry
    {
        StreamHandler *handler = nullptr; // not owned; valid while registered
        QPointer<QObject> session;        // not owned; watched, entry dropped when destroyed
        QMetaObject::Connection sessionWatch;
        qint64 acquiredAtMs = 0; // m_clock time
        quint64 datagramsRouted = 0;
        TunnelProtocol protocol = TunnelProtocol::Tcp;
        QString target;
    };

    enum class Phase : quint8
    {
        Created,
        Dialing,
        Ready,
        Draining,
        Closing
    };

    void connectTransport();
    void failDial(const Error &error);
    void postDialReport();
    void handleConnected();
    void handleTransportClosed(const Error &reason);
    void handleTransportDestroyed();
    void handleSettingsChanged();
    void handleGoaway(StreamId id);
    void handleStreamReset(StreamId id, const Error &reason);
    void handleDatagram(StreamId id, QByteArrayView payload);
    void handleSessionDestroyed(StreamId id);
    void handleIdleTimeout();
    void handleDialGuardTimeout();

    void enterDraining(const QString &why);
    // dropStream: removes the entry and unregisters it at the transport (reset when asked).
    // Returns false when the id is unknown.
    bool dropStream(StreamId id, bool reset, const Error &reason);
    void afterStreamGone();
    // closeNow: tears the connection down and tells every session; emits connectionClosed.
    void closeNow(const Error &reason, bool closeTransport);
    void detachTransport(bool close);
    void armIdleTimer();
    void updateState();

    const quint64 m_id;
    const UpstreamEndpoint m_endpoint;
    const Fingerprint m_fingerprint;
    const OwnerOptions m_options;
    const TransportFactory m_factory;

    Transport *m_transport = nullptr; // owned (child); nullptr before dial and after teardown
    Phase m_phase = Phase::Created;
    ConnectionState m_state = ConnectionState::Dialing;
    bool m_transportFull = false; // the transport said stream_limit; cleared on release/SETTINGS
    bool m_dialReportPosted = false;
    bool m_dialReported = false;
    Error m_dialError;

    QHash<StreamId, StreamEntry> m_streams;
    quint64 m_streamsReleased = 0;
    QElapsedTimer m_clock; // started at construction: age and stream ages
    QTimer m_idleTimer;    // single shot; restarted on every arm, so only the current arm counts
    QTimer m_dialGuard;
    quint64 m_datagramsRouted = 0;
    quint64 m_datagramsUnknown = 0;
};

} // namespace qmasque

Q_DECLARE_METATYPE(qmasque::ReleaseMode)
