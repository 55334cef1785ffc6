#include "wire/IpPacket.h"

#include "wire/ByteReader.h"
#include "wire/InternetChecksum.h"

namespace qmasque::wire {

namespace {

constexpr int kIpv4MinHeader = 20;
constexpr int kIpv6Header = 40;

// IPv6 extension headers (RFC 8200, 4; IANA "IPv6 Extension Header Types").
constexpr quint8 kHopByHop = 0;
constexpr quint8 kRouting = 43;
constexpr quint8 kFragment = 44;
constexpr quint8 kEsp = 50;
constexpr quint8 kAuthentication = 51;
constexpr quint8 kDestinationOptions = 60;
constexpr quint8 kMobility = 135;
constexpr quint8 kHip = 139;
constexpr quint8 kShim6 = 140;

Error malformed(const QString &detail)
{
    return Error(ErrorCode::MalformedIpPacket, detail);
}

quint16 readU16At(QByteArrayView data, qsizetype at) noexcept
{
    return quint16(static_cast<quint8>(data[at]) << 8 | static_cast<quint8>(data[at + 1]));
}

void writeU16At(QByteArray &data, qsizetype at, quint16 value) noexcept
{
    data[at] = char(value >> 8);
    data[at + 1] = char(value & 0xff);
}

Result<IpPacketInfo> inspectIpv4(QByteArrayView packet)
{
    IpPacketInfo info;
    info.version = 4;
    if (packet.size() < kIpv4MinHeader)
        return malformed(QStringLiteral("IPv4 packet of %1 bytes").arg(packet.size()));
    const int ihl = (static_cast<quint8>(packet[0]) & 0x0f) * 4;
    if (ihl < kIpv4MinHeader || ihl > packet.size())
        return malformed(
            QStringLiteral("IPv4 header length %1 in %2 bytes").arg(ihl).arg(packet.size()));
    const int totalLength = readU16At(packet, 2);
    // RFC 9484, 6: the datagram payload is exactly one packet.
    if (totalLength != packet.size() || totalLength < ihl) {
        return malformed(QStringLiteral("IPv4 total length %1 for %2 bytes")
                             .arg(totalLength)
                             .arg(packet.size()));
    }
    const QByteArrayView header = packet.first(ihl);
    if (!verifyIpv4HeaderChecksum(header))
        return Error(ErrorCode::BadIpChecksum, QStringLiteral("IPv4 header checksum mismatch"));
    const quint16 fragment = readU16At(packet, 6);
    info.headerLength = ihl;
    info.totalLength = totalLength;
    info.payloadLength = totalLength - ihl;
    info.hopLimit = static_cast<quint8>(packet[8]);
    info.protocol = static_cast<quint8>(packet[9]);
    info.source = IpAddress::fromBytes(packet.sliced(12, 4));
    info.destination = IpAddress::fromBytes(packet.sliced(16, 4));
    info.fragmentOffset = (fragment & 0x1fff) * 8;
    info.isFragment = (fragment & 0x2000) != 0 || info.fragmentOffset != 0;
    return info;
}

Result<IpPacketInfo> inspectIpv6(QByteArrayView packet)
{
    IpPacketInfo info;
    info.version = 6;
    if (packet.size() < kIpv6Header)
        return malformed(QStringLiteral("IPv6 packet of %1 bytes").arg(packet.size()));
    const int payloadLength = readU16At(packet, 4);
    if (payloadLength == 0 && packet.size() > kIpv6Header)
        return malformed(QStringLiteral("IPv6 jumbograms are not supported"));
    if (kIpv6Header + payloadLength != packet.size()) {
        return malformed(QStringLiteral("IPv6 payload length %1 for %2 bytes")
                             .arg(payloadLength)
                             .arg(packet.size()));
    }
    info.totalLength = int(packet.size());
    info.hopLimit = static_cast<quint8>(packet[7]);
    info.source = IpAddress::fromBytes(packet.sliced(8, 16));
    info.destination = IpAddress::fromBytes(packet.sliced(24, 16));

    // RFC 8200, 4: walk the extension headers to the upper-layer protocol (RFC 9484, 4.6).
    quint8 next = static_cast<quint8>(packet[6]);
    ByteReader reader(packet.sliced(kIpv6Header));
    for (int count = 0;; ++count) {
        bool extension = true;
        switch (next) {
        case kHopByHop:
        case kRouting:
        case kDestinationOptions:
        case kMobility:
        case kHip:
        case kShim6:
        case kAuthentication:
        case kFragment:
            break;
        default:
            extension = false; // upper layer, ESP (opaque) or No Next Header
            break;
        }
        if (!extension || next == kEsp)
            break;
        if (count == kMaxIpv6ExtensionHeaders)
            return malformed(QStringLiteral("IPv6 extension header chain too long"));
        if (next == kHopByHop && count != 0)
            return malformed(QStringLiteral("IPv6 Hop-by-Hop header not first"));
        const QByteArrayView rest = reader.rest();
        if (rest.size() < 8)
            return malformed(QStringLiteral("IPv6 extension header %1 truncated").arg(next));
        const quint8 following = static_cast<quint8>(rest[0]);
        qsizetype length = 0;
        if (next == kFragment) {
            // RFC 8200, 4.5: fixed 8 bytes; a non-first fragment carries no upper-layer header.
            length = 8;
            const quint16 offsetFlags = readU16At(rest, 2);
            info.isFragment = true;
            info.fragmentOffset = (offsetFlags >> 3) * 8;
        } else if (next == kAuthentication) {
            length = (qsizetype(static_cast<quint8>(rest[1])) + 2) * 4; // RFC 4302, 2.2
        } else {
            length = (qsizetype(static_cast<quint8>(rest[1])) + 1) * 8;
        }
        if (!reader.readBytes(length))
            return malformed(QStringLiteral("IPv6 extension header %1 truncated").arg(next));
        next = following;
        if (info.fragmentOffset != 0)
            break;
    }
    info.protocol = next;
    info.headerLength = int(kIpv6Header + reader.position());
    info.payloadLength = info.totalLength - info.headerLength;
    return info;
}

} // namespace

int ipVersion(QByteArrayView packet) noexcept
{
    return packet.isEmpty() ? 0 : static_cast<quint8>(packet[0]) >> 4;
}

Result<IpPacketInfo> inspectIpPacket(QByteArrayView packet)
{
    switch (ipVersion(packet)) {
    case 4:
        return inspectIpv4(packet);
    case 6:
        return inspectIpv6(packet);
    default:
        return malformed(packet.isEmpty() ? QStringLiteral("empty IP packet")
                                          : QStringLiteral("IP version %1").arg(ipVersion(packet)));
    }
}

bool setIpv4HeaderChecksum(QByteArray &packet)
{
    if (ipVersion(packet) != 4 || packet.size() < kIpv4MinHeader)
        return false;
    const int ihl = (static_cast<quint8>(packet[0]) & 0x0f) * 4;
    if (ihl < kIpv4MinHeader || ihl > packet.size())
        return false;
    writeU16At(packet, 10, ipv4HeaderChecksum(QByteArrayView(packet).first(ihl)));
    return true;
}

Result<quint8> decrementHopLimit(QByteArray &packet)
{
    const int version = ipVersion(packet);
    const qsizetype at = version == 4 ? 8 : 7;
    if ((version != 4 || packet.size() < kIpv4MinHeader) &&
        (version != 6 || packet.size() < kIpv6Header))
        return malformed(QStringLiteral("not an IP packet"));
    const auto hopLimit = static_cast<quint8>(packet[at]);
    if (hopLimit == 0)
        return malformed(QStringLiteral("hop limit already 0"));
    const auto decremented = quint8(hopLimit - 1);
    if (version == 4) {
        // RFC 1624, 3 (eqn. 3): HC' = ~(~HC + ~m + m'), m being the TTL/protocol word.
        const quint16 oldWord = readU16At(packet, 8);
        const quint16 newWord = quint16(decremented << 8 | (oldWord & 0xff));
        quint32 sum = quint16(~readU16At(packet, 10)) + quint32(quint16(~oldWord)) + newWord;
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        writeU16At(packet, 10, quint16(~sum));
    }
    packet[at] = char(decremented);
    return decremented;
}

} // namespace qmasque::wire
