#pragma once

#include "api/Result.h"
#include "api/Types.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

namespace qmasque::wire {

// HTTP Datagrams (RFC 9297, 2). The HTTP Datagram Payload of a MASQUE tunnel is a Context ID
// varint followed by the payload (RFC 9298, 5; RFC 9484, 6): context 0 carries a UDP payload or
// a full IP packet. On h2/h1 that payload is the value of a DATAGRAM capsule; on h3 a QUIC
// DATAGRAM frame carries the Quarter Stream ID first (RFC 9297, 2.1).

// HttpDatagram: a parsed HTTP Datagram Payload; `payload` is a view into the parsed buffer.
struct HttpDatagram
{
    quint64 contextId = 0;
    QByteArrayView payload;
};

// parseHttpDatagram: malformed_datagram when the buffer is empty or ends inside the Context ID.
Result<HttpDatagram> parseHttpDatagram(QByteArrayView httpDatagramPayload);

// appendHttpDatagram: appends Context ID + payload. False (nothing appended) when the context id
// exceeds the varint range.
bool appendHttpDatagram(QByteArray &out, quint64 contextId, QByteArrayView payload);

// httpDatagramHeaderLength: bytes the Context ID takes (0 when out of range), for size budgets.
int httpDatagramHeaderLength(quint64 contextId) noexcept;

// kMaxQuarterStreamId: 2^60 - 1, the largest stream id (2^62 - 1) divided by four. RFC 9297,
// 2.1: a larger value is an H3_DATAGRAM_ERROR.
inline constexpr quint64 kMaxQuarterStreamId = (quint64(1) << 60) - 1;

// isClientBidiStreamId: HTTP/3 datagrams belong to requests, i.e. client-initiated bidirectional
// streams, whose ids are multiples of four (RFC 9000, 2.1).
constexpr bool isClientBidiStreamId(StreamId streamId) noexcept
{
    return streamId >= 0 && streamId % 4 == 0 && quint64(streamId) / 4 <= kMaxQuarterStreamId;
}

// encodeQuarterStreamId: writes the Quarter Stream ID for `streamId` at `out` (room for 8 bytes)
// and returns the bytes written; 0 (nothing written) when the id is not a client bidi stream id.
int encodeQuarterStreamId(StreamId streamId, char *out) noexcept;

// appendQuarterStreamId: the QUIC DATAGRAM prefix for `streamId`; invalid_stream_id (nothing
// appended) unless isClientBidiStreamId(streamId).
Status appendQuarterStreamId(QByteArray &out, StreamId streamId);

// H3Datagram: a QUIC DATAGRAM frame payload split into its stream and HTTP Datagram Payload.
struct H3Datagram
{
    StreamId streamId = 0;
    QByteArrayView httpDatagramPayload;
};

// parseH3Datagram: malformed_datagram when the buffer ends inside the Quarter Stream ID;
// invalid_stream_id when the Quarter Stream ID exceeds 2^60 - 1.
Result<H3Datagram> parseH3Datagram(QByteArrayView quicDatagramPayload);

} // namespace qmasque::wire
