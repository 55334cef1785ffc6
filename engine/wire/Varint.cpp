#include "wire/Varint.h"

namespace qmasque::wire {

int encodeVarint(quint64 value, char *out) noexcept
{
    const int length = varintLength(value);
    // The length prefix 00/01/10/11 is log2 of the byte count, in the top two bits.
    const quint8 prefix = length == 1 ? 0x00 : length == 2 ? 0x40 : length == 4 ? 0x80 : 0xc0;
    for (int i = length - 1; i >= 0; --i) {
        out[i] = static_cast<char>(value & 0xff);
        value >>= 8;
    }
    if (length > 0)
        out[0] = static_cast<char>(static_cast<quint8>(out[0]) | prefix);
    return length;
}

bool appendVarint(QByteArray &out, quint64 value)
{
    const int length = varintLength(value);
    if (length == 0)
        return false;
    const qsizetype at = out.size();
    out.resize(at + length);
    encodeVarint(value, out.data() + at);
    return true;
}

std::optional<DecodedVarint> decodeVarint(QByteArrayView in) noexcept
{
    if (in.isEmpty())
        return std::nullopt;
    const auto first = static_cast<quint8>(in[0]);
    const int length = 1 << (first >> 6);
    if (in.size() < length)
        return std::nullopt;
    quint64 value = first & 0x3f;
    for (int i = 1; i < length; ++i)
        value = (value << 8) | static_cast<quint8>(in[i]);
    return DecodedVarint{value, length};
}

} // namespace qmasque::wire
