#pragma once

#include "transport/HttpConnection.h"
#include "transport/ServerConnection.h"
#include "transport/h3/H3SettingsSniffer.h"
#include "transport/h3/H3Stream.h"
#include "transport/h3/H3StreamTable.h"
#include "transport/h3/QuicConnection.h"

#include <QtCore/QTimer>

#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace qmasque::h3 {

// H3SessionEvents: what an H3Session reports to its HttpConnection (H3Transport or
// H3ServerConnection), which turns it into signals. Calls may come from inside library
// callbacks: sessionConnected() and sessionClosed() must be emitted queued.
class H3SessionEvents
{
public:
    virtual ~H3SessionEvents() = default;
    virtual void sessionConnected() = 0;
    virtual void sessionSettingsChanged() = 0;
    virtual void sessionGoawayReceived(StreamId id) = 0;
    virtual void sessionStreamReset(StreamId id, const Error &reason) = 0;
    virtual void sessionDatagramReceived(StreamId id, QByteArrayView payload) = 0;
    virtual void sessionRequestReceived(StreamId id, const IncomingRequest &request)
    {
        Q_UNUSED(id)
        Q_UNUSED(request)
    }
    virtual void sessionClosed(const Error &reason) = 0;
};

// H3Session: HTTP/3 (RFC 9114) over one QuicConnection with nghttp3, for both roles, plus HTTP
// Datagrams (RFC 9297) as QUIC DATAGRAM frames (RFC 9221). It implements the stream operations of
// HttpConnection; the two connection classes forward to it.
//
// SETTINGS: enable_connect_protocol = 1 (RFC 9220; servers) and H3_DATAGRAM = 1 (RFC 9297,
// 2.1.1) are announced; the peer's arrive through nghttp3's recv_settings callback (plus
// H3SettingsSniffer for extended CONNECT on clients) and make peerSettings(). A client counts
// as connected once the handshake is confirmed (HANDSHAKE_DONE: the server accepted it, client
// certificate included) and the server's SETTINGS arrived, so extended CONNECT and datagram
// support are known at first use.
//
// Flow control is consumption based: DATA bytes are credited back to QUIC only when the handler
// calls consumeStreamData() (HTTP/3 framing bytes at once). Each stream's unsent bytes are bounded
// by `streamSendBuffer`; onStreamWritable() follows when half of it drained.
//
// Datagrams: sendDatagram() prefixes the quarter stream id (RFC 9297, 2.1). A received datagram
// is reported (sessionDatagramReceived) only for an open stream; unknown, closed or malformed
// ones are counted and dropped. DATAGRAM capsules on the request stream itself (RFC 9297, 3.5)
// are stream data here; the tunnel session's capsule parser treats them as datagrams.
//
// Re-entrancy: stream operations may be called from inside handler callbacks; the ones that
// would re-enter ngtcp2's read path (resets, resumes, GOAWAY, close) are deferred to the next
// write (prepareWrite()). Engine thread only; not copyable.
class H3Session final : public QuicApplication
{
public:
    enum class Role : quint8
    {
        Client,
        Server
    };

    H3Session(Role role, qint64 streamSendBuffer, H3SessionEvents *events);
    ~H3Session() override;
    Q_DISABLE_COPY_MOVE(H3Session)

    // setConnection: the QUIC connection (not owned; outlives the session's use of it).
    void setConnection(QuicConnection *quic) noexcept
    {
        m_quic = quic;
        m_streams.setConnection(quic);
    }

    HttpConnection::State state() const noexcept { return m_state; }
    bool isConnected() const noexcept { return m_state == HttpConnection::State::Connected; }

