#pragma once

#include "transport/h2/H2Headers.h"
#include "transport/tls/ByteQueue.h"
#include "transport/tls/PendingStreamEvents.h"

#include <optional>

namespace qmasque {

class StreamHandler;

// H2Stream: the engine's state of one HTTP/2 stream. It lives from its HEADERS until nghttp2
// closed the stream and every kept event was handed to a handler (or dropped by
// clearStreamHandler()). Owned by H2Session through a unique_ptr, so its address never moves.
struct H2Stream
{
    H2Stream(int32_t streamId, bool isOutgoing)
        : id(streamId)
        , outgoing(isOutgoing)
    {}

    const int32_t id;
    const bool outgoing; // opened by us (a client request)

    StreamHandler *handler = nullptr; // not owned; valid while registered
    bool detached = false;            // clearStreamHandler(): discard events, still credit bytes
    PendingStreamEvents pending;      // events that arrived before a handler registered

    // Receive side.
    H2ReceivedHead head;
    bool headDelivered = false; // client: final response delivered; server: request announced
    bool peerEnded = false;     // END_STREAM received
    qint64 unconsumed = 0;      // bytes received but not yet consumed (flow-control credit owed)
    std::optional<uint32_t> peerResetCode;

    // Send side.
    ByteQueue sendQueue;
    bool deferred = false;     // the data provider answered NGHTTP2_ERR_DEFERRED
    bool endRequested = false; // endStream() called (or the head carried END_STREAM)
    bool wantWritable = false; // sendStreamData() accepted less than offered
    bool partialWrite = false; // the last sendStreamData() was short: no datagram may interleave
    int responseStatus = 0;    // server: the status submitted

    bool open = true;        // nghttp2 still has the stream
    bool localReset = false; // reset by us: no further callbacks
};

} // namespace qmasque
