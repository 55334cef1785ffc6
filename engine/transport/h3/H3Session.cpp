#include "transport/h3/H3Session.h"

#include "core/Log.h"
#include "transport/StreamHandler.h"
#include "transport/h3/H3Callbacks.h"
#include "transport/h3/QuicErrors.h"
#include "wire/ByteReader.h"
#include "wire/Varint.h"

#include <algorithm>

namespace qmasque::h3 {

namespace {

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

bool isClientBidi(StreamId id)
{
    return id >= 0 && (id & 0x3) == 0;
}

} // namespace

H3Session::H3Session(Role role, qint64 streamSendBuffer, H3SessionEvents *events)
    : m_role(role)
    , m_events(events)
    , m_streams(role == Role::Server, streamSendBuffer, events)
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

int H3Session::fail(int nghttp3Error)
{
    m_quic->setApplicationError(
        nghttp3_err_infer_quic_app_error_code(nghttp3Error),
        Error(ErrorCode::ProtocolError,
              QStringLiteral("HTTP/3: %1").arg(QString::fromUtf8(nghttp3_strerror(nghttp3Error)))));
    return NGTCP2_ERR_CALLBACK_FAILURE;
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
    nghttp3_settings settings;
    nghttp3_settings_default(&settings);
    settings.qpack_max_dtable_capacity = 4096;
    settings.qpack_blocked_streams = 100;
    settings.enable_connect_protocol = 1; // RFC 9220, 3 (ignored by clients)
    settings.h3_datagram = 1;             // RFC 9297, 2.1.1
    nghttp3_conn *raw = nullptr;
    const int rv = m_role == Role::Client
                       ? nghttp3_conn_client_new(&raw, &h3Callbacks(), &settings, nullptr, this)
                       : nghttp3_conn_server_new(&raw, &h3Callbacks(), &settings, nullptr, this);
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
        stream = m_streams.create(id);
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
    // RFC 9114, 4.1: informational (1xx) responses precede the final one; they are not reported.
    if (stream.fields.response.status >= 200)
        m_streams.deliverResponse(stream, stream.fields.response);
}

void H3Session::finishStream(StreamId id, uint64_t appErrorCode)
{
    m_streams.finish(id, appErrorCode);
    checkDrained();
}

void H3Session::deferShutdown(StreamId id, uint64_t appErrorCode)
{
    m_deferredShutdowns.emplace_back(id, appErrorCode);
    if (m_quic)
        m_quic->scheduleFlush();
}

Status H3Session::setStreamHandler(StreamId id, StreamHandler *handler)
{
    return m_streams.setHandler(id, handler);
}

void H3Session::clearStreamHandler(StreamId id)
{
    m_streams.clearHandler(id);
}

Result<qint64> H3Session::sendStreamData(StreamId id, QByteArrayView data)
{
    if (m_state == HttpConnection::State::Closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("connection closed"));
    return m_streams.send(id, data);
}

Status H3Session::endStream(StreamId id)
{
    return m_streams.end(id);
}

void H3Session::resetStream(StreamId id, StreamResetReason reason)
{
    // RFC 9000, 3.2 and 3.5: RESET_STREAM and STOP_SENDING, sent from the write loop (this may
    // run inside a read callback). The send buffer stays until QUIC forgets the stream, since
    // nghttp3 may still point into it.
    if (m_streams.markReset(id))
        deferShutdown(id, resetCode(reason));
}

void H3Session::consumeStreamData(StreamId id, qint64 bytes)
{
    m_streams.consume(id, bytes);
}

Status H3Session::sendDatagram(StreamId id, QByteArrayView payload)
{
    if (m_state == HttpConnection::State::Closed || !m_quic)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("connection closed"));
    if (!m_peer.h3Datagram) {
        m_quic->countDatagramNotNegotiated();
        return Error(ErrorCode::NoH3Datagram, QStringLiteral("peer did not enable HTTP datagrams"));
    }
    const H3Stream *stream = m_streams.find(id);
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
    const H3Stream *stream = m_streams.find(id);
    if (!stream || stream->localReset || stream->reported || stream->quicClosed ||
        m_state == HttpConnection::State::Closed) {
        ++m_datagramsUnknownStream;
        return;
    }
    m_quic->countDatagramReceived();
    m_events->sessionDatagramReceived(id, reader.rest());
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
    H3Stream *stream = m_streams.create(id);
    stream->finRequested = request.endStream;
    stream->bodyOpen = !request.endStream;
    const int rv =
        nghttp3_conn_submit_request(m_h3.get(), id, block->fields.data(), block->fields.size(),
                                    request.endStream ? nullptr : &h3BodyReader(), stream);
    if (rv != 0) {
        // The QUIC stream exists: abort it; it leaves the table when QUIC closes it.
        m_streams.markReset(id);
        deferShutdown(id, NGHTTP3_H3_REQUEST_CANCELLED);
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
    return m_streams.openCount() + qint64(ngtcp2_conn_get_streams_bidi_left(m_quic->handle()));
}

Status H3Session::submitResponse(StreamId id, const Response &response, bool endStream)
{
    if (m_state == HttpConnection::State::Closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("connection closed"));
    H3Stream *stream = m_streams.find(id);
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
                                         body ? &h3BodyReader() : nullptr);
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
    m_streams.setClosed();
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
        for (const auto &[streamId, stream] : m_streams.streams()) {
            if (streamId >= id && !stream->localReset && !stream->reported && !stream->quicClosed)
                refused.push_back(stream.get());
        }
        for (H3Stream *stream : refused) {
            m_streams.reportReset(
                *stream, Error(ErrorCode::Goaway,
                               QStringLiteral("request not processed (GOAWAY %1)").arg(id)));
            deferShutdown(stream->id, NGHTTP3_H3_REQUEST_CANCELLED);
        }
    }
    checkDrained();
}

