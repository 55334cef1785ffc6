#include "wire/IpCapsules.h"

#include "wire/ByteReader.h"
#include "wire/Capsule.h"
#include "wire/Varint.h"

#include <QtCore/QSet>

#include <algorithm>

namespace qmasque::wire {

namespace {

Error malformed(const QString &detail)
{
    return Error(ErrorCode::MalformedIpCapsule, detail);
}

// readAddress: IP Version (8) then a 32- or 128-bit address (RFC 9484, 4.7).
Result<IpAddress> readVersionedAddress(ByteReader &reader, const char *what, int *version)
{
    const auto v = reader.readU8();
    if (!v)
        return malformed(QStringLiteral("%1 ends before its IP version").arg(QLatin1String(what)));
    if (*v != 4 && *v != 6) {
        return malformed(
            QStringLiteral("%1 has IP version %2 (4 or 6 only)").arg(QLatin1String(what)).arg(*v));
    }
    *version = *v;
    const auto bytes = reader.readBytes(*v == 4 ? 4 : 16);
    if (!bytes)
        return malformed(QStringLiteral("%1 ends inside its address").arg(QLatin1String(what)));
    return IpAddress::fromBytes(*bytes);
}

Result<IpAddress> readAddress(ByteReader &reader, int version, const char *what)
{
    const auto bytes = reader.readBytes(version == 4 ? 4 : 16);
    if (!bytes)
        return malformed(QStringLiteral("%1 ends inside an address").arg(QLatin1String(what)));
    return IpAddress::fromBytes(*bytes);
}

// checkPrefix: the prefix rules shared by ADDRESS_ASSIGN and ADDRESS_REQUEST (4.7.1, 4.7.2):
// length within the address, bits past the length zero.
Status checkPrefix(const IpPrefix &prefix, const char *what)
{
    if (prefix.address.version() != 4 && prefix.address.version() != 6)
        return malformed(QStringLiteral("%1 has no IPv4 or IPv6 address").arg(QLatin1String(what)));
    if (!prefix.isLengthValid()) {
        return Error(ErrorCode::BadPrefixLength,
                     QStringLiteral("%1: prefix length %2 for an IPv%3 address")
                         .arg(QLatin1String(what))
                         .arg(prefix.length)
                         .arg(prefix.address.version()));
    }
    if (!prefix.isCanonical()) {
        return Error(ErrorCode::BadPrefix, QStringLiteral("%1: %2 has bits set past the prefix")
                                               .arg(QLatin1String(what), prefix.toString()));
    }
    return {};
}

// readPrefixEntry: Request ID (i), IP Version (8), IP Address, IP Prefix Length (8).
template<typename Entry>
Result<Entry> readPrefixEntry(ByteReader &reader, const char *what)
{
    Entry entry;
    const auto requestId = reader.readVarint();
    if (!requestId)
        return malformed(QStringLiteral("%1 ends inside a request id").arg(QLatin1String(what)));
    entry.requestId = *requestId;
    int version = 0;
    auto address = readVersionedAddress(reader, what, &version);
    if (!address)
        return address.error();
    const auto length = reader.readU8();
    if (!length)
        return malformed(QStringLiteral("%1 ends before a prefix length").arg(QLatin1String(what)));
    entry.prefix = IpPrefix{*address, *length};
    return entry;
}

template<typename Entry>
Result<QList<Entry>> parsePrefixEntries(QByteArrayView value, const char *what)
{
    QList<Entry> entries;
    ByteReader reader(value);
    while (!reader.atEnd()) {
        auto entry = readPrefixEntry<Entry>(reader, what);
        if (!entry)
            return entry.error();
        entries.append(std::move(entry).value());
    }
    return entries;
}

bool appendPrefixEntry(QByteArray &out, quint64 requestId, const IpPrefix &prefix)
{
    if (!appendVarint(out, requestId))
        return false;
    out.append(char(prefix.address.version()));
    out.append(prefix.address.bytes());
    out.append(char(prefix.length));
    return true;
}

template<typename Entry>
QByteArray encodePrefixEntries(const QList<Entry> &entries)
{
    QByteArray out;
    out.reserve(entries.size() * 18);
    for (const Entry &entry : entries)
        appendPrefixEntry(out, entry.requestId, entry.prefix);
    return out;
}

Result<QByteArray> wrapCapsule(CapsuleType type, Result<QByteArray> value)
{
    if (!value)
        return value.error();
    QByteArray out;
    appendCapsule(out, quint64(type), *value);
    return out;
}

bool rangesOverlap(const IpAddressRange &a, const IpAddressRange &b) noexcept
{
    return a.start <= b.end && b.start <= a.end;
}

QString rangeText(const IpAddressRange &r)
{
    return QStringLiteral("%1-%2 protocol %3")
        .arg(r.start.toString(), r.end.toString())
        .arg(r.ipProtocol);
}

// checkProtocolZeroOverlap: RFC 9484, 4.7.3 lets ranges of protocol 0 ("all protocols") and of a
// given protocol pass the ordering rules while overlapping, and forbids sending that. `block` is
// one version's ranges, already known to be ordered and disjoint per protocol, so the protocol-0
// ranges come first and are sorted: each other range needs one binary search.
Status checkProtocolZeroOverlap(const IpAddressRange *block, qsizetype count)
{
    const auto *zeroEnd = std::find_if(block, block + count,
                                       [](const IpAddressRange &r) { return r.ipProtocol != 0; });
    if (zeroEnd == block || zeroEnd == block + count)
        return {};
    for (const IpAddressRange *r = zeroEnd; r != block + count; ++r) {
        // The first protocol-0 range ending at or after r->start is the only candidate.
        const auto *candidate =
            std::lower_bound(block, zeroEnd, r->start,
                             [](const IpAddressRange &z, const IpAddress &a) { return z.end < a; });
        if (candidate != zeroEnd && rangesOverlap(*candidate, *r)) {
            return Error(ErrorCode::BadRoute, QStringLiteral("route %1 overlaps the all-protocol "
                                                             "route %2")
                                                  .arg(rangeText(*r), rangeText(*candidate)));
        }
    }
    return {};
}

} // namespace

Status validateAddressAssign(const QList<AssignedAddress> &addresses)
{
    for (const AssignedAddress &a : addresses) {
        if (a.requestId > kVarintMax) {
            return Error(ErrorCode::BadRequestId,
                         QStringLiteral("request id %1 exceeds 2^62-1").arg(a.requestId));
        }
        if (Status s = checkPrefix(a.prefix, "ADDRESS_ASSIGN"); !s)
            return s;
    }
    return {};
}

Status validateAddressRequest(const QList<RequestedAddress> &addresses)
{
    // RFC 9484, 4.7.2: at least one Requested Address; ids non-zero and never reused.
    if (addresses.isEmpty())
        return malformed(QStringLiteral("ADDRESS_REQUEST without any requested address"));
    QSet<quint64> seen;
    seen.reserve(addresses.size());
    for (const RequestedAddress &a : addresses) {
        if (a.requestId == 0 || a.requestId > kVarintMax) {
            return Error(ErrorCode::BadRequestId,
                         QStringLiteral("ADDRESS_REQUEST with request id %1").arg(a.requestId));
        }
        if (seen.contains(a.requestId)) {
            return Error(ErrorCode::BadRequestId,
                         QStringLiteral("ADDRESS_REQUEST repeats request id %1").arg(a.requestId));
        }
        seen.insert(a.requestId);
        if (Status s = checkPrefix(a.prefix, "ADDRESS_REQUEST"); !s)
            return s;
    }
    return {};
}

Status validateRouteAdvertisement(const QList<IpAddressRange> &ranges)
{
    qsizetype blockStart = 0;
    for (qsizetype i = 0; i < ranges.size(); ++i) {
        const IpAddressRange &r = ranges[i];
        const int version = r.start.version();
        if ((version != 4 && version != 6) || r.end.version() != version) {
            return malformed(
                QStringLiteral("ROUTE_ADVERTISEMENT range %1 mixes or lacks IP versions").arg(i));
        }
        if (r.end < r.start) {
            return Error(ErrorCode::BadRoute,
                         QStringLiteral("route %1 starts after it ends").arg(rangeText(r)));
        }
        if (i == 0)
            continue;
        // RFC 9484, 4.7.3: ordered by version, then protocol, then start; ranges of one version
        // and protocol strictly after one another.
        const IpAddressRange &prev = ranges[i - 1];
        const int prevVersion = prev.start.version();
        bool ordered = true;
        if (prevVersion > version)
            ordered = false;
        else if (prevVersion == version && prev.ipProtocol > r.ipProtocol)
            ordered = false;
        else if (prevVersion == version && prev.ipProtocol == r.ipProtocol && !(prev.end < r.start))
            ordered = false;
        if (!ordered) {
            return Error(ErrorCode::BadRoute,
                         QStringLiteral("route %1 does not come strictly after route %2")
                             .arg(rangeText(r), rangeText(prev)));
        }
        if (prevVersion != version) {
            if (Status s =
                    checkProtocolZeroOverlap(ranges.constData() + blockStart, i - blockStart);
                !s)
                return s;
            blockStart = i;
        }
    }
    return checkProtocolZeroOverlap(ranges.constData() + blockStart, ranges.size() - blockStart);
}

Result<QList<AssignedAddress>> parseAddressAssign(QByteArrayView value)
{
    // RFC 9484, 4.7.1: zero or more entries; an empty capsule withdraws every address.
    auto entries = parsePrefixEntries<AssignedAddress>(value, "ADDRESS_ASSIGN");
    if (!entries)
        return entries;
    if (Status s = validateAddressAssign(*entries); !s)
        return s.error();
    return entries;
}

Result<QList<RequestedAddress>> parseAddressRequest(QByteArrayView value)
{
    auto entries = parsePrefixEntries<RequestedAddress>(value, "ADDRESS_REQUEST");
    if (!entries)
        return entries;
    if (Status s = validateAddressRequest(*entries); !s)
        return s.error();
    return entries;
}

Result<QList<IpAddressRange>> parseRouteAdvertisement(QByteArrayView value)
{
    QList<IpAddressRange> ranges;
    ByteReader reader(value);
    while (!reader.atEnd()) {
        int version = 0;
        auto start = readVersionedAddress(reader, "ROUTE_ADVERTISEMENT", &version);
        if (!start)
            return start.error();
        auto end = readAddress(reader, version, "ROUTE_ADVERTISEMENT");
        if (!end)
            return end.error();
        const auto protocol = reader.readU8();
        if (!protocol)
            return malformed(QStringLiteral("ROUTE_ADVERTISEMENT ends before an IP protocol"));
        ranges.append(IpAddressRange{*start, *end, *protocol});
    }
    if (Status s = validateRouteAdvertisement(ranges); !s)
        return s.error();
    return ranges;
}

Result<QByteArray> encodeAddressAssign(const QList<AssignedAddress> &addresses)
{
    if (Status s = validateAddressAssign(addresses); !s)
        return s.error();
    return encodePrefixEntries(addresses);
}

Result<QByteArray> encodeAddressRequest(const QList<RequestedAddress> &addresses)
{
    if (Status s = validateAddressRequest(addresses); !s)
        return s.error();
    return encodePrefixEntries(addresses);
}

Result<QByteArray> encodeRouteAdvertisement(const QList<IpAddressRange> &ranges)
{
    if (Status s = validateRouteAdvertisement(ranges); !s)
        return s.error();
    QByteArray out;
    out.reserve(ranges.size() * 34);
    for (const IpAddressRange &r : ranges) {
        out.append(char(r.start.version()));
        out.append(r.start.bytes());
        out.append(r.end.bytes());
        out.append(char(r.ipProtocol));
    }
    return out;
}

Result<QByteArray> encodeAddressAssignCapsule(const QList<AssignedAddress> &addresses)
{
    return wrapCapsule(CapsuleType::AddressAssign, encodeAddressAssign(addresses));
}

Result<QByteArray> encodeAddressRequestCapsule(const QList<RequestedAddress> &addresses)
{
    return wrapCapsule(CapsuleType::AddressRequest, encodeAddressRequest(addresses));
}

Result<QByteArray> encodeRouteAdvertisementCapsule(const QList<IpAddressRange> &ranges)
{
    return wrapCapsule(CapsuleType::RouteAdvertisement, encodeRouteAdvertisement(ranges));
}

} // namespace qmasque::wire