    // HttpConnection stream operations (see HttpConnection.h for the contract).
    Status setStreamHandler(StreamId id, StreamHandler *handler);
    void clearStreamHandler(StreamId id);
    Result<qint64> sendStreamData(StreamId id, QByteArrayView data);
    Status endStream(StreamId id);
    void resetStream(StreamId id, StreamResetReason reason);
    void consumeStreamData(StreamId id, qint64 bytes);
    Status sendDatagram(StreamId id, QByteArrayView payload);
    qint64 maxDatagramPayload(StreamId id) const;
    PeerSettings peerSettings() const { return m_peer; }
    qint64 openStreamCount() const noexcept { return m_streams.openCount(); }
    void goaway();
    // close: closes with H3_NO_ERROR; the API is closed at once, connectionClosed() follows.
    void close(const Error &reason);
    void fillStats(TransportStats &stats) const;

    // Client: Transport::submitRequest() and peerStreamLimit().
    Result<StreamId> submitRequest(const Request &request);
    std::optional<qint64> peerStreamLimit() const;
    // Server: ServerConnection::submitResponse().
    Status submitResponse(StreamId id, const Response &response, bool endStream);

    // QuicApplication
    int startApplication() override;
    int handshakeCompleted() override;
    int handshakeConfirmed() override;
    int receiveStreamData(int64_t streamId, uint32_t flags, const uint8_t *data,
                          size_t size) override;
    int ackedStreamData(int64_t streamId, uint64_t bytes) override;
    int streamClosed(int64_t streamId, uint32_t flags, uint64_t appErrorCode) override;
    int streamReset(int64_t streamId, uint64_t appErrorCode) override;
    int streamStopSending(int64_t streamId, uint64_t appErrorCode) override;
    int extendMaxStreamData(int64_t streamId) override;
    void localStreamCreditChanged() override;
    void receiveDatagram(const uint8_t *data, size_t size) override;
    void prepareWrite() override;
    int64_t streamDataToWrite(int64_t *streamId, int *fin, ngtcp2_vec *vectors,
                              size_t capacity) override;
    int streamDataWritten(int64_t streamId, size_t bytes) override;
    void streamBlocked(int64_t streamId) override;
    void streamWriteShut(int64_t streamId) override;
    void writeFinished() override;
    void connectionClosed(const Error &reason) override;

private:
    friend struct H3Callbacks;

    int setUp();
    int fail(int nghttp3Error);
    void deferShutdown(StreamId id, uint64_t appErrorCode);
    void maybeConnected();
    void checkDrained();
    void finishStream(StreamId id, uint64_t appErrorCode);

    // nghttp3 callback bodies (H3Callbacks).
    int onBeginHeaders(StreamId id, H3Stream *stream);
    void onEndHeaders(H3Stream &stream);
    int onSettings(const nghttp3_settings &settings);
    void onGoaway(int64_t id);

    Role m_role;
    H3SessionEvents *m_events;        // not owned; the connection object that owns this session
    QuicConnection *m_quic = nullptr; // not owned; see setConnection()
    Nghttp3ConnPtr m_h3;

    HttpConnection::State m_state = HttpConnection::State::Connecting;
    bool m_handshakeDone = false;
    bool m_handshakeConfirmed = false;
    bool m_finished = false; // connectionClosed() happened
    bool m_connectedAnnounced = false;
    PeerSettings m_peer;
    H3SettingsSniffer m_settingsSniffer; // client: see H3SettingsSniffer.h
    H3StreamTable m_streams;
    quint64 m_clientStreamsAllowed = 0; // server: cumulative MAX_STREAMS granted to the client

    bool m_goawayRequested = false; // goaway(): GOAWAY to send
    bool m_goawaySent = false;      // final GOAWAY submitted to nghttp3
    bool m_goawayReceived = false;
    int64_t m_goawayId = -1;
    QTimer m_goawayTimer; // server: notice first, the final GOAWAY one PTO later
    bool m_goawayNoticeSent = false;

    std::vector<std::pair<StreamId, uint64_t>> m_deferredShutdowns;

    quint64 m_datagramsUnknownStream = 0;
    quint64 m_datagramsMalformed = 0;
};

} // namespace qmasque::h3
