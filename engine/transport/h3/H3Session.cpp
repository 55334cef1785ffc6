#include "transport/h3/H3Session.h"

#include "core/Log.h"
#include "transport/StreamHandler.h"
#include "wire/ByteReader.h"
#include "wire/Varint.h"

#include <algorithm>

namespace qmasque::h3 {

namespace {

// The most one read_data call hands to nghttp3: keeps "unsent" honest (nghttp3 asks again as
// its queue drains) instead of moving the whole send buffer into nghttp3 at once.
constexpr qint64 kMaxHandOut = 64 * 1024;

uint64_t resetCode(StreamResetReason reason)
{
    switch (reason) {
    case StreamResetReason::Cancel:
        return NGHTTP3_H3_REQUEST_CANCELLED;
    case StreamResetReason::ConnectError:
        return NGHTTP3_H3_CONNECT_ERROR; // RFC 9114, 8.1: a TCP tunnel aborted
    case StreamResetReason::MessageError:
        return NGHTTP3_H3_MESSAGE_ERROR;
    case StreamResetReason::Refused:
        return NGHTTP3_H3_REQUEST_REJECTED;
    case StreamResetReason::Internal:
        return NGHTTP3_H3_INTERNAL_ERROR;
    }
    return NGHTTP3_H3_INTERNAL_ERROR;
}

Error peerReset(uint64_t code)
{
    Error error(ErrorCode::PeerReset,
                QStringLiteral("peer reset the stream (0x%1)").arg(code, 0, 16));
    error.wireCode = code;
    return error;
}

bool isClientBidi(StreamId id)
{
    return id >= 0 && (id & 0x3) == 0;
}

} // namespace

// H3Callbacks: nghttp3 callback trampolines; conn_user_data is the session, stream_user_data the
// H3Stream (null for streams nghttp3 knows and we do not: control and QPACK streams).
struct H3Callbacks
{
    static H3Session *self(void *userData) { return static_cast<H3Session *>(userData); }
    static H3Stream *stream(void *streamUserData)
    {
        return static_cast<H3Stream *>(streamUserData);
    }

    static int ackedStreamData(nghttp3_conn *, int64_t, uint64_t size, void *, void *sud)
    {
        if (H3Stream *s = stream(sud))
            s->send.acknowledge(size);
        return 0;
    }
    static int streamClose(nghttp3_conn *, int64_t id, uint64_t code, void *ud, void *)
    {
        self(ud)->finishStream(id, code);
        return 0;
    }
    static int recvData(nghttp3_conn *, int64_t, const uint8_t *data, size_t size, void *ud,
                        void *sud)
    {
        if (H3Stream *s = stream(sud))
            self(ud)->onData(*s, data, size);
        return 0;
    }
    static int deferredConsume(nghttp3_conn *, int64_t id, size_t consumed, void *ud, void *)
    {
        // Bytes nghttp3 held back while QPACK was blocked are framing: credit at once.
        self(ud)->credit(id, qint64(consumed));
        return 0;
    }
    static int beginHeaders(nghttp3_conn *, int64_t id, void *ud, void *sud)
    {
        return self(ud)->onBeginHeaders(id, stream(sud));
    }
    static int recvHeader(nghttp3_conn *, int64_t, int32_t, nghttp3_rcbuf *name,
                          nghttp3_rcbuf *value, uint8_t, void *, void *sud)
    {
        if (H3Stream *s = stream(sud)) {
            const nghttp3_vec n = nghttp3_rcbuf_get_buf(name);
            const nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
            s->fields.add(QByteArrayView(n.base, qsizetype(n.len)),
                          QByteArrayView(v.base, qsizetype(v.len)));
        }
        return 0;
    }
    static int endHeaders(nghttp3_conn *, int64_t, int, void *ud, void *sud)
    {
        if (H3Stream *s = stream(sud))
            self(ud)->onEndHeaders(*s);
        return 0;
    }
    static int stopSending(nghttp3_conn *, int64_t id, uint64_t code, void *ud, void *)
    {
        // nghttp3 asks us to stop reading (for example a response ended the exchange).
        ngtcp2_conn_shutdown_stream_read(self(ud)->m_quic->handle(), 0, id, code);
        return 0;
    }
    static int endStream(nghttp3_conn *, int64_t, void *ud, void *sud)
    {
        if (H3Stream *s = stream(sud))
            self(ud)->onEndStream(*s);
        return 0;
    }
    static int resetStream(nghttp3_conn *, int64_t id, uint64_t code, void *ud, void *sud)
    {
        // nghttp3 rejects a malformed message (RFC 9114, 4.1.2): abort our side too.
        ngtcp2_conn_shutdown_stream_write(self(ud)->m_quic->handle(), 0, id, code);
        if (H3Stream *s = stream(sud)) {
            Error error(ErrorCode::ProtocolError,
                        QStringLiteral("malformed HTTP/3 message (0x%1)").arg(code, 0, 16));
            error.wireCode = code;
            self(ud)->reportReset(*s, error);
        }
        return 0;
    }
    static int shutdown(nghttp3_conn *, int64_t id, void *ud)
    {
        self(ud)->onGoaway(id);
        return 0;
    }
    static int recvSettings(nghttp3_conn *, const nghttp3_settings *settings, void *ud)
    {
        return self(ud)->onSettings(*settings);
    }
    static nghttp3_ssize readData(nghttp3_conn *, int64_t, nghttp3_vec *vectors, size_t capacity,
                                  uint32_t *flags, void *ud, void *sud)
    {
        H3Stream *s = stream(sud);
        if (!s)
            return NGHTTP3_ERR_WOULDBLOCK;
        return self(ud)->readBody(*s, vectors, capacity, flags);
    }

