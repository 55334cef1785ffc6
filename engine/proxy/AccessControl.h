#pragma once

#include "wire/IpAddress.h"
#include "wire/IpCapsules.h"

#include <QtCore/QList>
#include <QtNetwork/QHostAddress>

#include <vector>

namespace qmasque {

// AccessControl: which target addresses the proxy connects to, forwards packets to, or
// advertises routes for. An address is permitted when
//   it lies in one of the `allow` prefixes (--allow), or
//   it lies in none of specialPurposeRanges(): loopback, unspecified, RFC 1918 private, shared
//   address space (CGN), link-local, unique local (ULA), multicast, reserved/broadcast,
//   documentation and benchmarking ranges, and the IPv6 transition ranges that embed IPv4
//   addresses (6to4, Teredo, NAT64 local use) (IANA special-purpose address registries, RFC 6890).
// So --allow only ever adds: public addresses are always permitted, --allow 127.0.0.0/8 opens
// loopback in addition. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are checked as the IPv4
// address they carry.
//
// The decision is precomputed into sorted, disjoint permitted ranges per IP version, so a check
// is a binary search over a few dozen entries (cheap enough per CONNECT-IP packet). Immutable
// after construction; thread-safe to read.
class AccessControl
{
public:
    explicit AccessControl(const QList<wire::IpPrefix> &allow = {});

    // specialPurposeRanges: the default-denied prefixes, both versions.
    static QList<wire::IpPrefix> specialPurposeRanges();

    bool permits(const wire::IpAddress &address) const noexcept;
    bool permits(const QHostAddress &address) const;
    // permitsAnyOf: whether at least one address of `prefix` is permitted.
    bool permitsAnyOf(const wire::IpPrefix &prefix) const noexcept;

    // permittedRanges: the permitted ranges of `version` inside `within` (all of them for a null
    // prefix), as ROUTE_ADVERTISEMENT entries for `ipProtocol` (RFC 9484, 4.7.3: ordered by
    // start, disjoint).
    QList<wire::IpAddressRange> permittedRanges(int version, const wire::IpPrefix &within,
                                                quint8 ipProtocol) const;

    // mapped: an IPv4-mapped IPv6 address as IPv4; every other address unchanged.
    static wire::IpAddress mapped(const wire::IpAddress &address) noexcept;
    static wire::IpAddress fromQHostAddress(const QHostAddress &address);

    // U128: an address as a number (IPv4 in the low 32 bits).
    struct U128
    {
        quint64 hi = 0;
        quint64 lo = 0;
        friend auto operator<=>(const U128 &, const U128 &) = default;
    };

private:
    struct Interval
    {
        U128 first;
        U128 last;
    };
    static void subtract(std::vector<Interval> &set, U128 first, U128 last);
    static void add(std::vector<Interval> &set, U128 first, U128 last);
    bool contains(const std::vector<Interval> &set, U128 value) const noexcept;

    std::vector<Interval> m_v4; // sorted, disjoint, non-adjacent
    std::vector<Interval> m_v6;
};

// deniedTargetDetail: "10.0.0.1 is not an allowed target", or for a name
// "db.internal (10.0.0.7) is not an allowed target" (the first resolved address).
QString deniedTargetDetail(const QString &host, const QList<QHostAddress> &resolved);

} // namespace qmasque
