#pragma once

#include "api/Error.h"
#include "transport/HttpTypes.h"
#include "transport/h3/H3Headers.h"
#include "transport/h3/H3SendBuffer.h"

#include <optional>

namespace qmasque {
class StreamHandler;
}

namespace qmasque::h3 {

// H3Stream: what H3Session keeps per request stream. Owned by the session (heap-allocated, its
// address is nghttp3's stream user data); erased when QUIC closed the stream and nothing is left
// to deliver.
struct H3Stream
{
    StreamId id = -1;
    StreamHandler *handler = nullptr; // not owned; registered by setStreamHandler()
    bool handlerCleared = false;      // clearStreamHandler(): discard and credit

    // Receive side. `unconsumed` is flow-control credit still owed to the peer: bytes delivered
    // to (or kept for) the handler and not yet passed to consumeStreamData().
    qint64 unconsumed = 0;
    H3FieldCollector fields;
    std::optional<Response> pendingResponse; // kept while no handler is registered
    QByteArray pendingData;
    bool pendingFin = false;
    std::optional<Error> pendingReset;
    bool finReceived = false;

    // Send side.
    H3SendBuffer send;
    bool bodyOpen = false;          // nghttp3 has our data reader for this stream
    bool responseSubmitted = false; // server
    bool finRequested = false;      // endStream() (or a request/response without body)
    bool writeShut = false;         // the peer sent STOP_SENDING(H3_NO_ERROR)
    bool wantWritable = false;      // sendStreamData() accepted less than offered
    bool writableQueued = false;

    // Life cycle.
    bool localReset = false; // resetStream() was called
    bool reported = false;   // onStreamReset() delivered (or pending): no more events
    bool quicClosed = false; // ngtcp2 closed the stream

    bool hasPendingEvents() const noexcept
    {
        return pendingResponse || !pendingData.isEmpty() || pendingFin || pendingReset;
    }
};

} // namespace qmasque::h3
