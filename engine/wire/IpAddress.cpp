#include "wire/IpAddress.h"

#include "wire/DecimalText.h"

#include <QtCore/QHash>

#include <cstring>

namespace qmasque::wire {

namespace {

int hexValue(QChar c) noexcept
{
    const char16_t u = c.unicode();
    if (u >= '0' && u <= '9')
        return u - '0';
    if (u >= 'a' && u <= 'f')
        return u - 'a' + 10;
    if (u >= 'A' && u <= 'F')
        return u - 'A' + 10;
    return -1;
}

// parseIpv4: a strict dotted quad. Leading zeros are refused because other parsers (inet_aton)
// read them as octal, so "010.0.0.1" could name two different hosts.
std::optional<std::array<quint8, 4>> parseIpv4(QStringView text) noexcept
{
    std::array<quint8, 4> out{};
    qsizetype pos = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (pos >= text.size() || text[pos] != u'.')
                return std::nullopt;
            ++pos;
        }
        const qsizetype start = pos;
        int value = 0;
        while (pos < text.size() && isAsciiDigit(text[pos]) && pos - start < 3) {
            value = value * 10 + (text[pos].unicode() - '0');
            ++pos;
        }
        const qsizetype digits = pos - start;
        if (digits == 0 || value > 255 || (digits > 1 && text[start] == u'0'))
            return std::nullopt;
        out[size_t(part)] = quint8(value);
    }
    if (pos != text.size())
        return std::nullopt;
    return out;
}

// parseIpv6: RFC 4291, 2.2. Groups of 1..4 hex digits, at most one "::", and an optional
// trailing dotted quad standing for the last two groups.
std::optional<std::array<quint8, 16>> parseIpv6(QStringView text) noexcept
{
    std::array<quint16, 8> groups{};
    int count = 0;
    int gapAt = -1; // index in `groups` where "::" stands
    qsizetype pos = 0;
    if (text.startsWith(u"::")) {
        gapAt = 0;
        pos = 2;
        if (pos == text.size())
            return std::array<quint8, 16>{};
    } else if (text.startsWith(u':')) {
        return std::nullopt;
    }
    while (pos < text.size()) {
        if (count == 8)
            return std::nullopt;
        // A trailing dotted quad: the rest of the text holds a '.' before any ':'.
        const qsizetype nextColon = text.indexOf(u':', pos);
        const qsizetype nextDot = text.indexOf(u'.', pos);
        if (nextDot >= 0 && (nextColon < 0 || nextDot < nextColon)) {
            if (nextColon >= 0 || count > 6)
                return std::nullopt;
            const auto v4 = parseIpv4(text.sliced(pos));
            if (!v4)
                return std::nullopt;
            groups[size_t(count++)] = quint16((*v4)[0] << 8 | (*v4)[1]);
            groups[size_t(count++)] = quint16((*v4)[2] << 8 | (*v4)[3]);
            pos = text.size();
            break;
        }
        const qsizetype start = pos;
        quint32 value = 0;
        while (pos < text.size() && pos - start < 5) {
            const int h = hexValue(text[pos]);
            if (h < 0)
                break;
            value = value << 4 | quint32(h);
            ++pos;
        }
        if (pos == start || pos - start > 4)
            return std::nullopt;
        groups[size_t(count++)] = quint16(value);
        if (pos == text.size())
            break;
        if (text[pos] != u':')
            return std::nullopt;
        ++pos;
        if (pos < text.size() && text[pos] == u':') {
            if (gapAt >= 0)
                return std::nullopt;
            gapAt = count;
            ++pos;
        } else if (pos == text.size()) {
            return std::nullopt; // a single trailing ':'
        }
    }
    if (gapAt < 0 ? count != 8 : count > 7)
        return std::nullopt;
    std::array<quint16, 8> full{};
    if (gapAt < 0) {
        full = groups;
    } else {
        const int tail = count - gapAt;
        for (int i = 0; i < gapAt; ++i)
            full[size_t(i)] = groups[size_t(i)];
        for (int i = 0; i < tail; ++i)
            full[size_t(8 - tail + i)] = groups[size_t(gapAt + i)];
    }
    std::array<quint8, 16> out{};
    for (size_t i = 0; i < 8; ++i) {
        out[2 * i] = quint8(full[i] >> 8);
        out[2 * i + 1] = quint8(full[i] & 0xff);
    }
    return out;
}

} // namespace

IpAddress IpAddress::fromIpv4(quint32 address) noexcept
{
    IpAddress a;
    a.m_version = 4;
    for (int i = 0; i < 4; ++i)
        a.m_bytes[size_t(i)] = quint8(address >> (24 - 8 * i));
    return a;
}

IpAddress IpAddress::fromBytes(QByteArrayView bytes) noexcept
{
    IpAddress a;
    if (bytes.size() != 4 && bytes.size() != 16)
        return a;
    a.m_version = bytes.size() == 4 ? 4 : 6;
    memcpy(a.m_bytes.data(), bytes.data(), size_t(bytes.size()));
    return a;
}

IpAddress IpAddress::zero(int version) noexcept
{
    IpAddress a;
    if (version == 4 || version == 6)
        a.m_version = quint8(version);
    return a;
}

