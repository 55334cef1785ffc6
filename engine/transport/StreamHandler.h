#pragma once

#include "api/Error.h"
#include "transport/HttpTypes.h"

#include <QtCore/QByteArrayView>

namespace qmasque {

struct StreamSnapshot; // api/Snapshot.h

// StreamHandler: receives the events of one HTTP stream. Tunnel sessions (client side) and proxy
// handlers (server side) implement it and register with HttpConnection::setStreamHandler(), so
// stream events go from the transport straight to them, without the upstream owner in between.
//
// Rules for implementers:
// - Callbacks run on the engine thread, from inside the transport's event processing. They must
//   not delete the connection; they may call the connection's stream operations (send, consume,
//   reset, end), and may unregister themselves.
// - Views passed in are only valid during the call: copy what you keep.
// - Flow control is consumption based: after taking bytes from onStreamData() the handler calls
//   HttpConnection::consumeStreamData() once it has drained them (written them to a local socket,
//   say). Bytes not consumed keep the peer's window closed: that is the backpressure.
class StreamHandler
{
public:
    virtual ~StreamHandler() = default;

    // onStreamResponse: the final response head (client side only).
    virtual void onStreamResponse(StreamId id, const Response &response) = 0;

    // onStreamData: body bytes in order; `fin` = the peer ended its side (may come with no bytes).
    virtual void onStreamData(StreamId id, QByteArrayView data, bool fin) = 0;

    // onStreamReset: the stream ended abnormally: peer reset (ErrorCode::PeerReset, wireCode =
    // the peer's code), refused by GOAWAY (Goaway), or failed locally. The stream is gone after
    // this call; no further callbacks for it.
    virtual void onStreamReset(StreamId id, const Error &reason) = 0;

    // onStreamWritable: the stream's send buffer has room again after sendStreamData() accepted
    // less than offered.
    virtual void onStreamWritable(StreamId id) { Q_UNUSED(id) }

    // onDatagram: an HTTP datagram for this stream (RFC 9297, 2): payload = context id varint +
    // data. Delivered by whoever demultiplexes the connection's QUIC DATAGRAM frames (the
    // upstream owner on pooled h3 connections). h1/h2 carry datagrams as DATAGRAM capsules inside
    // the stream data instead; the session's capsule decoder handles those.
    virtual void onDatagram(StreamId id, QByteArrayView payload)
    {
        Q_UNUSED(id)
        Q_UNUSED(payload)
    }

    // onConnectionClosed: the connection carrying this stream closed (or its owner stopped); the
    // stream is gone. Delivered by the connection's owner, exactly once per stream.
    virtual void onConnectionClosed(StreamId id, const Error &reason)
    {
        Q_UNUSED(id)
        Q_UNUSED(reason)
    }

    // describeStream: completes the dashboard row of this stream (target, local client, state,
    // response status, Proxy-Status, counters). Called on the engine thread by the connection's
    // owner while it builds a snapshot, with streamId, ageMs and what the owner knows from the
    // request already filled in; must be cheap (no allocation beyond assigning shared strings).
    virtual void describeStream(StreamSnapshot &row) const { Q_UNUSED(row) }
};

} // namespace qmasque
