// The nghttp2 callbacks of H2Session: thin trampolines into the session object (whose address
// never moves), and the bodies that turn frames into stream events.

#include "core/Log.h"
#include "transport/StreamHandler.h"
#include "transport/h2/H2Session.h"

#include <cstring>

namespace qmasque {

namespace {

QByteArrayView bytes(const uint8_t *data, size_t length)
{
    return QByteArrayView(reinterpret_cast<const char *>(data), qsizetype(length));
}

bool isSuccess(int status)
{
    return status >= 200 && status <= 299;
}

QString h2ErrorName(uint32_t code)
{
    return QString::fromLatin1(nghttp2_http2_strerror(code));
}

} // namespace

// H2Callbacks: the static trampolines (a friend of H2Session) and the one shared callback table.
struct H2Callbacks
{
    static H2Session *self(void *userData) { return static_cast<H2Session *>(userData); }

    static int beginHeaders(nghttp2_session *, const nghttp2_frame *frame, void *userData)
    {
        return self(userData)->onBeginHeaders(frame);
    }
    static int header(nghttp2_session *, const nghttp2_frame *frame, const uint8_t *name,
                      size_t nameLength, const uint8_t *value, size_t valueLength, uint8_t,
                      void *userData)
    {
        return self(userData)->onHeader(frame, bytes(name, nameLength), bytes(value, valueLength));
    }
    static int frameRecv(nghttp2_session *, const nghttp2_frame *frame, void *userData)
    {
        return self(userData)->onFrameRecv(frame);
    }
    static int dataChunk(nghttp2_session *, uint8_t, int32_t streamId, const uint8_t *data,
                         size_t length, void *userData)
    {
        return self(userData)->onDataChunk(streamId, bytes(data, length));
    }
    static int streamClose(nghttp2_session *, int32_t streamId, uint32_t errorCode, void *userData)
    {
        return self(userData)->onStreamClose(streamId, errorCode);
    }
    static int frameSend(nghttp2_session *, const nghttp2_frame *frame, void *userData)
    {
        return self(userData)->onFrameSend(frame);
    }
    static int frameNotSend(nghttp2_session *, const nghttp2_frame *frame, int libError,
                            void *userData)
    {
        return self(userData)->onFrameNotSend(frame, libError);
    }
    static int error(nghttp2_session *, int libError, const char *message, size_t length,
                     void *userData)
    {
        qCDebug(lcH2).noquote() << "[" << userData << "] nghttp2:" << libError
                                << QString::fromLatin1(message, qsizetype(length));
        return 0;
    }

    // table: built once per process; nghttp2 copies it into every session.
    static const nghttp2_session_callbacks *table()
    {
        static const Nghttp2CallbacksPtr callbacks = [] {
            auto made = makeNghttp2Callbacks();
            Q_ASSERT(made.ok()); // fails only when out of memory
            nghttp2_session_callbacks *raw = made->get();
            nghttp2_session_callbacks_set_on_begin_headers_callback(raw, beginHeaders);
            nghttp2_session_callbacks_set_on_header_callback(raw, header);
            nghttp2_session_callbacks_set_on_frame_recv_callback(raw, frameRecv);
            nghttp2_session_callbacks_set_on_data_chunk_recv_callback(raw, dataChunk);
            nghttp2_session_callbacks_set_on_stream_close_callback(raw, streamClose);
            nghttp2_session_callbacks_set_on_frame_send_callback(raw, frameSend);
            nghttp2_session_callbacks_set_on_frame_not_send_callback(raw, frameNotSend);
            nghttp2_session_callbacks_set_error_callback2(raw, error);
            return std::move(made.value());
        }();
        return callbacks.get();
    }

