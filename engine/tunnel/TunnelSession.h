#pragma once

#include "api/EngineEvents.h"
#include "api/Snapshot.h"
#include "pool/UpstreamPool.h"
#include "transport/StreamHandler.h"
#include "wire/CapsuleDecoder.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <deque>
#include <optional>

namespace qmasque {

class TunnelLink;

// TunnelConfig: everything one tunnel session needs, made by TunnelClient (or a test).
struct TunnelConfig
{
    quint64 tunnelId = 0;          // shared by the attempts of one race
    UpstreamEndpoint endpoint;     // the proxy and the transport of this session
    Request request;               // buildTunnelRequest()
    QString target;                // TunnelTarget::toString(), for the row and the record
    QString localClient;           // who uses the tunnel locally ("socks5 127.0.0.1:51234")
    int handshakeTimeoutMs = 5000; // start() -> validated response
    quint64 maxCapsuleLength = wire::CapsuleDecoder::kDefaultMaxCapsuleLength;
    // pool: h2/h3 streams come from it (not owned; may go away first: guarded). Without a pool,
    // h2/h3 sessions dial their own connection like h1 does.
    UpstreamPool *pool = nullptr;
    TransportFactory factory; // h1 (and unpooled h2/h3) connections
};

// TunnelState: a session's life. Connecting -> Open -> (Closing) -> Closed; a failed handshake
// goes Connecting -> Closed.
enum class TunnelState : quint8
{
    Connecting, // waiting for a stream, the response, or (CONNECT-IP on h3) the path MTU
    Open,       // validated response: data flows both ways
    Closing,    // TCP half-closed: one direction finished, the other still flows
    Closed,     // over; closeReason() says why. Nothing is sent or delivered any more.
};
const char *tunnelStateName(TunnelState state) noexcept;

// TunnelCounters: what a tunnel moved and dropped. Payload bytes only (UDP payloads, IP packets,
// TCP stream bytes; capsule framing excluded). Every drop is counted under one reason.
struct TunnelCounters
{
    quint64 bytesSent = 0;
    quint64 bytesReceived = 0;
    quint64 datagramsSent = 0;
    quint64 datagramsReceived = 0;
    quint64 capsulesSent = 0; // CONNECT-IP control capsules
    quint64 capsulesReceived = 0;

    quint64 dropTooLarge = 0;       // send refused: above 65527, the MTU or the path's limit
    quint64 dropQueueFull = 0;      // send dropped by the transport's bounded datagram queue
    quint64 dropUnknownContext = 0; // received with a context id other than 0 (RFC 9298, 4)
    quint64 dropMalformed = 0;      // received datagram with a bad context id encoding
    quint64 dropOversized = 0;      // received UDP payload above 65527 (RFC 9298, 5)
    quint64 dropEarly = 0;          // datagrams before the response beyond kMaxEarlyDatagrams
    quint64 dropNoReceiver = 0;     // datagrams beyond kMaxHeldDatagrams while nobody received

    quint64 drops() const noexcept
    {
        return dropTooLarge + dropQueueFull + dropUnknownContext + dropMalformed + dropOversized +
               dropEarly + dropNoReceiver;
    }
};

// TunnelSession: the part every client tunnel (UdpTunnel, TcpTunnel, IpTunnel) shares: getting a
// request stream (TunnelLink: pooled h2/h3 or a direct connection), validating the response,
// keeping what arrives before it, the handshake timer, the close, the counters, the dashboard
// row (StreamHandler::describeStream) and the TunnelRecord.
//
// Life: start() once. opened() when the response validated; closed(reason) exactly once at the
// end, whatever it was (refusal, timeout, peer FIN or reset, connection gone, malformed capsule,
// close() / abort()), always from the event loop, never inside a call into the session or a
// transport callback. After closed() nothing else is emitted.
//
// Data before the response: stream bytes are kept (not consumed, so flow control bounds them)
// and handled after the response validated; h3 datagrams that overtake the response are kept up
// to kMaxEarlyDatagrams, further ones dropped and counted (dropEarly).
//
// Ownership: a QObject owned by its creator (TunnelClient, the Racer while racing). Deleting an
// unclosed session aborts it silently. Receivers and signal handlers must not delete the session
// synchronously (deleteLater()). Engine thread only.
class TunnelSession : public QObject, public StreamHandler
{
    Q_OBJECT

public:
    static constexpr int kMaxEarlyDatagrams = 64;

