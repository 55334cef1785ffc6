#include "transport/tls/PendingStreamEvents.h"

#include "transport/StreamHandler.h"

#include <utility>

namespace qmasque {

void PendingStreamEvents::addResponse(const Response &response)
{
    Event event;
    event.kind = Event::Kind::Response;
    event.response = response;
    m_events.push_back(std::move(event));
}

void PendingStreamEvents::addData(QByteArrayView data, bool fin)
{
    m_dataBytes += data.size();
    if (!m_events.empty() && m_events.back().kind == Event::Kind::Data && !m_events.back().fin) {
        Event &last = m_events.back();
        last.data.append(data.data(), data.size());
        last.fin = fin;
        return;
    }
    Event event;
    event.kind = Event::Kind::Data;
    event.data = QByteArray(data.data(), data.size());
    event.fin = fin;
    m_events.push_back(std::move(event));
}

void PendingStreamEvents::addReset(const Error &reason)
{
    Event event;
    event.kind = Event::Kind::Reset;
    event.error = reason;
    m_events.push_back(std::move(event));
}

bool PendingStreamEvents::hasReset() const noexcept
{
    return !m_events.empty() && m_events.back().kind == Event::Kind::Reset;
}

void PendingStreamEvents::clear()
{
    m_events.clear();
    m_dataBytes = 0;
}

void PendingStreamEvents::replay(StreamId id, StreamHandler *handler,
                                 const std::function<bool()> &stillAttached)
{
    // Take the events out first: the handler may add new ones (it cannot, it is registered now,
    // but it may clear the stream, which clears this object).
    std::vector<Event> events = std::exchange(m_events, {});
    m_dataBytes = 0;
    for (Event &event : events) {
        switch (event.kind) {
        case Event::Kind::Response:
            handler->onStreamResponse(id, event.response);
            break;
        case Event::Kind::Data:
            handler->onStreamData(id, event.data, event.fin);
            break;
        case Event::Kind::Reset:
            handler->onStreamReset(id, event.error);
            return;
        }
        if (!stillAttached())
            return;
    }
}

} // namespace qmasque
