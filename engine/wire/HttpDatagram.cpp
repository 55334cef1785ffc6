#include "wire/HttpDatagram.h"

#include "wire/Varint.h"

#include <cstring>

namespace qmasque::wire {

Result<HttpDatagram> parseHttpDatagram(QByteArrayView httpDatagramPayload)
{
    const auto contextId = decodeVarint(httpDatagramPayload);
    if (!contextId) {
        return Error(ErrorCode::MalformedDatagram,
                     httpDatagramPayload.isEmpty()
                         ? QStringLiteral("empty HTTP datagram (no context id)")
                         : QStringLiteral("HTTP datagram ends inside its context id"));
    }
    return HttpDatagram{contextId->value, httpDatagramPayload.sliced(contextId->length)};
}

bool appendHttpDatagram(QByteArray &out, quint64 contextId, QByteArrayView payload)
{
    const int idLength = varintLength(contextId);
    if (idLength == 0)
        return false;
    const qsizetype at = out.size();
    out.resize(at + idLength + payload.size());
    char *p = out.data() + at;
    p += encodeVarint(contextId, p);
    if (!payload.isEmpty())
        memcpy(p, payload.data(), size_t(payload.size()));
    return true;
}

int httpDatagramHeaderLength(quint64 contextId) noexcept
{
    return varintLength(contextId);
}

int encodeQuarterStreamId(StreamId streamId, char *out) noexcept
{
    if (!isClientBidiStreamId(streamId))
        return 0;
    return encodeVarint(quint64(streamId) / 4, out);
}

Status appendQuarterStreamId(QByteArray &out, StreamId streamId)
{
    if (!isClientBidiStreamId(streamId)) {
        return Error(ErrorCode::InvalidStreamId,
                     QStringLiteral("stream %1 is not a client-initiated bidirectional stream")
                         .arg(streamId));
    }
    appendVarint(out, quint64(streamId) / 4);
    return {};
}

Result<H3Datagram> parseH3Datagram(QByteArrayView quicDatagramPayload)
{
    const auto quarter = decodeVarint(quicDatagramPayload);
    if (!quarter) {
        return Error(ErrorCode::MalformedDatagram,
                     QStringLiteral("QUIC datagram ends inside its quarter stream id"));
    }
    // RFC 9297, 2.1: larger values cannot name a stream (H3_DATAGRAM_ERROR).
    if (quarter->value > kMaxQuarterStreamId) {
        return Error(ErrorCode::InvalidStreamId,
                     QStringLiteral("quarter stream id %1 exceeds 2^60-1").arg(quarter->value));
    }
    return H3Datagram{StreamId(quarter->value * 4), quicDatagramPayload.sliced(quarter->length)};
}

} // namespace qmasque::wire
