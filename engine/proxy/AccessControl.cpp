#include "proxy/AccessControl.h"

#include <algorithm>
#include <array>

namespace qmasque {

using wire::IpAddress;
using wire::IpPrefix;

namespace {

using U128 = AccessControl::U128;

U128 toNumber(const IpAddress &address) noexcept
{
    U128 value;
    if (address.isIpv4()) {
        value.lo = address.toIpv4();
        return value;
    }
    for (int i = 0; i < 8; ++i)
        value.hi = (value.hi << 8) | address.byteAt(i);
    for (int i = 8; i < 16; ++i)
        value.lo = (value.lo << 8) | address.byteAt(i);
    return value;
}

IpAddress fromNumber(U128 value, int version) noexcept
{
    if (version == 4)
        return IpAddress::fromIpv4(quint32(value.lo));
    std::array<char, 16> bytes{};
    for (int i = 0; i < 8; ++i) {
        bytes[size_t(7 - i)] = char(value.hi >> (8 * i));
        bytes[size_t(15 - i)] = char(value.lo >> (8 * i));
    }
    return IpAddress::fromBytes(QByteArrayView(bytes.data(), 16));
}

U128 increment(U128 value) noexcept
{
    if (++value.lo == 0)
        ++value.hi;
    return value;
}

U128 decrement(U128 value) noexcept
{
    if (value.lo-- == 0)
        --value.hi;
    return value;
}

U128 maxOf(int version) noexcept
{
    return version == 4 ? U128{0, 0xffffffffu} : U128{~quint64(0), ~quint64(0)};
}

constexpr const char16_t *kSpecialPurpose[] = {
    // IPv4 (IANA IPv4 Special-Purpose Address Registry, RFC 6890 and successors).
    u"0.0.0.0/8",       // "this network" (RFC 791)
    u"10.0.0.0/8",      // private (RFC 1918)
    u"100.64.0.0/10",   // shared address space, carrier-grade NAT (RFC 6598)
    u"127.0.0.0/8",     // loopback
    u"169.254.0.0/16",  // link-local (RFC 3927)
    u"172.16.0.0/12",   // private (RFC 1918)
    u"192.0.0.0/24",    // IETF protocol assignments (RFC 6890)
    u"192.0.2.0/24",    // documentation TEST-NET-1 (RFC 5737)
    u"192.88.99.0/24",  // deprecated 6to4 relay anycast (RFC 7526)
    u"192.168.0.0/16",  // private (RFC 1918)
    u"198.18.0.0/15",   // benchmarking (RFC 2544)
    u"198.51.100.0/24", // documentation TEST-NET-2
    u"203.0.113.0/24",  // documentation TEST-NET-3
    u"224.0.0.0/4",     // multicast
    u"240.0.0.0/4",     // reserved, and the limited broadcast address
    // IPv6 (IANA IPv6 Special-Purpose Address Registry).
    u"::/96",          // unspecified, loopback, deprecated IPv4-compatible addresses
    u"::ffff:0:0/96",  // IPv4-mapped (checked as IPv4 first; listed for completeness)
    u"64:ff9b:1::/48", // NAT64 local use (RFC 8215)
    u"100::/64",       // discard-only (RFC 6666)
    u"2001::/23",      // IETF protocol assignments, Teredo (RFC 2928, RFC 4380)
    u"2001:db8::/32",  // documentation (RFC 3849)
    u"2002::/16",      // 6to4 (RFC 3056): embeds IPv4 addresses
    u"3fff::/20",      // documentation (RFC 9637)
    u"fc00::/7",       // unique local (RFC 4193)
    u"fe80::/10",      // link-local
    u"fec0::/10",      // deprecated site-local (RFC 3879)
    u"ff00::/8",       // multicast
};

} // namespace

AccessControl::AccessControl(const QList<IpPrefix> &allow)
{
    m_v4.push_back({U128{}, maxOf(4)});
    m_v6.push_back({U128{}, maxOf(6)});
    for (const IpPrefix &prefix : specialPurposeRanges()) {
        subtract(prefix.address.isIpv4() ? m_v4 : m_v6, toNumber(prefix.first()),
                 toNumber(prefix.last()));
    }
    for (const IpPrefix &prefix : allow) {
        if (!prefix.isLengthValid())
            continue;
        add(prefix.address.isIpv4() ? m_v4 : m_v6, toNumber(prefix.first()),
            toNumber(prefix.last()));
    }
}

QList<IpPrefix> AccessControl::specialPurposeRanges()
{
    QList<IpPrefix> ranges;
    for (const char16_t *text : kSpecialPurpose)
        ranges.append(*IpPrefix::fromString(QStringView(text)));
    return ranges;
}

void AccessControl::subtract(std::vector<Interval> &set, U128 first, U128 last)
{
    std::vector<Interval> out;
    out.reserve(set.size() + 1);
    for (const Interval &interval : set) {
        if (interval.last < first || interval.first > last) {
            out.push_back(interval);
            continue;
        }
        if (interval.first < first)
            out.push_back({interval.first, decrement(first)});
        if (interval.last > last)
            out.push_back({increment(last), interval.last});
    }
    set.swap(out);
}

void AccessControl::add(std::vector<Interval> &set, U128 first, U128 last)
{
    set.push_back({first, last});
    std::sort(set.begin(), set.end(),
              [](const Interval &a, const Interval &b) { return a.first < b.first; });
    std::vector<Interval> merged;
    for (const Interval &interval : set) {
        // Merge overlapping and adjacent intervals (adjacent: previous last + 1 == first).
        if (!merged.empty() &&
            (merged.back().last == maxOf(6) || increment(merged.back().last) >= interval.first)) {
            merged.back().last = std::max(merged.back().last, interval.last);
            continue;
        }
        merged.push_back(interval);
    }
    set.swap(merged);
}

bool AccessControl::contains(const std::vector<Interval> &set, U128 value) const noexcept
{
    // The first interval that ends at or after `value`.
    auto it = std::lower_bound(set.begin(), set.end(), value,
                               [](const Interval &interval, U128 v) { return interval.last < v; });
    return it != set.end() && it->first <= value;
}

IpAddress AccessControl::mapped(const IpAddress &address) noexcept
{
    if (!address.isIpv6())
        return address;
    for (int i = 0; i < 10; ++i) {
        if (address.byteAt(i) != 0)
            return address;
    }
    if (address.byteAt(10) != 0xff || address.byteAt(11) != 0xff)
        return address;
    return IpAddress::fromBytes(address.bytes().sliced(12));
}

IpAddress AccessControl::fromQHostAddress(const QHostAddress &address)
{
    bool ok = false;
    const quint32 v4 = address.toIPv4Address(&ok);
    if (ok && address.protocol() == QAbstractSocket::IPv4Protocol)
        return IpAddress::fromIpv4(v4);
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        const Q_IPV6ADDR v6 = address.toIPv6Address();
        return IpAddress::fromBytes(QByteArrayView(reinterpret_cast<const char *>(v6.c), 16));
    }
    return {};
}