    static nghttp3_callbacks make()
    {
        nghttp3_callbacks callbacks{};
        callbacks.acked_stream_data = &ackedStreamData;
        callbacks.stream_close = &streamClose;
        callbacks.recv_data = &recvData;
        callbacks.deferred_consume = &deferredConsume;
        callbacks.begin_headers = &beginHeaders;
        callbacks.recv_header = &recvHeader;
        callbacks.end_headers = &endHeaders;
        callbacks.stop_sending = &stopSending;
        callbacks.end_stream = &endStream;
        callbacks.reset_stream = &resetStream;
        callbacks.shutdown = &shutdown;
        callbacks.recv_settings = &recvSettings;
        return callbacks;
    }
};

namespace {

const nghttp3_data_reader kBodyReader{&H3Callbacks::readData};

} // namespace

H3Session::H3Session(Role role, qint64 streamSendBuffer, H3SessionEvents *events)
    : m_role(role)
    , m_streamSendBuffer(std::max<qint64>(streamSendBuffer, 1024))
    , m_events(events)
{
    m_goawayTimer.setSingleShot(true);
    QObject::connect(&m_goawayTimer, &QTimer::timeout, &m_goawayTimer, [this] {
        if (m_quic)
            m_quic->scheduleFlush();
    });
}

H3Session::~H3Session()
{
    // nghttp3 holds pointers into the streams' send buffers: free it first.
    m_h3.reset();
}

H3Stream *H3Session::findStream(StreamId id) const
{
    const auto it = m_streams.find(id);
    return it == m_streams.end() ? nullptr : it->second.get();
}

H3Stream *H3Session::createStream(StreamId id)
{
    auto stream = std::make_unique<H3Stream>();
    stream->id = id;
    stream->fields.server = m_role == Role::Server;
    H3Stream *raw = stream.get();
    m_streams[id] = std::move(stream);
    ++m_openCount;
    return raw;
}

void H3Session::eraseStream(StreamId id)
{
    m_streams.erase(id);
}

int H3Session::fail(int nghttp3Error)
{
    m_quic->setApplicationError(
        nghttp3_err_infer_quic_app_error_code(nghttp3Error),
        Error(ErrorCode::ProtocolError,
              QStringLiteral("HTTP/3: %1").arg(QString::fromUtf8(nghttp3_strerror(nghttp3Error)))));
    return NGTCP2_ERR_CALLBACK_FAILURE;
}

void H3Session::credit(StreamId id, qint64 bytes)
{
    if (bytes <= 0 || !m_quic || !m_quic->isOpen())
        return;
    ngtcp2_conn_extend_max_stream_offset(m_quic->handle(), id, quint64(bytes));
    ngtcp2_conn_extend_max_offset(m_quic->handle(), quint64(bytes));
}

void H3Session::creditConnection(qint64 bytes)
{
    if (bytes <= 0 || !m_quic || !m_quic->isOpen())
        return;
    ngtcp2_conn_extend_max_offset(m_quic->handle(), quint64(bytes));
    m_quic->scheduleFlush();
}

int H3Session::setUp()
{
    if (m_h3)
        return 0;
    ngtcp2_conn *conn = m_quic->handle();
    // RFC 9114, 6.2: the control stream and both QPACK streams are unidirectional.
    if (ngtcp2_conn_get_streams_uni_left(conn) < 3) {
        m_quic->setApplicationError(
            NGHTTP3_H3_GENERAL_PROTOCOL_ERROR,
            Error(ErrorCode::ProtocolError, QStringLiteral("peer allows too few unidirectional "
                                                           "streams for HTTP/3")));
        return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    static const nghttp3_callbacks kCallbacks = H3Callbacks::make();
    nghttp3_settings settings;
    nghttp3_settings_default(&settings);
    settings.qpack_max_dtable_capacity = 4096;
    settings.qpack_blocked_streams = 100;
    settings.enable_connect_protocol = 1; // RFC 9220, 3 (ignored by clients)
    settings.h3_datagram = 1;             // RFC 9297, 2.1.1
    nghttp3_conn *raw = nullptr;
    const int rv = m_role == Role::Client
                       ? nghttp3_conn_client_new(&raw, &kCallbacks, &settings, nullptr, this)
                       : nghttp3_conn_server_new(&raw, &kCallbacks, &settings, nullptr, this);
    if (rv != 0)
        return fail(rv);
    m_h3.reset(raw);
    if (m_role == Role::Server) {
        m_clientStreamsAllowed =
            ngtcp2_conn_get_local_transport_params(conn)->initial_max_streams_bidi;
        nghttp3_conn_set_max_client_streams_bidi(raw, m_clientStreamsAllowed);
    }
    int64_t control = -1;
    int64_t encoder = -1;
    int64_t decoder = -1;
    if (ngtcp2_conn_open_uni_stream(conn, &control, nullptr) != 0 ||
        ngtcp2_conn_open_uni_stream(conn, &encoder, nullptr) != 0 ||
        ngtcp2_conn_open_uni_stream(conn, &decoder, nullptr) != 0) {
        return fail(NGHTTP3_ERR_H3_STREAM_CREATION_ERROR);
    }
    if (const int bound = nghttp3_conn_bind_control_stream(raw, control); bound != 0)
        return fail(bound);
    if (const int bound = nghttp3_conn_bind_qpack_streams(raw, encoder, decoder); bound != 0)
        return fail(bound);
    return 0;
}

int H3Session::startApplication()
{
    // The server opens its streams with its first 1-RTT keys (SETTINGS in its first flight);
    // the client once the handshake completed.
    return m_role == Role::Server ? setUp() : 0;
}

int H3Session::handshakeCompleted()
{
    m_handshakeDone = true;
    if (m_role == Role::Client) {
        const QByteArray alpn = m_quic->tls().negotiatedAlpn();
        if (alpn != "h3") {
            m_quic->setApplicationError(
                NGHTTP3_H3_GENERAL_PROTOCOL_ERROR,
                Error(ErrorCode::AlpnMismatch,
                      QStringLiteral("server negotiated ALPN \"%1\" instead of h3")
                          .arg(QString::fromLatin1(alpn))));
            return NGTCP2_ERR_CALLBACK_FAILURE;
        }
        if (const int rv = setUp(); rv != 0)
            return rv;
        maybeConnected();
        return 0;
    }
    if (m_state == HttpConnection::State::Connecting) {
        m_state = HttpConnection::State::Connected;
        m_events->sessionConnected();
    }
    return 0;
}

int H3Session::handshakeConfirmed()
{
    m_handshakeConfirmed = true;
    if (m_role == Role::Client)
        maybeConnected();
    return 0;
}

void H3Session::maybeConnected()
{
    if (m_connectedAnnounced || !m_handshakeConfirmed || !m_peer.received)
        return;
    m_connectedAnnounced = true;
    if (m_state == HttpConnection::State::Connecting)
        m_state = HttpConnection::State::Connected;
    m_events->sessionConnected();
}

int H3Session::onSettings(const nghttp3_settings &settings)
{
    const ngtcp2_transport_params *remote =
        ngtcp2_conn_get_remote_transport_params(m_quic->handle());
    const quint64 maxFrame = remote ? remote->max_datagram_frame_size : 0;
    // RFC 9297, 2.1.1: H3_DATAGRAM without the QUIC DATAGRAM extension is a connection error.
    if (settings.h3_datagram && maxFrame == 0) {
        m_quic->setApplicationError(
            NGHTTP3_H3_SETTINGS_ERROR,
            Error(ErrorCode::ProtocolError,
                  QStringLiteral("peer enabled H3_DATAGRAM without max_datagram_frame_size")));
        return NGHTTP3_ERR_CALLBACK_FAILURE;
    }
    m_peer.received = true;
    m_peer.extendedConnect = settings.enable_connect_protocol != 0 ||
                             m_settingsSniffer.enableConnectProtocol().value_or(false);
    m_peer.h3Datagram = settings.h3_datagram != 0;
    m_peer.maxDatagramFrameSize = maxFrame;
    if (m_role == Role::Client && !m_connectedAnnounced) {
        maybeConnected();
        return 0;
    }
    if (m_state != HttpConnection::State::Closed)
        m_events->sessionSettingsChanged();
    return 0;
}

void H3Session::localStreamCreditChanged()
{
    // RFC 9000, 4.6: MAX_STREAMS raised our stream credit; owners watching the capacity need
    // to know (peerStreamLimit() changed).
    if (m_role == Role::Client && m_connectedAnnounced && m_state != HttpConnection::State::Closed)
        m_events->sessionSettingsChanged();
}

int H3Session::onBeginHeaders(StreamId id, H3Stream *stream)
{
    if (!stream) {
        if (m_role != Role::Server)
            return 0;
        stream = createStream(id);
        if (const int rv = nghttp3_conn_set_stream_user_data(m_h3.get(), id, stream); rv != 0)
            return NGHTTP3_ERR_CALLBACK_FAILURE;
    }
    stream->fields.clear();
    return 0;
}

void H3Session::onEndHeaders(H3Stream &stream)
{
    if (m_state == HttpConnection::State::Closed)
        return; // close() was called: no event after it
    if (m_role == Role::Server) {
        if (!stream.responseSubmitted && !stream.localReset)
            m_events->sessionRequestReceived(stream.id, stream.fields.request);
        return;
    }
    const Response &response = stream.fields.response;
    // RFC 9114, 4.1: informational (1xx) responses precede the final one; they are not reported.
    if (response.status < 200 || stream.localReset || stream.reported)
        return;
    if (stream.handler)
        stream.handler->onStreamResponse(stream.id, response);
    else if (!stream.handlerCleared)
        stream.pendingResponse = response;
}

void H3Session::onData(H3Stream &stream, const uint8_t *data, size_t size)
{
    const qint64 length = qint64(size);
    if (stream.localReset || stream.reported || stream.handlerCleared ||
        m_state == HttpConnection::State::Closed) {
        credit(stream.id, length); // nobody will read it: acknowledge for flow control
        return;
    }
    stream.unconsumed += length;
    const QByteArrayView view(data, length);
    if (stream.handler)
        stream.handler->onStreamData(stream.id, view, false);
    else
        stream.pendingData.append(view);
}

void H3Session::onEndStream(H3Stream &stream)
{
    stream.finReceived = true;
    if (stream.localReset || stream.reported || stream.handlerCleared ||
        m_state == HttpConnection::State::Closed) {
        return;
    }
    if (stream.handler)
        stream.handler->onStreamData(stream.id, {}, true);
    else
        stream.pendingFin = true;
}

void H3Session::reportReset(H3Stream &stream, const Error &reason)
{
    if (stream.reported || stream.localReset || m_state == HttpConnection::State::Closed)
        return;
    stream.reported = true;
    stream.wantWritable = false;
    if (StreamHandler *handler = std::exchange(stream.handler, nullptr)) {
        releaseCredit(stream);
        handler->onStreamReset(stream.id, reason);
    } else if (!stream.handlerCleared) {
        stream.pendingReset = reason; // replayed by setStreamHandler()
    }
    m_events->sessionStreamReset(stream.id, reason);
}

void H3Session::releaseCredit(H3Stream &stream)
{
    // The handler is gone: what it did not consume will never be; give the connection window
    // back (the stream's own window no longer matters).
    creditConnection(std::exchange(stream.unconsumed, 0));
    stream.pendingData.clear();
}

void H3Session::finishStream(StreamId id, uint64_t appErrorCode)
{
    H3Stream *stream = findStream(id);
    if (!stream || stream->quicClosed)
        return;
    // Report first: the handler may react (clear, reset) while the record is still open.
    if (appErrorCode != NGHTTP3_H3_NO_ERROR)
        reportReset(*stream, peerReset(appErrorCode));
    stream = findStream(id);
    if (!stream)
        return;
    stream->quicClosed = true;
    --m_openCount;
    const bool keep = !stream->handler && !stream->handlerCleared && !stream->localReset &&
                      stream->hasPendingEvents();
    if (!keep) {
        releaseCredit(*stream);
        eraseStream(id);
    }
    checkDrained();
}

void H3Session::deferShutdown(H3Stream &stream, uint64_t appErrorCode)
{
    m_deferredShutdowns.emplace_back(stream.id, appErrorCode);
    if (m_quic)
        m_quic->scheduleFlush();
}

void H3Session::deferResume(H3Stream &stream)
{
    if (!stream.bodyOpen)
        return;
    m_deferredResumes.push_back(stream.id);
    m_quic->scheduleFlush();
}

Status H3Session::setStreamHandler(StreamId id, StreamHandler *handler)
{
    H3Stream *stream = findStream(id);
    if (!stream || stream->localReset || (stream->reported && !stream->pendingReset))
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    stream->handler = handler;
    stream->handlerCleared = false;
    // Replay, in order, what arrived while nobody listened. The handler may act on each event
    // (clear itself, reset the stream), so look the stream up again before the next one.
    if (auto response = std::exchange(stream->pendingResponse, std::nullopt))
        handler->onStreamResponse(id, *response);
    stream = findStream(id);
    if (stream && stream->handler == handler &&
        (!stream->pendingData.isEmpty() || stream->pendingFin)) {
        const QByteArray data = std::exchange(stream->pendingData, QByteArray());
        const bool fin = std::exchange(stream->pendingFin, false);
        handler->onStreamData(id, data, fin);
        stream = findStream(id);
    }
    if (stream && stream->handler == handler && stream->pendingReset) {
        const Error reason = *std::exchange(stream->pendingReset, std::nullopt);
        stream->handler = nullptr;
        releaseCredit(*stream);
        handler->onStreamReset(id, reason);
        stream = findStream(id);
    }
    // A stream QUIC already closed is done once its events are delivered.
    if (stream && stream->quicClosed && !stream->hasPendingEvents()) {
        releaseCredit(*stream);
        eraseStream(id);
    }
    return {};
}

void H3Session::clearStreamHandler(StreamId id)
{
    H3Stream *stream = findStream(id);
    if (!stream)
        return;
    stream->handler = nullptr;
    stream->handlerCleared = true;
    stream->pendingResponse.reset();
    stream->pendingFin = false;
    stream->pendingReset.reset();
    stream->wantWritable = false;
    // Later data is discarded but acknowledged; what the old handler held is credited now.
    credit(id, std::exchange(stream->unconsumed, 0));
    stream->pendingData.clear();
    if (m_quic)
        m_quic->scheduleFlush();
    if (stream->quicClosed)
        eraseStream(id);
}

Result<qint64> H3Session::sendStreamData(StreamId id, QByteArrayView data)
{
    if (m_state == HttpConnection::State::Closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("connection closed"));
    H3Stream *stream = findStream(id);
    if (!stream)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    if (stream->localReset || stream->reported || stream->finRequested || stream->writeShut ||
        stream->quicClosed) {
        return Error(ErrorCode::StreamClosed,
                     QStringLiteral("stream %1 closed for sending").arg(id));
    }
    const qint64 room = std::max<qint64>(0, m_streamSendBuffer - stream->send.unsentBytes());
    const qint64 accepted = std::min<qint64>(room, data.size());
    if (accepted < data.size())
        stream->wantWritable = true;
    if (accepted > 0) {
        stream->send.append(data.first(accepted));
        deferResume(*stream);
    }
    return accepted;
}

Status H3Session::endStream(StreamId id)
{
    H3Stream *stream = findStream(id);
    if (!stream)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    if (stream->finRequested)
        return {};
    if (stream->localReset || stream->reported || stream->quicClosed)
        return Error(ErrorCode::StreamClosed, QStringLiteral("stream %1 closed").arg(id));
    stream->finRequested = true;
    deferResume(*stream);
    return {};
}

void H3Session::resetStream(StreamId id, StreamResetReason reason)
{
    H3Stream *stream = findStream(id);
    if (!stream || stream->localReset)
        return;
    stream->localReset = true;
    stream->handler = nullptr;
    stream->wantWritable = false;
    stream->pendingResponse.reset();
    stream->pendingFin = false;
    stream->pendingReset.reset();
    releaseCredit(*stream);
    if (stream->quicClosed) {
        eraseStream(id);
        return;
    }
    // RFC 9000, 3.2 and 3.5: RESET_STREAM and STOP_SENDING, sent from the write loop (this may
    // run inside a read callback). The send buffer stays until QUIC forgets the stream, since
    // nghttp3 may still point into it.
    deferShutdown(*stream, resetCode(reason));
}

void H3Session::consumeStreamData(StreamId id, qint64 bytes)
{
    H3Stream *stream = findStream(id);
    if (!stream || bytes <= 0)
        return;
    const qint64 credited = std::min(bytes, stream->unconsumed);
    stream->unconsumed -= credited;
    credit(id, credited);
    if (credited > 0)
        m_quic->scheduleFlush();
}

Status H3Session::sendDatagram(StreamId id, QByteArrayView payload)
{
    if (m_state == HttpConnection::State::Closed || !m_quic)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("connection closed"));
    if (!m_peer.h3Datagram) {
        m_quic->countDatagramNotNegotiated();
        return Error(ErrorCode::NoH3Datagram, QStringLiteral("peer did not enable HTTP datagrams"));
    }
    const H3Stream *stream = findStream(id);
    if (!stream || !isClientBidi(id) || stream->localReset || stream->reported ||
        stream->quicClosed) {
        return Error(ErrorCode::UnknownStream, QStringLiteral("no open stream %1").arg(id));
    }
    // RFC 9297, 2.1: Quarter Stream ID = stream id / 4, then the payload (context id first).
    char prefix[8];
    const int length = wire::encodeVarint(quint64(id) / 4, prefix);
    return m_quic->queueDatagram(QByteArrayView(prefix, length), payload);
}

qint64 H3Session::maxDatagramPayload(StreamId id) const
{
    if (!m_peer.h3Datagram || !m_quic || id < 0)
        return 0;
    return std::max<qint64>(0, m_quic->maxDatagramPayload() - wire::varintLength(quint64(id) / 4));
}

void H3Session::receiveDatagram(const uint8_t *data, size_t size)
{
    wire::ByteReader reader(QByteArrayView(data, qsizetype(size)));
    const std::optional<quint64> quarter = reader.readVarint();
    // RFC 9297, 2.1: the quarter stream id maps to a client-initiated bidirectional stream.
    if (!quarter || *quarter > (wire::kVarintMax >> 2)) {
        ++m_datagramsMalformed;
        return;
    }
    const StreamId id = StreamId(*quarter * 4);
    const H3Stream *stream = findStream(id);
    if (!stream || stream->localReset || stream->reported || stream->quicClosed ||
        m_state == HttpConnection::State::Closed) {
        ++m_datagramsUnknownStream;
        return;
    }
    m_quic->countDatagramReceived();
    m_events->sessionDatagramReceived(id, reader.rest());
}

int64_t H3Session::readBody(H3Stream &stream, nghttp3_vec *vectors, size_t capacity,
                            uint32_t *flags)
{
    const size_t count = stream.localReset ? 0 : stream.send.take(vectors, capacity, kMaxHandOut);
    if (stream.finRequested && stream.send.unsentBytes() == 0)
        *flags |= NGHTTP3_DATA_FLAG_EOF;
    else if (count == 0)
        return NGHTTP3_ERR_WOULDBLOCK; // resumed by sendStreamData() / endStream()
    if (stream.wantWritable && !stream.writableQueued &&
        stream.send.unsentBytes() <= m_streamSendBuffer / 2) {
        stream.writableQueued = true;
        m_writableQueue.push_back(stream.id);
    }
    return int64_t(count);
}

Result<StreamId> H3Session::submitRequest(const Request &request)
{
    switch (m_state) {
    case HttpConnection::State::Closed:
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("connection closed"));
    case HttpConnection::State::Draining:
        return Error(ErrorCode::Goaway, QStringLiteral("connection is draining (GOAWAY)"));
    case HttpConnection::State::Connected:
        break;
    default:
        return Error(ErrorCode::NotReady, QStringLiteral("connection not established yet"));
    }
    auto block = requestHeaders(request);
    if (!block)
        return block.error();
    // RFC 9220, 3: extended CONNECT only after the server sent ENABLE_CONNECT_PROTOCOL = 1.
    if (request.isExtendedConnect() && !m_peer.extendedConnect) {
        return Error(ErrorCode::NoExtendedConnect,
                     QStringLiteral("server did not enable extended CONNECT"));
    }
    ngtcp2_conn *conn = m_quic->handle();
    int64_t id = -1;
    if (const int rv = ngtcp2_conn_open_bidi_stream(conn, &id, nullptr); rv != 0) {
        if (rv == NGTCP2_ERR_STREAM_ID_BLOCKED) {
            return Error(ErrorCode::StreamLimit,
                         QStringLiteral("peer's MAX_STREAMS credit is exhausted"));
        }
        return Error(ErrorCode::Internal, QString::fromUtf8(ngtcp2_strerror(rv)));
    }
    H3Stream *stream = createStream(id);
    stream->finRequested = request.endStream;
    stream->bodyOpen = !request.endStream;
    const int rv =
        nghttp3_conn_submit_request(m_h3.get(), id, block->fields.data(), block->fields.size(),
                                    request.endStream ? nullptr : &kBodyReader, stream);
    if (rv != 0) {
        ngtcp2_conn_shutdown_stream(conn, 0, id, NGHTTP3_H3_REQUEST_CANCELLED);
        --m_openCount;
        eraseStream(id);
        if (rv == NGHTTP3_ERR_CONN_CLOSING)
            return Error(ErrorCode::Goaway, QStringLiteral("connection is shutting down"));
        return Error(ErrorCode::Internal, QString::fromUtf8(nghttp3_strerror(rv)));
    }
    m_quic->scheduleFlush();
    return StreamId(id);
}

