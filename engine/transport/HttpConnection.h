#pragma once

#include "api/Result.h"
#include "api/TransportStats.h"
#include "transport/HttpTypes.h"

#include <QtCore/QObject>

#include <optional>

namespace qmasque {

class StreamHandler;

// PeerSettings: what the peer announced that tunnels depend on.
struct PeerSettings
{
    bool received = false;        // SETTINGS (h2/h3) have arrived
    bool extendedConnect = false; // SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 / RFC 9220)
    bool h3Datagram = false;      // SETTINGS_H3_DATAGRAM = 1 (RFC 9297, 2.1.1)
    std::optional<quint32> maxConcurrentStreams; // h2 SETTINGS_MAX_CONCURRENT_STREAMS, if sent
    quint64 maxDatagramFrameSize = 0;            // QUIC max_datagram_frame_size (RFC 9221), h3
};

// HttpConnection: the stream operations shared by client transports (Transport) and server
// connections (ServerConnection) of every HTTP version, so tunnel sessions and proxy handlers are
// written once. One object per TLS/QUIC connection, living on the engine thread; not thread-safe.
//
// Ownership: a connection is a QObject owned by its parent (the upstream owner, a session, a
// server listener). It never deletes itself inside a callback: on a fatal error it emits
// closed() and waits to be deleted (deleteLater() by the parent is always safe).
class HttpConnection : public QObject
{
    Q_OBJECT

public:
    enum class State : quint8
    {
        Idle,
        Connecting,
        Connected,
        Draining,
        Closed
    };
    Q_ENUM(State)

    using QObject::QObject;
    ~HttpConnection() override = default;

    virtual TransportKind kind() const = 0;
    virtual State state() const = 0;

    // setStreamHandler: routes the stream's events to `handler` (not owned; it must unregister
    // with clearStreamHandler() or outlive the stream). Events that arrived while the stream had
    // no handler (response, data, reset) are kept and replayed to the handler now, in order.
    // Error: unknown_stream.
    virtual Status setStreamHandler(StreamId id, StreamHandler *handler) = 0;
    // clearStreamHandler: stops delivering events for the stream; later data is discarded but
    // still acknowledged for flow control. Idempotent.
    virtual void clearStreamHandler(StreamId id) = 0;

    // sendStreamData: queues body bytes. Returns how many bytes were accepted (0..data.size()):
    // at most the free space of the stream's bounded send buffer. A short count means "full":
    // the handler gets onStreamWritable() when there is room again. Errors: unknown_stream,
    // stream_closed (reset, or FIN already sent), connection_closed.
    virtual Result<qint64> sendStreamData(StreamId id, QByteArrayView data) = 0;

    // endStream: sends FIN after the queued bytes (h1: half-close is not possible; the socket
    // closes once the buffer drained). Idempotent.
    virtual Status endStream(StreamId id) = 0;

    // resetStream: aborts the stream now (RST_STREAM / RESET_STREAM + STOP_SENDING), dropping
    // queued bytes. No further callbacks for the stream. Idempotent; unknown ids are ignored.
    virtual void resetStream(StreamId id, StreamResetReason reason) = 0;

    // consumeStreamData: returns flow-control credit for `bytes` the handler has drained.
    virtual void consumeStreamData(StreamId id, qint64 bytes) = 0;

    // sendDatagram: sends an HTTP datagram (RFC 9297) for the stream; payload = context id varint
    // + data. h3: a QUIC DATAGRAM frame with the quarter stream id; h2/h1: a DATAGRAM capsule on
    // the stream. Unreliable: a full queue drops it (queue_full, counted); a payload above
    // maxDatagramPayload() is refused (datagram_too_large, counted).
    virtual Status sendDatagram(StreamId id, QByteArrayView payload) = 0;

    // maxDatagramPayload: the largest payload sendDatagram() accepts for this stream now, from the
    // peer's max_datagram_frame_size and the path MTU (h3), or the capsule limit (h1/h2). 0 when
    // datagrams are unavailable.
    virtual qint64 maxDatagramPayload(StreamId id) const = 0;

    // peerSettings: the peer's announced settings so far.
    virtual PeerSettings peerSettings() const = 0;

    // openStreamCount: streams currently open (not fully closed) on this connection.
    virtual qint64 openStreamCount() const = 0;

    // goaway: graceful shutdown: announce GOAWAY, refuse new streams, let open ones finish; the
    // connection closes when the last stream ends. Idempotent.
    virtual void goaway() = 0;

    // close: closes the connection now (h2 GOAWAY + TLS close, QUIC CONNECTION_CLOSE). Every
    // open stream is gone; closed() follows (queued, never from inside this call). Idempotent.
    virtual void close() = 0;

    virtual TransportStats stats() const = 0;

Q_SIGNALS:
    // connected: the handshake finished and the ALPN matched; the connection takes requests.
    void connected();
    // settingsChanged: peerSettings() or the stream capacity changed (SETTINGS, MAX_STREAMS).
    void settingsChanged();
    // goawayReceived: the peer announced GOAWAY. `streamId` is h2's last processed stream id or
    // h3's first unprocessed one. Streams the peer will not process are reset (Goaway) separately.
    void goawayReceived(qmasque::StreamId streamId);
    // streamReset: a stream ended abnormally (after its handler got onStreamReset()).
    void streamReset(qmasque::StreamId id, const qmasque::Error &reason);
    // datagramReceived: an HTTP datagram arrived as a QUIC DATAGRAM frame (h3 only); payload =
    // context id + data. The connection's owner routes it to the stream's handler. `id` is a
    // client-initiated bidirectional stream id; malformed frames are counted, never reported.
    void datagramReceived(qmasque::StreamId id, QByteArrayView payload);
    // closed: the connection is closed, with the typed reason; emitted exactly once, also when
    // a connect attempt fails before connected().
    void closed(const qmasque::Error &reason);
};

} // namespace qmasque