bool AccessControl::permits(const IpAddress &address) const noexcept
{
    const IpAddress checked = mapped(address);
    if (checked.isIpv4())
        return contains(m_v4, toNumber(checked));
    if (checked.isIpv6())
        return contains(m_v6, toNumber(checked));
    return false;
}

bool AccessControl::permits(const QHostAddress &address) const
{
    return permits(fromQHostAddress(address));
}

bool AccessControl::permitsAnyOf(const IpPrefix &prefix) const noexcept
{
    if (!prefix.isLengthValid())
        return false;
    const std::vector<Interval> &set = prefix.address.isIpv4() ? m_v4 : m_v6;
    const U128 first = toNumber(prefix.first());
    const U128 last = toNumber(prefix.last());
    for (const Interval &interval : set) {
        if (interval.last >= first && interval.first <= last)
            return true;
    }
    return false;
}

QList<wire::IpAddressRange> AccessControl::permittedRanges(int version, const IpPrefix &within,
                                                           quint8 ipProtocol) const
{
    const std::vector<Interval> &set = version == 4 ? m_v4 : m_v6;
    U128 first{};
    U128 last = maxOf(version);
    if (within.isLengthValid()) {
        if (within.address.version() != version)
            return {};
        first = toNumber(within.first());
        last = toNumber(within.last());
    }
    QList<wire::IpAddressRange> ranges;
    for (const Interval &interval : set) {
        if (interval.last < first || interval.first > last)
            continue;
        ranges.append(wire::IpAddressRange{fromNumber(std::max(interval.first, first), version),
                                           fromNumber(std::min(interval.last, last), version),
                                           ipProtocol});
    }
    return ranges;
}

QString deniedTargetDetail(const QString &host, const QList<QHostAddress> &resolved)
{
    const QString first = resolved.isEmpty() ? QString() : resolved.constFirst().toString();
    if (first.isEmpty() || first == host)
        return QStringLiteral("%1 is not an allowed target").arg(host);
    return QStringLiteral("%1 (%2) is not an allowed target").arg(host, first);
}

} // namespace qmasque