    static ssize_t readData(nghttp2_session *, int32_t streamId, uint8_t *buffer, size_t length,
                            uint32_t *flags, nghttp2_data_source *, void *userData)
    {
        return self(userData)->readStreamData(streamId, buffer, length, flags);
    }
};

const nghttp2_session_callbacks *h2CallbackTable()
{
    return H2Callbacks::table();
}

nghttp2_data_provider H2Session::dataProvider()
{
    nghttp2_data_provider provider;
    provider.source.ptr = nullptr; // streams are looked up by id: records may be retired
    provider.read_callback = &H2Callbacks::readData;
    return provider;
}

int H2Session::onBeginHeaders(const nghttp2_frame *frame)
{
    if (m_finished || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    if (m_role == Role::Server && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        addStream(frame->hd.stream_id, false);
        ++m_openIncoming;
        updateIdleTimer();
        return 0;
    }
    // A response, an interim response or trailers: keep only the current block.
    if (H2Stream *stream = findStream(frame->hd.stream_id))
        stream->head.clear();
    return 0;
}

int H2Session::onHeader(const nghttp2_frame *frame, QByteArrayView name, QByteArrayView value)
{
    H2Stream *stream = findStream(frame->hd.stream_id);
    if (m_finished || !stream)
        return 0;
    if (stream->head.bytes + name.size() + value.size() > kMaxHeaderListBytes) {
        // Above our SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113, 6.5.2): reset this stream only.
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    stream->head.add(name, value);
    return 0;
}

int H2Session::onFrameRecv(const nghttp2_frame *frame)
{
    ++m_framesReceived;
    if (m_finished)
        return 0;
    const bool endStream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
    case NGHTTP2_DATA:
        if (endStream) {
            if (H2Stream *stream = findStream(frame->hd.stream_id)) {
                stream->peerEnded = true;
                deliverData(*stream, {}, true);
            }
        }
        break;
    case NGHTTP2_HEADERS:
        if (H2Stream *stream = findStream(frame->hd.stream_id))
            handleHeadersFrame(*stream, frame);
        break;
    case NGHTTP2_SETTINGS:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0)
            handleSettings(frame->settings);
        break;
    case NGHTTP2_PING:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK)
            handlePingAck(frame->ping);
        break;
    case NGHTTP2_RST_STREAM:
        if (H2Stream *stream = findStream(frame->hd.stream_id))
            stream->peerResetCode = frame->rst_stream.error_code;
        break;
    case NGHTTP2_GOAWAY:
        // RFC 9113, 6.8: streams up to last_stream_id may still complete; nghttp2 closes the
        // ones above it (REFUSED_STREAM) right after this callback.
        m_goawayReceived = true;
        m_goawayLastId = frame->goaway.last_stream_id;
        m_goawayErrorCode = frame->goaway.error_code;
        qCDebug(lcH2).noquote() << "[" << this << "] GOAWAY received, last stream" << m_goawayLastId
                                << h2ErrorName(m_goawayErrorCode);
        Q_EMIT goawayReceived(m_goawayLastId);
        break;
    default:
        break;
    }
    return 0;
}

void H2Session::handleHeadersFrame(H2Stream &stream, const nghttp2_frame *frame)
{
    const bool endStream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (!stream.headDelivered) {
        if (m_role == Role::Client) {
            const int status = stream.head.statusCode();
            // RFC 9113, 8.1: 1xx heads are interim; the final response follows.
            if (status >= 200) {
                stream.headDelivered = true;
                deliverResponse(stream, Response{status, stream.head.headers});
            }
        } else {
            stream.headDelivered = true;
            Q_EMIT requestReceived(stream.id, stream.head.toRequest());
        }
        stream.head.clear();
    }
    // Trailers (a later HEADERS) carry nothing tunnels use; only their END_STREAM matters.
    if (endStream && !stream.peerEnded) {
        stream.peerEnded = true;
        deliverData(stream, {}, true);
    }
}

void H2Session::handleSettings(const nghttp2_settings &settings)
{
    for (size_t i = 0; i < settings.niv; ++i) {
        const nghttp2_settings_entry &entry = settings.iv[i];
        if (entry.settings_id == NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)
            m_peerSettings.maxConcurrentStreams = entry.value;
        else if (entry.settings_id == NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL)
            m_peerSettings.extendedConnect = entry.value == 1;
    }
    const bool first = !m_peerSettings.received;
    m_peerSettings.received = true;
    Q_EMIT settingsReceived(first);
}

void H2Session::handlePingAck(const nghttp2_ping &ping)
{
    qint64 sentNs = 0;
    std::memcpy(&sentNs, ping.opaque_data, sizeof sentNs);
    const qint64 sampleUs = (m_clock.nsecsElapsed() - sentNs) / 1000;
    m_pingOutstanding = false;
    if (sampleUs < 0)
        return;
    // RFC 6298, 2: the usual smoothing, so h2 RTTs read like QUIC's (RFC 9002, 5.3).
    if (m_smoothedRttUs < 0) {
        m_smoothedRttUs = sampleUs;
        m_rttVarianceUs = sampleUs / 2;
        m_minRttUs = sampleUs;
        return;
    }
    m_minRttUs = qMin(m_minRttUs, sampleUs);
    m_rttVarianceUs = (3 * m_rttVarianceUs + qAbs(m_smoothedRttUs - sampleUs)) / 4;
    m_smoothedRttUs = (7 * m_smoothedRttUs + sampleUs) / 8;
}

int H2Session::onDataChunk(int32_t streamId, QByteArrayView data)
{
    H2Stream *stream = findStream(streamId);
    if (!stream || m_finished) {
        // Never leave connection credit behind for bytes nobody will consume.
        nghttp2_session_consume(m_session.get(), streamId, size_t(data.size()));
        return 0;
    }
    stream->unconsumed += data.size();
    deliverData(*stream, data, false);
    return 0;
}

