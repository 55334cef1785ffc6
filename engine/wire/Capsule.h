#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

namespace qmasque::wire {

// Capsule Protocol (RFC 9297, 3.2): Capsule { Type (i), Length (i), Value (..) }.

// Capsule types this project knows (IANA "HTTP Capsule Types").
enum class CapsuleType : quint64
{
    Datagram = 0x00,           // RFC 9297, 3.5
    AddressAssign = 0x01,      // RFC 9484, 4.7.1
    AddressRequest = 0x02,     // RFC 9484, 4.7.2
    RouteAdvertisement = 0x03, // RFC 9484, 4.7.3
};

// appendCapsule: appends one capsule. False (nothing appended) if `type` exceeds the varint range.
bool appendCapsule(QByteArray &out, quint64 type, QByteArrayView value);

// appendDatagramCapsule: a DATAGRAM capsule whose value is the HTTP datagram payload
// (context id varint + data), as h2 and h1 carry HTTP datagrams (RFC 9297, 3.5).
void appendDatagramCapsule(QByteArray &out, QByteArrayView httpDatagramPayload);

// capsuleHeaderLength: bytes of Type + Length for a capsule of this type and value size.
int capsuleHeaderLength(quint64 type, quint64 valueLength) noexcept;

// isKnownCapsuleType: a type this project interprets (the CapsuleType enumerators). Others are
// passed to the caller untouched and, per RFC 9297, 3.2, skipped by whoever does not know them.
constexpr bool isKnownCapsuleType(quint64 type) noexcept
{
    return type <= quint64(CapsuleType::RouteAdvertisement);
}

// isGreaseCapsuleType: the reserved types 0x29 * N + 0x17 (RFC 9297, 5.4) that exercise the
// "unknown capsules are skipped" rule.
constexpr bool isGreaseCapsuleType(quint64 type) noexcept
{
    return type >= 0x17 && (type - 0x17) % 0x29 == 0;
}

} // namespace qmasque::wire