std::optional<qint64> H3Session::peerStreamLimit() const
{
    if (!m_quic || !m_handshakeDone || m_state == HttpConnection::State::Closed)
        return std::nullopt;
    // RFC 9000, 4.6: what may be open at once is what is open plus the remaining credit.
    return m_openCount + qint64(ngtcp2_conn_get_streams_bidi_left(m_quic->handle()));
}

Status H3Session::submitResponse(StreamId id, const Response &response, bool endStream)
{
    if (m_state == HttpConnection::State::Closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("connection closed"));
    H3Stream *stream = findStream(id);
    if (!stream)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    if (stream->responseSubmitted || stream->localReset || stream->reported || stream->quicClosed)
        return Error(ErrorCode::StreamClosed, QStringLiteral("stream %1 closed").arg(id));
    auto block = responseHeaders(response);
    if (!block)
        return block.error();
    if (endStream)
        stream->finRequested = true;
    const bool body = !(stream->finRequested && stream->send.unsentBytes() == 0);
    if (const int rv =
            nghttp3_conn_submit_response(m_h3.get(), id, block->fields.data(), block->fields.size(),
                                         body ? &kBodyReader : nullptr);
        rv != 0) {
        return Error(ErrorCode::Internal, QString::fromUtf8(nghttp3_strerror(rv)));
    }
    stream->responseSubmitted = true;
    stream->bodyOpen = body;
    m_quic->scheduleFlush();
    return {};
}