int H2Session::onStreamClose(int32_t streamId, uint32_t errorCode)
{
    H2Stream *stream = findStream(streamId);
    if (!stream || !stream->open)
        return 0;
    stream->open = false;
    if (stream->outgoing)
        closeOutgoing();
    else
        --m_openIncoming;
    // A request nghttp2 refused while its head was still arriving (malformed, say) was never
    // announced; one the server answered without registering a handler will never get one.
    // Neither keeps events nor reports a reset.
    const bool unannounced = !stream->outgoing && !stream->headDelivered;
    const bool answeredUnhandled =
        !stream->outgoing && stream->responseStatus != 0 && !stream->handler;
    if (unannounced || answeredUnhandled) {
        retire(*stream);
        updateIdleTimer();
        return 0;
    }
    if (!stream->localReset && !m_finished) {
        std::optional<Error> reason;
        if (stream->peerResetCode) {
            // RFC 9113, 8.1: RST_STREAM(NO_ERROR) after a complete response only asks us to stop
            // sending; the stream ended normally for its reader.
            if (*stream->peerResetCode != NGHTTP2_NO_ERROR || !stream->peerEnded) {
                reason = Error(ErrorCode::PeerReset, QStringLiteral("peer reset the stream: ") +
                                                         h2ErrorName(*stream->peerResetCode));
                reason->wireCode = *stream->peerResetCode;
            }
        } else if (errorCode == NGHTTP2_REFUSED_STREAM && (m_goawayReceived || m_goawaySent)) {
            reason = Error(ErrorCode::Goaway,
                           m_goawayReceived
                               ? QStringLiteral("stream %1 above the peer's GOAWAY last stream %2")
                                     .arg(streamId)
                                     .arg(m_goawayLastId)
                               : QStringLiteral("stream %1 refused by our GOAWAY").arg(streamId));
            reason->wireCode = errorCode;
        } else if (errorCode != NGHTTP2_NO_ERROR) {
            reason = Error(ErrorCode::ProtocolError,
                           QStringLiteral("stream closed with ") + h2ErrorName(errorCode));
            reason->wireCode = errorCode;
        }
        if (reason)
            deliverReset(*stream, *reason);
    }
    if (stream->pending.isEmpty() || stream->detached || stream->localReset || m_finished)
        retire(*stream);
    updateIdleTimer();
    return 0;
}

int H2Session::onFrameSend(const nghttp2_frame *frame)
{
    ++m_framesSent;
    if (m_role != Role::Server || (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0)
        return 0;
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        return 0;
    H2Stream *stream = findStream(frame->hd.stream_id);
    if (stream && stream->open && !stream->localReset && !stream->peerEnded &&
        !isSuccess(stream->responseStatus)) {
        // RFC 9113, 8.1: a complete refusal was sent while the client may still be sending;
        // RST_STREAM(NO_ERROR) tells it to stop, and frees the stream slot at once.
        stream->localReset = true;
        nghttp2_submit_rst_stream(m_session.get(), NGHTTP2_FLAG_NONE, stream->id, NGHTTP2_NO_ERROR);
    }
    return 0;
}

int H2Session::onFrameNotSend(const nghttp2_frame *frame, int libError)
{
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    // A request that never left (GOAWAY arrived between submit and send): nghttp2 may close the
    // stream without a close callback when it was never opened, so end it here.
    H2Stream *stream = findStream(frame->hd.stream_id);
    if (!stream || !stream->open)
        return 0;
    stream->open = false;
    closeOutgoing();
    if (!stream->localReset && !m_finished) {
        Error reason = m_goawayReceived
                           ? Error(ErrorCode::Goaway, QStringLiteral("request not sent: GOAWAY"))
                           : Error(ErrorCode::StreamClosed,
                                   QStringLiteral("request not sent: ") +
                                       QString::fromLatin1(nghttp2_strerror(libError)));
        deliverReset(*stream, reason);
    }
    if (stream->pending.isEmpty() || stream->localReset || stream->detached)
        retire(*stream);
    return 0;
}

ssize_t H2Session::readStreamData(int32_t streamId, uint8_t *buffer, size_t length, uint32_t *flags)
{
    H2Stream *stream = findStream(streamId);
    if (!stream || stream->localReset || m_finished)
        return NGHTTP2_ERR_DEFERRED; // RST_STREAM is queued; nothing more to send
    const qint64 count = qMin(qint64(length), stream->sendQueue.size());
    if (count > 0) {
        const QByteArrayView chunk = stream->sendQueue.front(count);
        std::memcpy(buffer, chunk.data(), size_t(count));
        stream->sendQueue.drop(count);
    }
    if (stream->sendQueue.isEmpty()) {
        if (stream->endRequested) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        } else if (count == 0) {
            stream->deferred = true;
            return NGHTTP2_ERR_DEFERRED;
        }
    }
    if (stream->wantWritable && stream->sendQueue.size() <= m_config.streamSendBuffer / 2) {
        stream->wantWritable = false;
        m_writable.push_back(streamId);
    }
    return ssize_t(count);
}

} // namespace qmasque