void H3Session::checkDrained()
{
    if (m_state == HttpConnection::State::Closed || m_streams.openCount() > 0 || !m_quic)
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
    m_streams.credit(streamId, qint64(consumed));
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
    if (H3Stream *stream = m_streams.find(streamId); stream && !stream->localReset) {
        m_streams.reportReset(*stream, streamResetError(appErrorCode));
        deferShutdown(stream->id, NGHTTP3_H3_REQUEST_CANCELLED);
    }
    return 0;
}

int H3Session::streamStopSending(int64_t streamId, uint64_t appErrorCode)
{
    if (m_h3) {
        if (const int rv = nghttp3_conn_shutdown_stream_read(m_h3.get(), streamId); rv != 0)
            return fail(rv);
    }
    H3Stream *stream = m_streams.find(streamId);
    if (!stream || stream->localReset)
        return 0;
    if (appErrorCode == NGHTTP3_H3_NO_ERROR) {
        // RFC 9114, 4.1: "stop sending, the response is complete": not an abort.
        stream->writeShut = true;
        return 0;
    }
    m_streams.reportReset(*stream, streamResetError(appErrorCode));
    deferShutdown(stream->id, NGHTTP3_H3_REQUEST_CANCELLED);
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
        for (const StreamId id : m_streams.resumes())
            nghttp3_conn_resume_stream(m_h3.get(), id);
    }
    m_streams.clearResumes();

    if (m_goawayRequested && !m_goawaySent) {
        if (!m_h3) {
            // Nothing was ever opened: the graceful end is the close itself.
            m_goawaySent = true;
        } else if (m_role == Role::Server && m_streams.openCount() > 0 && !m_goawayNoticeSent) {
            // RFC 9114, 5.2: first a GOAWAY that refuses nothing, so requests already in
            // flight are not lost; one PTO later the real limit.
            nghttp3_conn_submit_shutdown_notice(m_h3.get());
            m_goawayNoticeSent = true;
            const quint64 ptoMs = ngtcp2_conn_get_pto(conn) / NGTCP2_MILLISECONDS;
            m_goawayTimer.start(int(std::clamp<quint64>(ptoMs, 1, 10000)));
        } else if (!m_goawayTimer.isActive() || m_streams.openCount() == 0) {
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
    m_streams.notifyWritable();
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
    m_streams.setClosed();
    m_streams.clear();
    m_deferredShutdowns.clear();
    m_events->sessionClosed(reason);
}

void H3Session::fillStats(TransportStats &stats) const
{
    if (m_quic)
        m_quic->fillStats(stats);
    stats.streamsOpen = quint32(std::max<qint64>(0, m_streams.openCount()));
    stats.datagramDrops.unknownStream = m_datagramsUnknownStream;
    stats.datagramDrops.malformed = m_datagramsMalformed;
    if (m_quic) {
        for (const auto &[id, stream] : m_streams.streams()) {
            if (!stream->quicClosed)
                stats.packetsLost += m_quic->streamLosses(id);
        }
    }
}

} // namespace qmasque::h3
