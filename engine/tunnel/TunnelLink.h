#pragma once

#include "api/Snapshot.h"
#include "pool/Fingerprint.h"
#include "pool/UpstreamPool.h"
#include "transport/Transport.h"

#include <QtCore/QDeadlineTimer>
#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QPointer>

namespace qmasque {

class StreamHandler;
class UpstreamOwner;

// TunnelLink: where one tunnel session's request stream lives, and the only code that knows:
//  - pooled (h2/h3 with an UpstreamPool): UpstreamPool::openStream() submits the request on a
//    shared connection; the link releases the stream back to its UpstreamOwner at the end;
//  - direct (h1 always, h2/h3 when no pool is given): the link makes its own Transport through
//    the TransportFactory (MockTransport in unit tests), connects, submits the request, routes the
//    connection's h3 datagrams for its stream, and closes the connection at the end.
//
// Before the stream is used the peer is checked (the pool does not): extended CONNECT enabled
// (no_extended_connect) and, for datagram tunnels on h3, HTTP datagrams (no_h3_datagram).
//
// The session is the stream's StreamHandler: stream events go transport -> session directly,
// also the ones a pooled acquire replays before attached() (the session keeps those). The
// connection's end reaches the session as StreamHandler::onConnectionClosed() on both paths.
//
// Ownership: a child of its session; destroying it (or any finish*()) leaves no pool ticket,
// stream, socket or timer behind, except the bounded linger of a gracefully finished direct
// connection (below). Engine thread only.
class TunnelLink final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TunnelLink)

public:
    // kDirectConnectionIdBase: ids of direct connections count up from here, so they never
    // collide with pooled UpstreamOwner ids in the dashboard and the TunnelRecord.
    static constexpr quint64 kDirectConnectionIdBase = quint64(1) << 48;
    // kLingerMs: how long a gracefully finished direct connection may take to flush its last
    // bytes and FIN before it is closed hard.
    static constexpr int kLingerMs = 2000;

    // `handler` (not owned) is the session, which is also this link's parent.
    TunnelLink(StreamHandler *handler, QObject *session);
    ~TunnelLink() override;

    // start: gets a stream for `request` on `endpoint`: pooled when `pool` is set and the
    // transport is h2/h3, else direct through `factory`. `needsDatagrams`: check h3 datagram
    // support. `deadline` bounds the pool checkout. attached() or failed() follows, never from
    // inside this call.
    void start(const UpstreamEndpoint &endpoint, const Request &request, bool needsDatagrams,
               UpstreamPool *pool, const TransportFactory &factory, QDeadlineTimer deadline);

    bool isAttached() const noexcept { return m_attached; }
    bool isPooled() const noexcept { return m_pooled; }
    // reachedProxy: the direct connection connected, or a pooled stream was acquired: the proxy
    // answered at the transport level.
    bool reachedProxy() const noexcept { return m_reachedProxy; }
    // transport: the stream's connection, null before attached() and after finish*().
    Transport *transport() const noexcept { return m_transport; }
    StreamId streamId() const noexcept { return m_streamId; }
    UpstreamOwner *owner() const noexcept { return m_owner; }
    // connectionId: the owner's id (pooled) or this link's direct connection id; 0 before known.
    quint64 connectionId() const noexcept { return m_connectionId; }

    // finishGraceful: the session sent FIN: a pooled stream is released gracefully (bytes in
    // flight are not reset); a direct connection is handed to a linger (at most kLingerMs, then
    // closed) and leaves this link.
    void finishGraceful();
    // finishReset: aborts the stream with `reason` (a pooled stream is reset and released; a
    // direct connection is closed). Also cancels a pending checkout or dial.
    void finishReset(StreamResetReason reason);
    // finishGone: the stream is already gone (peer reset, connection closed): only let go.
    void finishGone();

    // directConnection: the dashboard row of a direct connection (h1 tunnels are not pooled and
    // appear as a connection with one stream); the handler's describeStream() completes the
    // stream row. Empty for pooled links.
    std::optional<ConnectionSnapshot> directConnection() const;

Q_SIGNALS:
    // attached: the request was submitted and the session is the stream's handler.
    void attached();
    // failed: no stream: the pool's or the transport's error, or a peer check failed.
    void failed(const qmasque::Error &error);

private:
    void startDirect(const TransportFactory &factory);
    void handleDirectConnected();
    void handleDirectClosed(const Error &reason);
    void handlePooledStream(const Result<AcquiredStream> &stream);
    Status checkPeer(const Transport &transport) const;
    void failLater(const Error &error);
    void dropDirect(bool close);

    StreamHandler *m_handler; // not owned: the session, our parent
    UpstreamEndpoint m_endpoint;
    Request m_request;
    bool m_needsDatagrams = false;
    QPointer<UpstreamPool> m_pool;
    PoolTicket m_ticket = 0;

    QPointer<Transport> m_transport; // pooled: the owner's; direct: ours (child)
    QPointer<UpstreamOwner> m_owner; // pooled only
    StreamId m_streamId = -1;
    quint64 m_connectionId = 0;
    bool m_pooled = false;
    bool m_attached = false;
    bool m_reachedProxy = false;
    bool m_finished = false;
    QString m_fingerprint; // direct only, for the dashboard row
    QElapsedTimer m_age;
};

} // namespace qmasque
