#pragma once

#include "api/Result.h"
#include "wire/IpAddress.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>

namespace qmasque::wire {

// CONNECT-IP capsules (RFC 9484, 4.7). Parsers take a capsule's Value (as CapsuleDecoder hands
// it over) and validate it completely; encoders refuse to produce what the parsers would refuse.
//
// Errors: malformed_ip_capsule (truncated field, IP version other than 4 or 6, an empty
// ADDRESS_REQUEST), bad_prefix_length (longer than the address), bad_prefix (host bits set past
// the prefix length), bad_request_id (ADDRESS_REQUEST id zero or repeated), bad_route (start >
// end, ranges out of order, overlapping ranges). Request ids are checked within one capsule; never
// reusing them across capsules is the session's job (it remembers what it sent).

// AssignedAddress: one entry of ADDRESS_ASSIGN (4.7.1). requestId 0 = unprompted assignment;
// otherwise it answers that ADDRESS_REQUEST entry, and 0.0.0.0/32 or ::/128 means "refused".
struct AssignedAddress
{
    quint64 requestId = 0;
    IpPrefix prefix;

    friend bool operator==(const AssignedAddress &, const AssignedAddress &) = default;
};

// RequestedAddress: one entry of ADDRESS_REQUEST (4.7.2). requestId is non-zero; an all-zero
// address asks for any address of that version, with `prefix.length` as the preferred size.
struct RequestedAddress
{
    quint64 requestId = 0;
    IpPrefix prefix;

    friend bool operator==(const RequestedAddress &, const RequestedAddress &) = default;
};

// IpAddressRange: one entry of ROUTE_ADVERTISEMENT (4.7.3): inclusive start..end, both of the
// same version; ipProtocol 0 = every protocol.
struct IpAddressRange
{
    IpAddress start;
    IpAddress end;
    quint8 ipProtocol = 0;

    friend bool operator==(const IpAddressRange &, const IpAddressRange &) = default;
};

// Decoding a capsule Value.
Result<QList<AssignedAddress>> parseAddressAssign(QByteArrayView value);
Result<QList<RequestedAddress>> parseAddressRequest(QByteArrayView value);
Result<QList<IpAddressRange>> parseRouteAdvertisement(QByteArrayView value);

// Validation alone (what the parsers apply after reading the fields).
Status validateAddressAssign(const QList<AssignedAddress> &addresses);
Status validateAddressRequest(const QList<RequestedAddress> &addresses);
Status validateRouteAdvertisement(const QList<IpAddressRange> &ranges);

// Encoding a capsule Value (request ids minimal varints, addresses in network order).
Result<QByteArray> encodeAddressAssign(const QList<AssignedAddress> &addresses);
Result<QByteArray> encodeAddressRequest(const QList<RequestedAddress> &addresses);
Result<QByteArray> encodeRouteAdvertisement(const QList<IpAddressRange> &ranges);

// Encoding a whole capsule (Type + Length + Value), ready for the request stream.
Result<QByteArray> encodeAddressAssignCapsule(const QList<AssignedAddress> &addresses);
Result<QByteArray> encodeAddressRequestCapsule(const QList<RequestedAddress> &addresses);
Result<QByteArray> encodeRouteAdvertisementCapsule(const QList<IpAddressRange> &ranges);

} // namespace qmasque::wire
