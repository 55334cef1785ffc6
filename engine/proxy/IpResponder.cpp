#include "proxy/IpResponder.h"

#include "wire/InternetChecksum.h"

#include <cstring>

namespace qmasque::IpResponder {

using wire::IpAddress;
using wire::IpPacketInfo;

namespace {

constexpr quint8 kIcmp = 1;
constexpr quint8 kUdp = 17;
constexpr quint8 kIcmpv6 = 58;
constexpr int kIpv4Header = 20;
constexpr int kIpv6Header = 40;
constexpr int kUdpHeader = 8;
constexpr int kIcmpHeader = 8;

quint16 readU16(QByteArrayView data, qsizetype at) noexcept
{
    return quint16(quint8(data[at]) << 8 | quint8(data[at + 1]));
}

void writeU16(char *at, quint16 value) noexcept
{
    at[0] = char(value >> 8);
    at[1] = char(value & 0xff);
}

int headerLength(int version)
{
    return version == 4 ? kIpv4Header : kIpv6Header;
}

bool isIcmpError(const IpPacketInfo &info, QByteArrayView packet)
{
    const QByteArrayView upper = packet.sliced(info.headerLength);
    if (info.fragmentOffset != 0)
        return false;
    if (info.protocol == kIcmp && !upper.isEmpty()) {
        const quint8 type = quint8(upper[0]);
        return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
    }
    if (info.protocol == kIcmpv6 && !upper.isEmpty())
        return quint8(upper[0]) < 128; // RFC 4443, 2.1: error messages are types 0..127
    return false;
}

} // namespace

void buildIpPacket(const IpAddress &source, const IpAddress &destination, quint8 protocol,
                   quint8 hopLimit, QByteArrayView payload, QByteArray &out)
{
    const int header = headerLength(source.version());
    out.resize(header + payload.size());
    char *p = out.data();
    std::memset(p, 0, size_t(header));
    if (source.isIpv4()) {
        p[0] = 0x45; // version 4, IHL 5
        writeU16(p + 2, quint16(out.size()));
        p[8] = char(hopLimit);
        p[9] = char(protocol);
        std::memcpy(p + 12, source.bytes().data(), 4);
        std::memcpy(p + 16, destination.bytes().data(), 4);
        writeU16(p + 10, wire::ipv4HeaderChecksum(QByteArrayView(p, header)));
    } else {
        p[0] = 0x60; // version 6, traffic class and flow label 0
        writeU16(p + 4, quint16(payload.size()));
        p[6] = char(protocol);
        p[7] = char(hopLimit);
        std::memcpy(p + 8, source.bytes().data(), 16);
        std::memcpy(p + 24, destination.bytes().data(), 16);
    }
    if (!payload.isEmpty())
        std::memcpy(p + header, payload.data(), size_t(payload.size()));
}

bool answer(QByteArrayView packet, const IpPacketInfo &info, QByteArray &out)
{
    if (info.isFragment)
        return false;
    const QByteArrayView upper = packet.sliced(info.headerLength);
    const IpAddress &from = info.destination;
    const IpAddress &to = info.source;
    if (info.version == 4 && info.protocol == kIcmp) {
        // RFC 792: Echo (8) -> Echo Reply (0), same identifier, sequence and data.
        if (upper.size() < kIcmpHeader || quint8(upper[0]) != 8 || upper[1] != 0 ||
            wire::internetChecksum(upper) != 0)
            return false;
        buildIpPacket(from, to, kIcmp, kReplyHopLimit, upper, out);
        char *icmp = out.data() + kIpv4Header;
        icmp[0] = 0;
        writeU16(icmp + 2, 0);
        writeU16(icmp + 2, wire::internetChecksum(QByteArrayView(icmp, upper.size())));
        return true;
    }
    if (info.version == 6 && info.protocol == kIcmpv6) {
        // RFC 4443, 4.1 / 4.2: Echo Request (128) -> Echo Reply (129).
        if (upper.size() < kIcmpHeader || quint8(upper[0]) != 128 || upper[1] != 0 ||
            wire::pseudoHeaderChecksum(to, from, kIcmpv6, upper) != 0)
            return false;
        buildIpPacket(from, to, kIcmpv6, kReplyHopLimit, upper, out);
        char *icmp = out.data() + kIpv6Header;
        icmp[0] = char(129);
        writeU16(icmp + 2, 0);
        writeU16(icmp + 2,
                 wire::pseudoHeaderChecksum(from, to, kIcmpv6, QByteArrayView(icmp, upper.size())));
        return true;
    }
    if (info.protocol == kUdp) {
        if (upper.size() < kUdpHeader || readU16(upper, 2) != kEchoPort ||
            readU16(upper, 4) != upper.size())
            return false;
        // RFC 768: checksum 0 means none (IPv4 only); otherwise it must verify.
        const bool hasChecksum = readU16(upper, 6) != 0;
        if ((hasChecksum || info.version == 6) &&
            wire::pseudoHeaderChecksum(to, from, kUdp, upper) != 0)
            return false;
        buildIpPacket(from, to, kUdp, kReplyHopLimit, upper, out);
        char *udp = out.data() + headerLength(info.version);
        const quint16 sourcePort = readU16(upper, 0);
        writeU16(udp, kEchoPort);
        writeU16(udp + 2, sourcePort);
        writeU16(udp + 6, 0);
        writeU16(udp + 6, wire::udpChecksum(from, to, QByteArrayView(udp, upper.size())));
        return true;
    }
    return false;
}

bool timeExceeded(QByteArrayView packet, const IpPacketInfo &info, const IpAddress &router,
                  QByteArray &out)
{
    if (router.version() != info.version || info.fragmentOffset != 0 || isIcmpError(info, packet))
        return false;
    // RFC 1812, 4.3.2.3: at most 576 bytes in all; RFC 4443, 2.4 (c): at most the minimum
    // IPv6 MTU, 1280 bytes.
    const int limit = info.version == 4 ? 576 : 1280;
    const qsizetype quoted =
        qMin<qsizetype>(packet.size(), limit - headerLength(info.version) - kIcmpHeader);
    QByteArray message(kIcmpHeader + quoted, '\0');
    message[0] = char(info.version == 4 ? 11 : 3); // Time Exceeded, code 0: hop limit
    std::memcpy(message.data() + kIcmpHeader, packet.data(), size_t(quoted));
    const quint8 protocol = info.version == 4 ? kIcmp : kIcmpv6;
    const quint16 checksum =
        info.version == 4 ? wire::internetChecksum(message)
                          : wire::pseudoHeaderChecksum(router, info.source, kIcmpv6, message);
    writeU16(message.data() + 2, checksum);
    buildIpPacket(router, info.source, protocol, kReplyHopLimit, message, out);
    return true;
}

} // namespace qmasque::IpResponder
