#pragma once

#include "api/Error.h"
#include "transport/HttpTypes.h"

#include <QtCore/QByteArray>

#include <functional>
#include <vector>

namespace qmasque {

class StreamHandler;

// PendingStreamEvents: the events of one stream that arrived while it had no handler (a response,
// body bytes with or without FIN, a reset), kept in order and replayed to the handler that
// registers later (HttpConnection::setStreamHandler). Consecutive data is merged into one event.
// Shared by the h1 and h2 connections; the h2 flow-control window bounds how much data waits here.
class PendingStreamEvents
{
public:
    void addResponse(const Response &response);
    void addData(QByteArrayView data, bool fin);
    void addReset(const Error &reason);

    bool isEmpty() const noexcept { return m_events.empty(); }
    // hasReset: a terminal reset is kept; the stream is gone once it was replayed.
    bool hasReset() const noexcept;
    // dataBytes: body bytes kept (not yet seen by any handler).
    qint64 dataBytes() const noexcept { return m_dataBytes; }
    void clear();

    // replay: delivers the kept events to `handler` in order and forgets them. Stops early (and
    // forgets the rest) when `stillAttached` returns false after an event, i.e. the handler
    // unregistered or reset the stream from inside its callback.
    void replay(StreamId id, StreamHandler *handler, const std::function<bool()> &stillAttached);

private:
    struct Event
    {
        enum class Kind : quint8
        {
            Response,
            Data,
            Reset
        };
        Kind kind = Kind::Data;
        Response response;
        QByteArray data;
        bool fin = false;
        Error error;
    };

    std::vector<Event> m_events;
    qint64 m_dataBytes = 0;
};

} // namespace qmasque
