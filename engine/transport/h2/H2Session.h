#pragma once

#include "api/TransportStats.h"
#include "transport/ServerConnection.h"
#include "transport/Transport.h"
#include "transport/h2/H2Stream.h"
#include "transport/h2/Nghttp2Handles.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <array>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

QT_BEGIN_NAMESPACE
class QSslSocket;
QT_END_NAMESPACE

namespace qmasque {

// H2Session: the nghttp2 glue shared by H2Transport (client) and H2ServerConnection (server). It
// owns the nghttp2 session and the stream table, moves bytes between nghttp2 and an encrypted
// QSslSocket, and implements the HttpConnection stream operations on top:
//  - flow control is consumption based (NGHTTP2_OPT_NO_AUTO_WINDOW_UPDATE): WINDOW_UPDATE credit
//    is returned only for bytes a handler consumed (consumeStreamData), so a slow consumer stalls
//    its sender end to end (RFC 9113, 5.2);
//  - every stream has a bounded send queue (Config::streamSendBuffer); DATA frames are pulled from
//    it by nghttp2, coalesced into writes of at most kWriteChunk bytes, and nothing more is pulled
//    while the socket holds kSocketHighWater bytes (resumed on bytesWritten);
//  - HTTP datagrams are DATAGRAM capsules on the stream (RFC 9297, 3.5);
//  - PING keepalive measures the RTT and detects a dead peer.
//
// Ownership and threading: owned by its connection object; the socket is not owned and must
// outlive the session. Engine thread only. Handler callbacks and the signals below are emitted
// from inside the session's event processing; nothing is deleted from inside a callback: streams
// that end are retired and freed at the next event-loop entry, and finished() is queued.
class H2Session final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H2Session)

public:
    enum class Role : quint8
    {
        Client,
        Server
    };

    struct Config
    {
        quint32 streamReceiveWindow = 16 * 1024 * 1024;     // SETTINGS_INITIAL_WINDOW_SIZE, bytes
        quint32 connectionReceiveWindow = 64 * 1024 * 1024; // connection window, bytes
        qint64 streamSendBuffer = 1024 * 1024;              // per-stream send queue bound, bytes
        std::optional<quint32> maxConcurrentStreams;        // advertised (server)
        bool enableConnectProtocol = false;                 // advertise RFC 8441 (server)
        int keepaliveMs = 0;                                // PING interval; 0 = off
        int deadPeerMs = 30000;  // no PING ACK and no bytes for this long: connection_lost
        int closeWhenIdleMs = 0; // close after this long without open streams; 0 = never
    };

    // Tuning of the socket side. Bytes.
    static constexpr qint64 kWriteChunk = 64 * 1024;         // one QSslSocket::write at most
    static constexpr qint64 kSocketHighWater = 256 * 1024;   // stop pulling frames above this
    static constexpr qint64 kMaxHeaderListBytes = 64 * 1024; // SETTINGS_MAX_HEADER_LIST_SIZE
    static constexpr qint64 kMaxDatagramPayload = 65535;     // DATAGRAM capsule value limit
    static constexpr int kLingerMs = 2000; // a graceful close waits this long for the peer

    H2Session(Role role, QSslSocket *socket, const Config &config, QObject *parent = nullptr);
    ~H2Session() override;

    // start: creates the nghttp2 session, queues the preface and SETTINGS and processes bytes
    // already buffered in the socket. Errors: internal (nghttp2 refused to start).
    Status start();

    // Client: opens a stream (see Transport::submitRequest for the errors).
    Result<StreamId> submitRequest(const Request &request);
    std::optional<qint64> peerStreamLimit() const;

    // Server: answers a request (see ServerConnection::submitResponse).
    Status submitResponse(StreamId id, const Response &response, bool endStream);
    // setMaxConcurrentStreams: announces a new SETTINGS_MAX_CONCURRENT_STREAMS (server).
    void setMaxConcurrentStreams(quint32 limit);

    // The HttpConnection stream operations; same contracts.
    Status setStreamHandler(StreamId id, StreamHandler *handler);
    void clearStreamHandler(StreamId id);
    Result<qint64> sendStreamData(StreamId id, QByteArrayView data);
    Status endStream(StreamId id);
    void resetStream(StreamId id, StreamResetReason reason);
    void consumeStreamData(StreamId id, qint64 bytes);
    Status sendDatagram(StreamId id, QByteArrayView payload);
    qint64 maxDatagramPayload(StreamId id) const;
    PeerSettings peerSettings() const { return m_peerSettings; }
    qint64 openStreamCount() const noexcept { return m_openOutgoing + m_openIncoming; }

    // goaway: graceful shutdown (RFC 9113, 6.8): GOAWAY with the last processed stream id, or
    // with `lastStreamId` (server: streams above it are refused). finished() follows once the
    // remaining streams ended.
    void goaway(std::optional<StreamId> lastStreamId = std::nullopt);
    bool isDraining() const noexcept { return m_goawaySent || m_goawayReceived; }
    // close: GOAWAY(NO_ERROR) and TLS close now; finished(local_close) follows, queued.
    void close();
    // socketClosed: the owner saw the socket fail or close; `cause` is its typed reading of it.
    void socketClosed(const Error &cause);
    bool isFinished() const noexcept { return m_finished; }

    void fillStats(TransportStats &stats) const;