std::optional<IpAddress> IpAddress::fromString(QStringView text)
{
    IpAddress a;
    if (text.contains(u':')) {
        const auto v6 = parseIpv6(text);
        if (!v6)
            return std::nullopt;
        a.m_version = 6;
        a.m_bytes = *v6;
        return a;
    }
    const auto v4 = parseIpv4(text);
    if (!v4)
        return std::nullopt;
    a.m_version = 4;
    memcpy(a.m_bytes.data(), v4->data(), 4);
    return a;
}

quint32 IpAddress::toIpv4() const noexcept
{
    if (m_version != 4)
        return 0;
    return quint32(m_bytes[0]) << 24 | quint32(m_bytes[1]) << 16 | quint32(m_bytes[2]) << 8 |
           m_bytes[3];
}

bool IpAddress::isZero() const noexcept
{
    for (int i = 0; i < byteLength(); ++i) {
        if (m_bytes[size_t(i)] != 0)
            return false;
    }
    return true;
}

QString IpAddress::toString() const
{
    if (m_version == 4) {
        return QStringLiteral("%1.%2.%3.%4")
            .arg(m_bytes[0])
            .arg(m_bytes[1])
            .arg(m_bytes[2])
            .arg(m_bytes[3]);
    }
    if (m_version != 6)
        return {};
    std::array<quint16, 8> groups{};
    for (size_t i = 0; i < 8; ++i)
        groups[i] = quint16(m_bytes[2 * i] << 8 | m_bytes[2 * i + 1]);
    // RFC 5952, 5: IPv4-mapped addresses keep the dotted quad.
    const bool mapped = groups[0] == 0 && groups[1] == 0 && groups[2] == 0 && groups[3] == 0 &&
                        groups[4] == 0 && groups[5] == 0xffff;
    const int hexGroups = mapped ? 6 : 8;
    // RFC 5952, 4.2: compress the longest run of two or more zero groups, the first on a tie.
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < hexGroups;) {
        if (groups[size_t(i)] != 0) {
            ++i;
            continue;
        }
        int j = i;
        while (j < hexGroups && groups[size_t(j)] == 0)
            ++j;
        if (j - i > bestLength) {
            bestStart = i;
            bestLength = j - i;
        }
        i = j;
    }
    QString out;
    for (int i = 0; i < hexGroups; ++i) {
        if (i == bestStart) {
            out += QStringLiteral("::");
            i += bestLength - 1;
            continue;
        }
        if (!out.isEmpty() && !out.endsWith(u':'))
            out += u':';
        out += QString::number(groups[size_t(i)], 16);
    }
    if (mapped) {
        if (!out.endsWith(u':'))
            out += u':';
        out += fromIpv4(quint32(groups[6]) << 16 | groups[7]).toString();
    }
    return out;
}

bool IpAddress::hostBitsZero(int prefixLength) const noexcept
{
    const int bits = bitLength();
    if (prefixLength < 0 || prefixLength > bits)
        return false;
    for (int bit = prefixLength; bit < bits;) {
        const int byte = bit / 8;
        const quint8 mask = quint8(0xff >> (bit % 8));
        if (m_bytes[size_t(byte)] & mask)
            return false;
        bit = (byte + 1) * 8;
    }
    return true;
}

IpAddress IpAddress::masked(int prefixLength) const noexcept
{
    IpAddress a = *this;
    for (int bit = qMax(prefixLength, 0); bit < bitLength();) {
        const int byte = bit / 8;
        a.m_bytes[size_t(byte)] &= quint8(~(0xff >> (bit % 8)));
        bit = (byte + 1) * 8;
    }
    return a;
}

IpAddress IpAddress::lastInPrefix(int prefixLength) const noexcept
{
    IpAddress a = *this;
    for (int bit = qMax(prefixLength, 0); bit < bitLength();) {
        const int byte = bit / 8;
        a.m_bytes[size_t(byte)] |= quint8(0xff >> (bit % 8));
        bit = (byte + 1) * 8;
    }
    return a;
}

std::strong_ordering operator<=>(const IpAddress &a, const IpAddress &b) noexcept
{
    if (a.m_version != b.m_version)
        return a.m_version <=> b.m_version;
    const int c = memcmp(a.m_bytes.data(), b.m_bytes.data(), a.m_bytes.size());
    return c <=> 0;
}

size_t qHash(const IpAddress &address, size_t seed) noexcept
{
    return qHashMulti(seed, address.version(), address.bytes());
}

std::optional<IpPrefix> IpPrefix::fromString(QStringView text)
{
    const qsizetype slash = text.indexOf(u'/');
    const auto address = IpAddress::fromString(slash < 0 ? text : text.first(slash));
    if (!address)
        return std::nullopt;
    IpPrefix prefix{*address, address->bitLength()};
    if (slash >= 0) {
        const int maxDigits = address->isIpv4() ? 2 : 3;
        if (!parseDecimal(text.sliced(slash + 1), maxDigits, &prefix.length) ||
            prefix.length > address->bitLength())
            return std::nullopt;
    }
    return prefix;
}

QString IpPrefix::toString() const
{
    return address.toString() + u'/' + QString::number(length);
}

bool IpPrefix::contains(const IpAddress &other) const noexcept
{
    return isLengthValid() && other.version() == address.version() &&
           other.masked(length) == address.masked(length);
}

} // namespace qmasque::wire