void H3Session::goaway()
{
    if (m_state == HttpConnection::State::Closed || m_goawayRequested)
        return;
    m_goawayRequested = true;
    m_state = HttpConnection::State::Draining;
    if (m_quic)
        m_quic->scheduleFlush();
}

void H3Session::close(const Error &reason)
{
    if (m_state == HttpConnection::State::Closed)
        return;
    // Closed for the API at once; the CONNECTION_CLOSE goes out from the next write, and
    // connectionClosed() reports it.
    m_state = HttpConnection::State::Closed;
    m_goawayTimer.stop();
    if (m_quic)
        m_quic->close(NGHTTP3_H3_NO_ERROR, reason);
}

void H3Session::onGoaway(int64_t id)
{
    m_goawayReceived = true;
    m_goawayId = id;
    if (m_state == HttpConnection::State::Closed)
        return;
    if (m_state == HttpConnection::State::Connected || m_state == HttpConnection::State::Connecting)
        m_state = HttpConnection::State::Draining;
    m_events->sessionGoawayReceived(id);
    if (m_role == Role::Client) {
        // RFC 9114, 5.2: requests on streams >= the GOAWAY id were not and will not be
        // processed; they can be retried elsewhere.
        std::vector<H3Stream *> refused;
        for (const auto &[streamId, stream] : m_streams) {
            if (streamId >= id && !stream->localReset && !stream->reported && !stream->quicClosed)
                refused.push_back(stream.get());
        }
        for (H3Stream *stream : refused) {
            reportReset(*stream,
                        Error(ErrorCode::Goaway,
                              QStringLiteral("request not processed (GOAWAY %1)").arg(id)));
            deferShutdown(*stream, NGHTTP3_H3_REQUEST_CANCELLED);
        }
    }
    checkDrained();
}