Q_SIGNALS:
    // settingsReceived: a SETTINGS frame from the peer was applied; `first` for the first one
    // (the client is ready for requests then: extended CONNECT support is known).
    void settingsReceived(bool first);
    void goawayReceived(qmasque::StreamId lastStreamId);
    // outgoingSlotFreed: one of our streams closed while we had as many open as the peer's
    // SETTINGS_MAX_CONCURRENT_STREAMS allows, so submitRequest() takes a request again.
    void outgoingSlotFreed();
    void streamReset(qmasque::StreamId id, const qmasque::Error &reason);
    void requestReceived(qmasque::StreamId id, const qmasque::IncomingRequest &request);
    // finished: the session is over (drained, closed, or failed); queued, emitted once.
    void finished(const qmasque::Error &reason);

private:
    friend struct H2Callbacks;

    // closeOutgoing: bookkeeping when one of our streams stops counting against the limit.
    void closeOutgoing();

    // nghttp2 callback bodies (H2SessionCallbacks.cpp); they return nghttp2 status codes.
    int onBeginHeaders(const nghttp2_frame *frame);
    int onHeader(const nghttp2_frame *frame, QByteArrayView name, QByteArrayView value);
    int onFrameRecv(const nghttp2_frame *frame);
    int onDataChunk(int32_t streamId, QByteArrayView data);
    int onStreamClose(int32_t streamId, uint32_t errorCode);
    int onFrameSend(const nghttp2_frame *frame);
    int onFrameNotSend(const nghttp2_frame *frame, int libError);
    ssize_t readStreamData(int32_t streamId, uint8_t *buffer, size_t length, uint32_t *flags);

    void handleHeadersFrame(H2Stream &stream, const nghttp2_frame *frame);
    void handleSettings(const nghttp2_settings &settings);
    void handlePingAck(const nghttp2_ping &ping);

    H2Stream *findStream(StreamId id) const;
    H2Stream &addStream(int32_t id, bool outgoing);
    // retire: forgets a stream whose life is over; credits its unconsumed bytes to the connection
    // window and frees it at the next event-loop entry (never inside a callback stack).
    void retire(H2Stream &stream);
    void sweep();
    nghttp2_data_provider dataProvider();

    void deliverResponse(H2Stream &stream, const Response &response);
    void deliverData(H2Stream &stream, QByteArrayView data, bool fin);
    void deliverReset(H2Stream &stream, const Error &reason);
    bool isAttached(StreamId id, StreamHandler *handler) const;

    void handleReadyRead();
    void scheduleFlush();
    void flush();
    void writeOut();
    qint64 socketBacklog() const;
    void notifyWritable();
    void checkDrained();
    void handleKeepalive();
    void sendPing();
    void updateIdleTimer();

    // fail: a fatal protocol or library error: GOAWAY with `wireCode`, then close.
    void fail(const Error &reason, uint32_t wireCode);
    // finish: ends the session once; `graceful` flushes what nghttp2 still has and closes TLS
    // cleanly, else the socket is aborted. finished() is emitted queued.
    void finish(const Error &reason, bool graceful);
    void teardown();
    void emitFinished();

    const Role m_role;
    QSslSocket *m_socket; // not owned; outlives the session
    const Config m_config;

    // Members in dependency order: the streams must outlive the nghttp2 session that refers to
    // them by id, so the session is declared last and destroyed first.
    std::unordered_map<int32_t, std::unique_ptr<H2Stream>> m_streams;
    std::vector<std::unique_ptr<H2Stream>> m_retired;
    Nghttp2SessionPtr m_session;

    PeerSettings m_peerSettings;
    qint64 m_openOutgoing = 0;
    qint64 m_openIncoming = 0;
    std::vector<int32_t> m_writable; // streams to notify with onStreamWritable()
    QByteArray m_out;                // frames coalesced for the next socket write
    QByteArray m_capsule;            // scratch for DATAGRAM capsules
    std::array<char, 64 * 1024> m_readBuffer{};

    int m_libraryDepth = 0; // > 0 while inside nghttp2_session_mem_recv/mem_send
    bool m_flushScheduled = false;
    bool m_goawaySent = false;
    bool m_goawayReceived = false;
    int32_t m_goawayLastId = 0;
    uint32_t m_goawayErrorCode = 0;
    bool m_finished = false;
    bool m_teardownDone = false;
    bool m_finishedEmitted = false;
    bool m_gracefulTeardown = false;
    Error m_finishReason;

    QTimer m_keepaliveTimer;
    QTimer m_idleTimer;
    QElapsedTimer m_clock;
    bool m_pingOutstanding = false;
    qint64 m_pingSentNs = 0;
    quint64 m_bytesAtPing = 0;

    // Counters for stats().
    quint64 m_bytesSent = 0;
    quint64 m_bytesReceived = 0;
    quint64 m_framesSent = 0;
    quint64 m_framesReceived = 0;
    quint64 m_datagramsSent = 0;
    DatagramDrops m_datagramDrops;
    qint64 m_smoothedRttUs = -1;
    qint64 m_rttVarianceUs = -1;
    qint64 m_minRttUs = -1;
};

// h2CallbackTable: the nghttp2 callbacks of every H2Session (H2SessionCallbacks.cpp).
const nghttp2_session_callbacks *h2CallbackTable();

} // namespace qmasque
