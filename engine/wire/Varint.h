#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

#include <optional>

namespace qmasque::wire {

// QUIC variable-length integers (RFC 9000, 16): the two high bits of the first byte give the
// length (1, 2, 4 or 8 bytes), the rest is the value in network byte order.

// kVarintMax: the largest encodable value, 2^62 - 1.
inline constexpr quint64 kVarintMax = (quint64(1) << 62) - 1;

// varintLength: bytes needed to encode `value`, or 0 when it exceeds kVarintMax.
constexpr int varintLength(quint64 value) noexcept
{
    if (value <= 63)
        return 1;
    if (value <= 16383)
        return 2;
    if (value <= 1073741823)
        return 4;
    if (value <= kVarintMax)
        return 8;
    return 0;
}

// encodeVarint: writes `value` at `out`, which must hold varintLength(value) bytes. Returns the
// bytes written, 0 when the value exceeds kVarintMax (nothing written).
int encodeVarint(quint64 value, char *out) noexcept;

// appendVarint: appends the encoding of `value`; false (nothing appended) above kVarintMax.
bool appendVarint(QByteArray &out, quint64 value);

struct DecodedVarint
{
    quint64 value = 0;
    int length = 0; // bytes consumed: 1, 2, 4 or 8
};

// decodeVarint: decodes the varint at the start of `in`. std::nullopt means "need more bytes"
// (the buffer ends inside the varint, or is empty); every complete encoding is valid (RFC 9000
// allows non-minimal encodings), so there is no error case.
std::optional<DecodedVarint> decodeVarint(QByteArrayView in) noexcept;

} // namespace qmasque::wire