void H3Session::checkDrained()
{
    if (m_state == HttpConnection::State::Closed || m_openCount > 0 || !m_quic)
        return;
    if (m_goawaySent) {
        m_quic->close(NGHTTP3_H3_NO_ERROR,
                      Error(ErrorCode::LocalClose, QStringLiteral("graceful shutdown complete")));
    } else if (m_goawayReceived && m_role == Role::Client &&
               quint64(m_goawayId) != NGHTTP3_SHUTDOWN_NOTICE_STREAM_ID) {
        m_quic->close(
            NGHTTP3_H3_NO_ERROR,
            Error(ErrorCode::Goaway, QStringLiteral("server sent GOAWAY; all streams finished")));
    }
}

int H3Session::receiveStreamData(int64_t streamId, uint32_t flags, const uint8_t *data, size_t size)
{
    if (!m_h3)
        return 0;
    // Server-initiated unidirectional streams (RFC 9000, 2.1: id & 3 == 3) carry the control
    // stream; nghttp3 1.8 does not tell clients about ENABLE_CONNECT_PROTOCOL.
    if (m_role == Role::Client && (streamId & 0x3) == 0x3 && !m_settingsSniffer.done())
        m_settingsSniffer.feed(streamId, data, size);
    const nghttp3_ssize consumed = nghttp3_conn_read_stream(
        m_h3.get(), streamId, data, size, (flags & NGTCP2_STREAM_DATA_FLAG_FIN) ? 1 : 0);
    if (consumed < 0)
        return fail(int(consumed));
    // Framing and QPACK bytes are ours to credit at once; DATA payload waits for the handler.
    credit(streamId, qint64(consumed));
    return 0;
}

