#include "transport/h3/H3StreamTable.h"

#include "transport/StreamHandler.h"
#include "transport/h3/H3Session.h"
#include "transport/h3/QuicConnection.h"
#include "transport/h3/QuicErrors.h"

#include <nghttp3/nghttp3.h>

#include <algorithm>

namespace qmasque::h3 {

H3StreamTable::H3StreamTable(bool server, qint64 streamSendBuffer, H3SessionEvents *events)
    : m_server(server)
    , m_sendBound(std::max<qint64>(streamSendBuffer, 1024))
    , m_events(events)
{}

H3Stream *H3StreamTable::find(StreamId id) const
{
    const auto it = m_streams.find(id);
    return it == m_streams.end() ? nullptr : it->second.get();
}

H3Stream *H3StreamTable::create(StreamId id)
{
    auto stream = std::make_unique<H3Stream>();
    stream->id = id;
    stream->fields.server = m_server;
    H3Stream *raw = stream.get();
    m_streams[id] = std::move(stream);
    ++m_openCount;
    return raw;
}

void H3StreamTable::clear()
{
    m_streams.clear();
    m_openCount = 0;
    m_resumes.clear();
    m_writable.clear();
}

void H3StreamTable::deliverResponse(H3Stream &stream, const Response &response)
{
    if (m_closed || stream.localReset || stream.reported)
        return;
    if (stream.handler)
        stream.handler->onStreamResponse(stream.id, response);
    else if (!stream.handlerCleared)
        stream.pendingResponse = response;
}

void H3StreamTable::deliverData(H3Stream &stream, QByteArrayView data)
{
    if (m_closed || stream.localReset || stream.reported || stream.handlerCleared) {
        credit(stream.id, data.size()); // nobody will read it: acknowledge for flow control
        return;
    }
    stream.unconsumed += data.size();
    if (stream.handler)
        stream.handler->onStreamData(stream.id, data, false);
    else
        stream.pendingData.append(data);
}

void H3StreamTable::deliverFin(H3Stream &stream)
{
    stream.finReceived = true;
    if (m_closed || stream.localReset || stream.reported || stream.handlerCleared)
        return;
    if (stream.handler)
        stream.handler->onStreamData(stream.id, {}, true);
    else
        stream.pendingFin = true;
}

void H3StreamTable::reportReset(H3Stream &stream, const Error &reason)
{
    if (m_closed || stream.reported || stream.localReset)
        return;
    stream.reported = true;
    stream.wantWritable = false;
    if (StreamHandler *handler = std::exchange(stream.handler, nullptr)) {
        releaseCredit(stream);
        handler->onStreamReset(stream.id, reason);
    } else if (!stream.handlerCleared) {
        stream.pendingReset = reason; // replayed by setHandler()
    }
    m_events->sessionStreamReset(stream.id, reason);
}

void H3StreamTable::finish(StreamId id, uint64_t appErrorCode)
{
    H3Stream *stream = find(id);
    if (!stream || stream->quicClosed)
        return;
    // Report first: the handler may react (clear, reset) while the record is still open.
    if (appErrorCode != NGHTTP3_H3_NO_ERROR)
        reportReset(*stream, streamResetError(appErrorCode));
    stream = find(id);
    if (!stream)
        return;
    stream->quicClosed = true;
    --m_openCount;
    eraseIfDone(id);
}

void H3StreamTable::eraseIfDone(StreamId id)
{
    H3Stream *stream = find(id);
    if (!stream || !stream->quicClosed)
        return;
    // Kept while undelivered events wait for a handler (a zombie, freed at replay or close).
    if (!stream->handler && !stream->handlerCleared && !stream->localReset &&
        stream->hasPendingEvents()) {
        return;
    }
    releaseCredit(*stream);
    m_streams.erase(id);
}

Status H3StreamTable::setHandler(StreamId id, StreamHandler *handler)
{
    H3Stream *stream = find(id);
    if (!stream || stream->localReset || (stream->reported && !stream->pendingReset))
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    stream->handler = handler;
    stream->handlerCleared = false;
    // Replay, in order, what arrived while nobody listened. The handler may act on each event
    // (clear itself, reset the stream), so look the stream up again before the next one.
    if (auto response = std::exchange(stream->pendingResponse, std::nullopt))
        handler->onStreamResponse(id, *response);
    stream = find(id);
    if (stream && stream->handler == handler &&
        (!stream->pendingData.isEmpty() || stream->pendingFin)) {
        const QByteArray data = std::exchange(stream->pendingData, QByteArray());
        const bool fin = std::exchange(stream->pendingFin, false);
        handler->onStreamData(id, data, fin);
        stream = find(id);
    }
    if (stream && stream->handler == handler && stream->pendingReset) {
        const Error reason = *std::exchange(stream->pendingReset, std::nullopt);
        stream->handler = nullptr;
        releaseCredit(*stream);
        handler->onStreamReset(id, reason);
        stream = find(id);
    }
    // A stream QUIC already closed is done once its events are delivered.
    if (stream && stream->quicClosed && !stream->hasPendingEvents()) {
        releaseCredit(*stream);
        m_streams.erase(id);
    }
    return {};
}

void H3StreamTable::clearHandler(StreamId id)
{
    H3Stream *stream = find(id);
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
    eraseIfDone(id);
}

void H3StreamTable::consume(StreamId id, qint64 bytes)
{
    H3Stream *stream = find(id);
    if (!stream || bytes <= 0)
        return;
    const qint64 credited = std::min(bytes, stream->unconsumed);
    stream->unconsumed -= credited;
    credit(id, credited);
}

bool H3StreamTable::markReset(StreamId id)
{
    H3Stream *stream = find(id);
    if (!stream || stream->localReset)
        return false;
    stream->localReset = true;
    stream->handler = nullptr;
    stream->wantWritable = false;
    stream->pendingResponse.reset();
    stream->pendingFin = false;
    stream->pendingReset.reset();
    releaseCredit(*stream);
    if (stream->quicClosed) {
        m_streams.erase(id);
        return false;
    }
    return true;
}

void H3StreamTable::credit(StreamId id, qint64 bytes)
{
    if (bytes <= 0 || !m_quic || !m_quic->isOpen())
        return;
    // RFC 9000, 4.2: MAX_STREAM_DATA / MAX_DATA follow once the credit is worth announcing.
    ngtcp2_conn_extend_max_stream_offset(m_quic->handle(), id, quint64(bytes));
    ngtcp2_conn_extend_max_offset(m_quic->handle(), quint64(bytes));
    m_quic->scheduleFlush();
}

void H3StreamTable::creditConnection(qint64 bytes)
{
    if (bytes <= 0 || !m_quic || !m_quic->isOpen())
        return;
    ngtcp2_conn_extend_max_offset(m_quic->handle(), quint64(bytes));
    m_quic->scheduleFlush();
}

void H3StreamTable::releaseCredit(H3Stream &stream)
{
    // The handler is gone: what it did not consume will never be; give the connection window
    // back (the stream's own window no longer matters).
    creditConnection(std::exchange(stream.unconsumed, 0));
    stream.pendingData.clear();
}

Result<qint64> H3StreamTable::send(StreamId id, QByteArrayView data)
{
    H3Stream *stream = find(id);
    if (!stream)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    if (stream->localReset || stream->reported || stream->finRequested || stream->writeShut ||
        stream->quicClosed) {
        return Error(ErrorCode::StreamClosed,
                     QStringLiteral("stream %1 closed for sending").arg(id));
    }
    const qint64 room = std::max<qint64>(0, m_sendBound - stream->send.unsentBytes());
    const qint64 accepted = std::min<qint64>(room, data.size());
    if (accepted < data.size())
        stream->wantWritable = true;
    if (accepted > 0) {
        stream->send.append(data.first(accepted));
        resume(*stream);
    }
    return accepted;
}

Status H3StreamTable::end(StreamId id)
{
    H3Stream *stream = find(id);
    if (!stream)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    if (stream->finRequested)
        return {};
    if (stream->localReset || stream->reported || stream->quicClosed)
        return Error(ErrorCode::StreamClosed, QStringLiteral("stream %1 closed").arg(id));
    stream->finRequested = true;
    resume(*stream);
    return {};
}

void H3StreamTable::resume(H3Stream &stream)
{
    if (!stream.bodyOpen)
        return; // a server's body starts with its response (submitResponse)
    m_resumes.push_back(stream.id);
    if (m_quic)
        m_quic->scheduleFlush();
}

int64_t H3StreamTable::readBody(H3Stream &stream, nghttp3_vec *vectors, size_t capacity,
                                uint32_t *flags)
{
    const size_t count = stream.localReset ? 0 : stream.send.take(vectors, capacity, kMaxHandOut);
    if (stream.finRequested && stream.send.unsentBytes() == 0)
        *flags |= NGHTTP3_DATA_FLAG_EOF;
    else if (count == 0)
        return NGHTTP3_ERR_WOULDBLOCK; // resumed by send() / end()
    if (stream.wantWritable && !stream.writableQueued &&
        stream.send.unsentBytes() <= m_sendBound / 2) {
        stream.writableQueued = true;
        m_writable.push_back(stream.id);
    }
    return int64_t(count);
}

void H3StreamTable::notifyWritable()
{
    if (m_writable.empty())
        return;
    // Handlers may send (and queue themselves again) from onStreamWritable().
    m_writableScratch.swap(m_writable);
    for (const StreamId id : m_writableScratch) {
        H3Stream *stream = find(id);
        if (!stream)
            continue;
        stream->writableQueued = false;
        if (m_closed || !stream->wantWritable || !stream->handler || stream->localReset ||
            stream->reported) {
            continue;
        }
        stream->wantWritable = false;
        stream->handler->onStreamWritable(id);
    }
    m_writableScratch.clear();
}

} // namespace qmasque::h3
