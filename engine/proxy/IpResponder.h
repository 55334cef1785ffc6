#pragma once

#include "wire/IpAddress.h"
#include "wire/IpPacket.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

namespace qmasque {

// IpResponder: the CONNECT-IP "network" of a proxy without a TUN device, so tunnels can be
// tested without privileges. It answers, as if every destination were a host that replies:
//  - ICMP Echo Request (RFC 792, type 8) with an Echo Reply (type 0);
//  - ICMPv6 Echo Request (RFC 4443, 4.1, type 128) with an Echo Reply (type 129);
//  - UDP to port kEchoPort (the Echo protocol, RFC 862) with the same payload back.
// Replies come from the request's destination, with TTL / Hop Limit 64, identifier, sequence
// and data echoed, and correct checksums (IPv4 header, ICMP, ICMPv6 and UDP with their pseudo-
// headers). Everything else gets no answer. It also builds the ICMP Time Exceeded messages the
// proxy sends when a packet's hop limit runs out (RFC 792; RFC 4443, 3.3). Pure functions.
namespace IpResponder {

inline constexpr quint16 kEchoPort = 7; // RFC 862
inline constexpr quint8 kReplyHopLimit = 64;

// answer: writes the reply to `packet` (described by `info`) into `out` and returns true, or
// returns false when the packet gets no answer (not echo, fragment, bad upper-layer checksum).
bool answer(QByteArrayView packet, const wire::IpPacketInfo &info, QByteArray &out);

// timeExceeded: the ICMP / ICMPv6 Time Exceeded ("hop limit exceeded in transit") for
// `packet`, from `router` to the packet's source, quoting as much of the packet as RFC 1812,
// 4.3.2.3 (576 bytes in all) and RFC 4443, 2.4 (c) (1280 bytes) allow. False when no error may
// be sent about this packet (an ICMP error itself, a non-first fragment, or `router` of another
// version).
bool timeExceeded(QByteArrayView packet, const wire::IpPacketInfo &info,
                  const wire::IpAddress &router, QByteArray &out);

// buildIpPacket: an IPv4 (20-byte header, no options) or IPv6 (no extension headers) packet
// carrying `payload` as `protocol`, checksummed where the IP header has one. Upper-layer
// checksums are the caller's.
void buildIpPacket(const wire::IpAddress &source, const wire::IpAddress &destination,
                   quint8 protocol, quint8 hopLimit, QByteArrayView payload, QByteArray &out);

} // namespace IpResponder

} // namespace qmasque