int H3Session::ackedStreamData(int64_t streamId, uint64_t bytes)
{
    if (!m_h3)
        return 0;
    if (const int rv = nghttp3_conn_add_ack_offset(m_h3.get(), streamId, bytes); rv != 0)
        return fail(rv);
    return 0;
}

int H3Session::streamClosed(int64_t streamId, uint32_t flags, uint64_t appErrorCode)
{
    if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET))
        appErrorCode = NGHTTP3_H3_NO_ERROR;
    int rv = NGHTTP3_ERR_STREAM_NOT_FOUND;
    if (m_h3)
        rv = nghttp3_conn_close_stream(m_h3.get(), streamId, appErrorCode);
    if (rv == NGHTTP3_ERR_STREAM_NOT_FOUND) {
        finishStream(streamId, appErrorCode);
    } else if (rv != 0) {
        return fail(rv);
    }
    // RFC 9000, 4.6: a closed client stream frees a slot: grant one more (MAX_STREAMS).
    if (m_role == Role::Server && isClientBidi(streamId)) {
        ngtcp2_conn_extend_max_streams_bidi(m_quic->handle(), 1);
        ++m_clientStreamsAllowed;
        if (m_h3)
            nghttp3_conn_set_max_client_streams_bidi(m_h3.get(), m_clientStreamsAllowed);
    }
    return 0;
}

