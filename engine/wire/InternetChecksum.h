#pragma once

#include "wire/IpAddress.h"

#include <QtCore/QByteArrayView>

namespace qmasque::wire {

// The Internet checksum (RFC 1071): the one's complement of the one's complement sum of 16-bit
// words. Used by the IPv4 header, ICMP, and UDP/TCP/ICMPv6 with their pseudo-headers. Results
// are host-order values; write them big-endian into the packet.

// InternetChecksum: an accumulator over any number of pieces; a piece of odd length is continued
// by the next one, as if they were contiguous.
class InternetChecksum
{
public:
    void add(QByteArrayView data) noexcept;
    void addWord(quint16 word) noexcept;

    // result: the value for the checksum field. Over data that includes a correct checksum field
    // it is 0.
    quint16 result() const noexcept;

private:
    quint64 m_sum = 0;
    bool m_odd = false; // the last byte added was the high half of a word
};

// internetChecksum: over one buffer (ICMPv4 messages use it directly).
quint16 internetChecksum(QByteArrayView data) noexcept;

// ipv4HeaderChecksum: the Header Checksum for an IPv4 header, the field itself counted as zero.
quint16 ipv4HeaderChecksum(QByteArrayView header) noexcept;
// verifyIpv4HeaderChecksum: whether the header's checksum field is right.
bool verifyIpv4HeaderChecksum(QByteArrayView header) noexcept;

// pseudoHeaderChecksum: the checksum of an upper-layer `segment` (UDP, TCP, ICMPv6 message)
// including the pseudo-header: RFC 768 / RFC 9293, 3.1 for IPv4 (addresses, protocol, length),
// RFC 8200, 8.1 for IPv6 (addresses, 32-bit length, next header). Computing: pass the segment
// with its checksum field zeroed. Verifying: pass it as received; 0 means correct.
// `source` and `destination` must have the same version.
quint16 pseudoHeaderChecksum(const IpAddress &source, const IpAddress &destination, quint8 protocol,
                             QByteArrayView segment) noexcept;

// udpChecksum: pseudoHeaderChecksum for UDP to transmit: RFC 768 sends a computed 0 as 0xffff
// (0 means "no checksum", allowed only over IPv4).
quint16 udpChecksum(const IpAddress &source, const IpAddress &destination,
                    QByteArrayView datagram) noexcept;

} // namespace qmasque::wire