    ~TunnelSession() override;

    // start: gets a stream and sends the request; starts the handshake timer. Call once.
    void start();
    // close: ends the tunnel gracefully: FIN (unless sent), the pooled stream released gracefully
    // (bytes in flight are not reset), a direct connection flushed. Reason local_close.
    // Idempotent; during Connecting it aborts the attempt instead.
    void close();
    // abort: resets the stream now (TCP: CONNECT_ERROR / H3_CONNECT_ERROR, others: CANCEL) or
    // cancels the pending stream/dial. Reason `reason` (default local_close). Idempotent.
    void abort(const Error &reason = Error(ErrorCode::LocalClose, QStringLiteral("aborted")));

    TunnelState state() const noexcept { return m_state; }
    bool isOpen() const noexcept
    {
        return m_state == TunnelState::Open || m_state == TunnelState::Closing;
    }
    virtual TunnelProtocol protocol() const = 0;
    TransportKind transport() const noexcept { return m_config.endpoint.transport; }
    quint64 tunnelId() const noexcept { return m_config.tunnelId; }
    const QString &target() const noexcept { return m_config.target; }
    const QString &localClient() const noexcept { return m_config.localClient; }
    void setLocalClient(const QString &client) { m_config.localClient = client; }
    const Request &request() const noexcept { return m_config.request; }
    // streamId / connectionId: known once the stream is attached (-1 / 0 before).
    StreamId streamId() const;
    quint64 connectionId() const;
    bool isPooled() const;
    // reachedProxy: the proxy answered at the transport level (a connection or a pooled stream
    // existed), so a failure is not "no answer". The racer's UDP-blocked rule uses it.
    bool reachedProxy() const;

    // The response (0 / empty before one arrived).
    int responseStatus() const noexcept { return m_responseStatus; }
    const QString &proxyStatus() const noexcept { return m_proxyStatus; }
    // openLatencyUs / openLatencyMs: request sent -> validated response; -1 when it never
    // opened. Warm tunnels on a fast path open in well under a millisecond, so the metrics
    // histogram uses the microsecond value.
    qint64 openLatencyUs() const noexcept;
    qint64 openLatencyMs() const noexcept;
    // openDurationMs: how long the tunnel has been (or was) open; -1 when it never opened.
    qint64 openDurationMs() const;
    // closeReason: why it closed (valid in Closed).
    const Error &closeReason() const noexcept { return m_closeReason; }

    virtual TunnelCounters counters() const { return m_counters; }
    // record: the tunnel's life so far (complete after closed()). openedAtMs is when start()
    // ran (the attempt began), closedAtMs when it ended; openLatencyMs as above.
    TunnelRecord record() const;
    // directConnection: the dashboard row of the connection an h1 (or unpooled) tunnel owns,
    // with this tunnel's stream row; empty for pooled tunnels (their owner lists them).
    std::optional<ConnectionSnapshot> directConnection() const;

    // StreamHandler (called by the transport / the upstream owner).
    void onStreamResponse(StreamId id, const Response &response) final;
    void onStreamData(StreamId id, QByteArrayView data, bool fin) final;
    void onStreamReset(StreamId id, const Error &reason) final;
    void onStreamWritable(StreamId id) final;
    void onDatagram(StreamId id, QByteArrayView payload) final;
    void onConnectionClosed(StreamId id, const Error &reason) final;
    void describeStream(StreamSnapshot &row) const final;

Q_SIGNALS:
    void opened();
    void closed(const qmasque::Error &reason);

protected:
    // How endTunnel() lets go of the stream.
    enum class End : quint8
    {
        Graceful, // send FIN unless sent, release gracefully
        Reset,    // reset with the given reason
        Gone,     // the stream is already gone: only let go
    };

