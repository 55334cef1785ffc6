#pragma once

#include "api/Result.h"
#include "transport/h3/H3Stream.h"

#include <nghttp3/nghttp3.h>

#include <memory>
#include <unordered_map>
#include <vector>

namespace qmasque {
class StreamHandler;
}

namespace qmasque::h3 {

class H3SessionEvents;
class QuicConnection;

// H3StreamTable: the request streams of one H3Session and the delivery of their events to the
// registered StreamHandlers (HttpConnection.h documents the contract):
//  - events that arrive while a stream has no handler (response, data, FIN, reset) are kept and
//    replayed, in order, by setHandler();
//  - flow-control credit is consumption based: DATA bytes are owed to the peer until the handler
//    consumes them; bytes nobody will read (cleared handler, reset stream, closed session) are
//    credited at once, and what a departing handler still owed goes back to the connection;
//  - sending is bounded: each stream's unsent bytes stay below `streamSendBuffer`; a short
//    accept asks for onStreamWritable(), delivered after a write pass once half of it drained;
//  - a stream leaves the table when QUIC closed it and nothing is left to deliver.
// Streams are heap-allocated: their address is nghttp3's stream user data. Engine thread only.
class H3StreamTable
{
public:
    H3StreamTable(bool server, qint64 streamSendBuffer, H3SessionEvents *events);
    Q_DISABLE_COPY_MOVE(H3StreamTable)

    // setConnection: the QUIC connection credit goes to (not owned; outlives the table's use).
    void setConnection(QuicConnection *quic) noexcept { m_quic = quic; }
    // setClosed: the session is closed for the API; no event is delivered from now on.
    void setClosed() noexcept { m_closed = true; }
    bool isClosed() const noexcept { return m_closed; }

    H3Stream *find(StreamId id) const;
    H3Stream *create(StreamId id);
    // openCount: streams QUIC has not closed yet.
    qint64 openCount() const noexcept { return m_openCount; }
    const std::unordered_map<StreamId, std::unique_ptr<H3Stream>> &streams() const noexcept
    {
        return m_streams;
    }
    void clear();

    // Delivery, from nghttp3's callbacks.
    void deliverResponse(H3Stream &stream, const Response &response);
    void deliverData(H3Stream &stream, QByteArrayView data);
    void deliverFin(H3Stream &stream);
    // reportReset: the stream ended abnormally: onStreamReset() (now or at replay), then the
    // session's streamReset signal. At most once per stream; never after a local reset.
    void reportReset(H3Stream &stream, const Error &reason);
    // finish: QUIC closed the stream (`appErrorCode` H3_NO_ERROR for a clean end).
    void finish(StreamId id, uint64_t appErrorCode);

    // The HttpConnection handler operations.
    Status setHandler(StreamId id, StreamHandler *handler);
    void clearHandler(StreamId id);
    void consume(StreamId id, qint64 bytes);
    // markReset: resetStream(): no further event for the stream. True when QUIC still knows it
    // (the caller sends RESET_STREAM / STOP_SENDING).
    bool markReset(StreamId id);

    // credit: returns flow-control credit for `bytes` of the stream (and the connection).
    void credit(StreamId id, qint64 bytes);

    // Sending. send()/end(): the HttpConnection operations; they record streams whose nghttp3
    // body reader must be resumed (resumes(), applied by the session outside callbacks).
    Result<qint64> send(StreamId id, QByteArrayView data);
    Status end(StreamId id);
    const std::vector<StreamId> &resumes() const noexcept { return m_resumes; }
    void clearResumes() noexcept { m_resumes.clear(); }
    // readBody: nghttp3's read_data for `stream`: at most kMaxHandOut bytes per call, EOF once
    // ended and drained, NGHTTP3_ERR_WOULDBLOCK when empty and open.
    int64_t readBody(H3Stream &stream, nghttp3_vec *vectors, size_t capacity, uint32_t *flags);
    // notifyWritable: onStreamWritable() for the streams whose buffer drained (after a write).
    void notifyWritable();

private:
    // kMaxHandOut: what one read_data call hands to nghttp3; keeps "unsent" honest (nghttp3
    // asks again as its queue drains) instead of moving the whole buffer into nghttp3 at once.
    static constexpr qint64 kMaxHandOut = 64 * 1024;

    void resume(H3Stream &stream);
    void creditConnection(qint64 bytes);
    void releaseCredit(H3Stream &stream);
    void eraseIfDone(StreamId id);

    bool m_server;
    qint64 m_sendBound;
    bool m_closed = false;
    H3SessionEvents *m_events;        // not owned; the session's connection object
    QuicConnection *m_quic = nullptr; // not owned; see setConnection()
    std::unordered_map<StreamId, std::unique_ptr<H3Stream>> m_streams;
    qint64 m_openCount = 0;
    std::vector<StreamId> m_resumes;
    std::vector<StreamId> m_writable;
    std::vector<StreamId> m_writableScratch;
};

} // namespace qmasque::h3
