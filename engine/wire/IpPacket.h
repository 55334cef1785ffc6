#pragma once

#include "api/Result.h"
#include "wire/IpAddress.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

namespace qmasque::wire {

// IPv4 / IPv6 header inspection for CONNECT-IP (RFC 9484, 7): what the tunnel and the proxy need
// to route, filter and scope a packet, read without copying.

// IpPacketInfo: the facts of one packet. Lengths are bytes.
struct IpPacketInfo
{
    int version = 0;       // 4 or 6
    int headerLength = 0;  // IPv4: IHL x 4; IPv6: 40 + the extension headers walked
    int totalLength = 0;   // the whole packet (equals the buffer size)
    int payloadLength = 0; // totalLength - headerLength: the upper-layer bytes
    IpAddress source;
    IpAddress destination;
    // protocol: IPv4 Protocol; for IPv6 the Next Header after the extension headers (RFC 9484,
    // 4.6 asks to walk the chain): 6 TCP, 17 UDP, 58 ICMPv6, 50 ESP (not walked past), 59 none.
    quint8 protocol = 0;
    quint8 hopLimit = 0;     // IPv4 TTL / IPv6 Hop Limit
    bool isFragment = false; // part of a fragmented packet
    int fragmentOffset = 0;  // bytes; non-zero means the upper-layer header is not here
};

// kMaxIpv6ExtensionHeaders: the walk gives up beyond this many (malformed_ip_packet), so a chain
// of tiny headers cannot make inspection expensive.
inline constexpr int kMaxIpv6ExtensionHeaders = 8;

// inspectIpPacket: malformed_ip_packet when the buffer is not exactly one IPv4 or IPv6 packet
// (version, IHL, total / payload length against the buffer size, truncated or over-long
// extension header chain, Hop-by-Hop not first, jumbograms); bad_ip_checksum when an IPv4 header
// checksum is wrong.
Result<IpPacketInfo> inspectIpPacket(QByteArrayView packet);

// ipVersion: the version nibble of the first byte (0 for an empty buffer); no validation.
int ipVersion(QByteArrayView packet) noexcept;

// setIpv4HeaderChecksum: recomputes the header checksum of the IPv4 packet in `packet`; false when
// it does not start with a well-formed IPv4 header.
bool setIpv4HeaderChecksum(QByteArray &packet);

// decrementHopLimit: RFC 9484, 7: the hop count drops by one when a packet enters the tunnel.
// Returns the new TTL / Hop Limit (0 = the packet must be dropped, with an ICMP Time Exceeded);
// the IPv4 checksum is updated incrementally (RFC 1624). malformed_ip_packet for a buffer that is
// not an IPv4 or IPv6 header, or a hop limit already at 0 (nothing changed then).
Result<quint8> decrementHopLimit(QByteArray &packet);

} // namespace qmasque::wire