int H3Session::streamReset(int64_t streamId, uint64_t appErrorCode)
{
    if (m_h3) {
        if (const int rv = nghttp3_conn_shutdown_stream_read(m_h3.get(), streamId); rv != 0)
            return fail(rv);
    }
    if (H3Stream *stream = findStream(streamId); stream && !stream->localReset) {
        reportReset(*stream, peerReset(appErrorCode));
        deferShutdown(*stream, NGHTTP3_H3_REQUEST_CANCELLED);
    }
    return 0;
}

int H3Session::streamStopSending(int64_t streamId, uint64_t appErrorCode)
{
    if (m_h3) {
        if (const int rv = nghttp3_conn_shutdown_stream_read(m_h3.get(), streamId); rv != 0)
            return fail(rv);
    }
    H3Stream *stream = findStream(streamId);
    if (!stream || stream->localReset)
        return 0;
    if (appErrorCode == NGHTTP3_H3_NO_ERROR) {
        // RFC 9114, 4.1: "stop sending, the response is complete": not an abort.
        stream->writeShut = true;
        return 0;
    }
    reportReset(*stream, peerReset(appErrorCode));
    deferShutdown(*stream, NGHTTP3_H3_REQUEST_CANCELLED);
    return 0;
}

int H3Session::extendMaxStreamData(int64_t streamId)
{
    if (!m_h3)
        return 0;
    if (const int rv = nghttp3_conn_unblock_stream(m_h3.get(), streamId); rv != 0)
        return fail(rv);
    return 0;
}