    explicit TunnelSession(TunnelConfig config, QObject *parent = nullptr);

    // Subclass hooks.
    virtual bool needsDatagrams() const { return false; }
    virtual DatagramPath datagramPath() const;
    // onAttached: the stream is known (transport() and stream id valid).
    virtual void onAttached() {}
    // deferOpen: true to keep Connecting after a valid response; the subclass then calls
    // completeOpen() or endTunnel() itself (CONNECT-IP waiting for the path MTU on h3).
    virtual bool deferOpen() { return false; }
    // handshakeTimeoutError: what the handshake timer reports.
    virtual Error handshakeTimeoutError() const;
    // onOpened: right after the state became Open, before kept data is handled.
    virtual void onOpened() {}
    // handleStreamBody: response body bytes while open (in order; `fin` = the peer's FIN).
    virtual void handleStreamBody(QByteArrayView data, bool fin) = 0;
    // handleDatagram: an HTTP datagram payload (context id + data) routed from QUIC while open.
    virtual void handleDatagram(QByteArrayView payload) { Q_UNUSED(payload) }
    virtual void handleWritable() {}
    // peerFinished: the peer ended its side cleanly; a connection that closes afterwards (h1,
    // where the socket is the stream) then ends the tunnel with peer_fin.
    virtual bool peerFinished() const { return false; }
    // readyForFin: false when a FIN now would cut a message in half (a capsule partly written):
    // a graceful end then resets instead.
    virtual bool readyForFin() { return true; }
    // onEnding: the tunnel is ending (state already Closed): detach from the stream.
    virtual void onEnding() {}
    // fillRow: protocol-specific fields of the dashboard row.
    virtual void fillRow(StreamSnapshot &row) const { Q_UNUSED(row) }

    // For subclasses.
    // setAbortResetReason: what abort() puts on the wire once open (TCP: ConnectError).
    void setAbortResetReason(StreamResetReason reason) { m_abortReason = reason; }
    // abortSilently: for destructors of subclasses: lets go of the stream without signals.
    void abortSilently();
    void completeOpen();
    void endTunnel(const Error &reason, End end,
                   StreamResetReason resetReason = StreamResetReason::Cancel);
    void setState(TunnelState state);
    // connection: the stream's transport while attached and not ended, else null.
    HttpConnection *connection() const;
    StreamId stream() const noexcept { return m_streamId; }
    bool finSent() const noexcept { return m_finSent; }
    // sendFin: ends our sending side (FIN after queued bytes).
    Status sendFin();
    qint64 elapsedMs() const { return m_clock.elapsed(); }
    TunnelCounters m_counters;

private:
    void handleAttached();
    void handleLinkFailed(const Error &error);
    void handleResponse(const Response &response);
    void handleHandshakeTimeout();
    void handleEnd(const Error &reason, bool connectionGone);
    void postClosed();

    TunnelConfig m_config;
    TunnelLink *m_link; // child
    TunnelState m_state = TunnelState::Connecting;
    bool m_started = false;
    bool m_attached = false;
    bool m_finSent = false;
    StreamResetReason m_abortReason = StreamResetReason::Cancel;
    StreamId m_streamId = -1;
    QTimer m_handshakeTimer;
    QElapsedTimer m_clock;
    qint64 m_startedAtWallMs = 0;
    qint64 m_closedAtWallMs = 0;
    qint64 m_requestSentAtNs = -1; // m_clock
    qint64 m_openedAtNs = -1;
    qint64 m_closedAtMs = -1;

    // Kept until the stream is attached / the response validated (see the class comment).
    std::optional<Response> m_keptResponse;
    std::optional<std::pair<Error, bool>> m_keptEnd; // reason, connection gone
    QByteArray m_earlyData;
    bool m_earlyFin = false;
    std::deque<QByteArray> m_earlyDatagrams;

    int m_responseStatus = 0;
    QString m_proxyStatus;
    Error m_closeReason;
};

} // namespace qmasque
