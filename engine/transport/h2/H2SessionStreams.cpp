// The HttpConnection stream operations of H2Session and the delivery of stream events to the
// registered handlers (or their kept events until one registers).

#include "transport/StreamHandler.h"
#include "transport/h2/H2Session.h"
#include "wire/Capsule.h"

namespace qmasque {

namespace {

uint32_t wireCodeFor(StreamResetReason reason)
{
    switch (reason) {
    case StreamResetReason::Cancel:
        return NGHTTP2_CANCEL;
    case StreamResetReason::ConnectError:
        return NGHTTP2_CONNECT_ERROR; // RFC 9113, 8.5: the TCP connection failed or was reset
    case StreamResetReason::MessageError:
        return NGHTTP2_PROTOCOL_ERROR; // malformed capsules (RFC 9297, 3.3)
    case StreamResetReason::Refused:
        return NGHTTP2_REFUSED_STREAM;
    case StreamResetReason::Internal:
        return NGHTTP2_INTERNAL_ERROR;
    }
    return NGHTTP2_INTERNAL_ERROR;
}

} // namespace

// --- Stream operations --------------------------------------------------------------------

Status H2Session::setStreamHandler(StreamId id, StreamHandler *handler)
{
    H2Stream *stream = findStream(id);
    if (!stream)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    stream->handler = handler;
    stream->detached = false;
    if (!stream->pending.isEmpty())
        stream->pending.replay(id, handler,
                               [this, id, handler] { return isAttached(id, handler); });
    if (H2Stream *after = findStream(id); after && !after->open && after->pending.isEmpty())
        retire(*after);
    return {};
}

void H2Session::clearStreamHandler(StreamId id)
{
    H2Stream *stream = findStream(id);
    if (!stream)
        return;
    stream->handler = nullptr;
    stream->detached = true;
    stream->pending.clear();
    if (stream->unconsumed > 0 && m_session) {
        nghttp2_session_consume(m_session.get(), stream->id, size_t(stream->unconsumed));
        stream->unconsumed = 0;
        scheduleFlush();
    }
    if (!stream->open)
        retire(*stream);
}

Result<qint64> H2Session::sendStreamData(StreamId id, QByteArrayView data)
{
    if (m_finished)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("the connection is closed"));
    H2Stream *stream = findStream(id);
    if (!stream)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    if (!stream->open || stream->localReset || stream->endRequested)
        return Error(ErrorCode::StreamClosed,
                     QStringLiteral("stream %1 is closed for sending").arg(id));
    const qint64 room = qMax<qint64>(0, m_config.streamSendBuffer - stream->sendQueue.size());
    const qint64 accepted = qMin(room, qint64(data.size()));
    stream->sendQueue.append(data.first(accepted));
    stream->partialWrite = accepted < data.size();
    if (stream->partialWrite)
        stream->wantWritable = true;
    if (accepted > 0 && stream->deferred) {
        stream->deferred = false;
        nghttp2_session_resume_data(m_session.get(), stream->id);
    }
    if (accepted > 0)
        scheduleFlush();
    return accepted;
}

Status H2Session::endStream(StreamId id)
{
    H2Stream *stream = findStream(id);
    if (!stream)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    if (stream->endRequested)
        return {};
    if (!stream->open || stream->localReset || m_finished)
        return Error(ErrorCode::StreamClosed, QStringLiteral("stream %1 is closed").arg(id));
    stream->endRequested = true;
    if (stream->deferred) {
        stream->deferred = false;
        nghttp2_session_resume_data(m_session.get(), stream->id);
    }
    scheduleFlush();
    return {};
}

void H2Session::resetStream(StreamId id, StreamResetReason reason)
{
    H2Stream *stream = findStream(id);
    if (!stream || stream->localReset)
        return;
    stream->localReset = true;
    stream->handler = nullptr;
    stream->sendQueue.clear();
    stream->pending.clear();
    if (!stream->open || m_finished) {
        retire(*stream);
        return;
    }
    if (stream->unconsumed > 0) {
        nghttp2_session_consume(m_session.get(), stream->id, size_t(stream->unconsumed));
        stream->unconsumed = 0;
    }
    nghttp2_submit_rst_stream(m_session.get(), NGHTTP2_FLAG_NONE, stream->id, wireCodeFor(reason));
    scheduleFlush();
}

void H2Session::consumeStreamData(StreamId id, qint64 bytes)
{
    H2Stream *stream = findStream(id);
    if (!stream || bytes <= 0 || !m_session)
        return;
    const qint64 credit = qMin(bytes, stream->unconsumed);
    if (credit <= 0)
        return;
    stream->unconsumed -= credit;
    // nghttp2 sends WINDOW_UPDATE once half a window was consumed.
    nghttp2_session_consume(m_session.get(), stream->id, size_t(credit));
    scheduleFlush();
}

Status H2Session::sendDatagram(StreamId id, QByteArrayView payload)
{
    if (m_finished)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("the connection is closed"));
    H2Stream *stream = findStream(id);
    if (!stream)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    if (!stream->open || stream->localReset || stream->endRequested)
        return Error(ErrorCode::StreamClosed,
                     QStringLiteral("stream %1 is closed for sending").arg(id));
    if (payload.size() > kMaxDatagramPayload) {
        ++m_datagramDrops.tooLarge;
        return Error(ErrorCode::DatagramTooLarge,
                     QStringLiteral("%1 bytes above the capsule limit %2")
                         .arg(payload.size())
                         .arg(kMaxDatagramPayload));
    }
    m_capsule.resize(0);
    wire::appendDatagramCapsule(m_capsule, payload); // RFC 9297, 3.5
    // A short sendStreamData() left part of a capsule to come: a datagram now would split it.
    if (stream->partialWrite ||
        m_config.streamSendBuffer - stream->sendQueue.size() < m_capsule.size()) {
        ++m_datagramDrops.queueFull;
        return Error(ErrorCode::QueueFull, QStringLiteral("stream %1 send buffer full").arg(id));
    }
    stream->sendQueue.append(m_capsule);
    ++m_datagramsSent;
    if (stream->deferred) {
        stream->deferred = false;
        nghttp2_session_resume_data(m_session.get(), stream->id);
    }
    scheduleFlush();
    return {};
}

qint64 H2Session::maxDatagramPayload(StreamId id) const
{
    const H2Stream *stream = findStream(id);
    if (!stream || !stream->open || stream->localReset || stream->endRequested || m_finished)
        return 0;
    return kMaxDatagramPayload;
}

// --- Handler delivery ---------------------------------------------------------------------

void H2Session::deliverResponse(H2Stream &stream, const Response &response)
{
    if (stream.localReset || stream.detached)
        return;
    if (stream.handler)
        stream.handler->onStreamResponse(stream.id, response);
    else
        stream.pending.addResponse(response);
}

void H2Session::deliverData(H2Stream &stream, QByteArrayView data, bool fin)
{
    if (stream.localReset || stream.detached) {
        if (!data.isEmpty()) {
            stream.unconsumed -= data.size();
            nghttp2_session_consume(m_session.get(), stream.id, size_t(data.size()));
        }
        return;
    }
    if (stream.handler)
        stream.handler->onStreamData(stream.id, data, fin);
    else
        stream.pending.addData(data, fin);
}

void H2Session::deliverReset(H2Stream &stream, const Error &reason)
{
    StreamHandler *handler = std::exchange(stream.handler, nullptr);
    if (handler && !stream.detached)
        handler->onStreamReset(stream.id, reason);
    else if (!stream.detached)
        stream.pending.addReset(reason);
    Q_EMIT streamReset(stream.id, reason);
}

} // namespace qmasque