void H3Session::prepareWrite()
{
    ngtcp2_conn *conn = m_quic->handle();
    for (const auto &[id, code] : m_deferredShutdowns) {
        ngtcp2_conn_shutdown_stream(conn, 0, id, code);
        if (m_h3)
            nghttp3_conn_shutdown_stream_read(m_h3.get(), id);
    }
    m_deferredShutdowns.clear();
    if (m_h3) {
        for (const StreamId id : m_deferredResumes)
            nghttp3_conn_resume_stream(m_h3.get(), id);
    }
    m_deferredResumes.clear();

    if (m_goawayRequested && !m_goawaySent) {
        if (!m_h3) {
            // Nothing was ever opened: the graceful end is the close itself.
            m_goawaySent = true;
        } else if (m_role == Role::Server && m_openCount > 0 && !m_goawayNoticeSent) {
            // RFC 9114, 5.2: first a GOAWAY that refuses nothing, so requests already in
            // flight are not lost; one PTO later the real limit.
            nghttp3_conn_submit_shutdown_notice(m_h3.get());
            m_goawayNoticeSent = true;
            const quint64 ptoMs = ngtcp2_conn_get_pto(conn) / NGTCP2_MILLISECONDS;
            m_goawayTimer.start(int(std::clamp<quint64>(ptoMs, 1, 10000)));
        } else if (!m_goawayTimer.isActive() || m_openCount == 0) {
            m_goawayTimer.stop();
            nghttp3_conn_shutdown(m_h3.get());
            m_goawaySent = true;
        }
        if (m_goawaySent)
            checkDrained();
    }
}

int64_t H3Session::streamDataToWrite(int64_t *streamId, int *fin, ngtcp2_vec *vectors,
                                     size_t capacity)
{
    *streamId = -1;
    *fin = 0;
    if (!m_h3)
        return 0;
    // ngtcp2_vec and nghttp3_vec have the same layout (base pointer, length).
    return nghttp3_conn_writev_stream(m_h3.get(), streamId, fin,
                                      reinterpret_cast<nghttp3_vec *>(vectors), capacity);
}

int H3Session::streamDataWritten(int64_t streamId, size_t bytes)
{
    return m_h3 ? nghttp3_conn_add_write_offset(m_h3.get(), streamId, bytes) : 0;
}

void H3Session::streamBlocked(int64_t streamId)
{
    if (m_h3)
        nghttp3_conn_block_stream(m_h3.get(), streamId);
}

void H3Session::streamWriteShut(int64_t streamId)
{
    if (m_h3)
        nghttp3_conn_shutdown_stream_write(m_h3.get(), streamId);
}

void H3Session::writeFinished()
{
    if (m_writableQueue.empty())
        return;
    m_writableScratch.swap(m_writableQueue);
    for (const StreamId id : m_writableScratch) {
        H3Stream *stream = findStream(id);
        if (!stream)
            continue;
        stream->writableQueued = false;
        if (!stream->wantWritable || !stream->handler || stream->localReset || stream->reported)
            continue;
        stream->wantWritable = false;
        stream->handler->onStreamWritable(id);
    }
    m_writableScratch.clear();
}

void H3Session::connectionClosed(const Error &reason)
{
    if (m_finished)
        return;
    m_finished = true;
    m_state = HttpConnection::State::Closed;
    m_goawayTimer.stop();
    // Stream handlers learn it from the connection's owner (StreamHandler::onConnectionClosed);
    // no stream callback follows from here.
    m_h3.reset();
    m_streams.clear();
    m_openCount = 0;
    m_deferredShutdowns.clear();
    m_deferredResumes.clear();
    m_writableQueue.clear();
    m_events->sessionClosed(reason);
}

void H3Session::fillStats(TransportStats &stats) const
{
    if (m_quic)
        m_quic->fillStats(stats);
    stats.streamsOpen = quint32(std::max<qint64>(0, m_openCount));
    stats.datagramDrops.unknownStream = m_datagramsUnknownStream;
    stats.datagramDrops.malformed = m_datagramsMalformed;
    if (m_quic) {
        for (const auto &[id, stream] : m_streams) {
            if (!stream->quicClosed)
                stats.packetsLost += m_quic->streamLosses(id);
        }
    }
}

} // namespace qmasque::h3
