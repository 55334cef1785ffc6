#include "local/TunRoutePlan.h"

#include <algorithm>
#include <vector>

namespace qmasque {

namespace {

__extension__ typedef unsigned __int128 U128;

U128 toNumber(const wire::IpAddress &address)
{
    U128 value = 0;
    for (int i = 0; i < address.byteLength(); ++i)
        value = (value << 8) | address.byteAt(i);
    return value;
}

wire::IpAddress fromNumber(U128 value, int version)
{
    const int bytes = version == 4 ? 4 : 16;
    char out[16];
    for (int i = bytes - 1; i >= 0; --i) {
        out[i] = char(quint8(value & 0xff));
        value >>= 8;
    }
    return wire::IpAddress::fromBytes(QByteArrayView(out, bytes));
}

int trailingZeros(U128 value, int bits)
{
    int zeros = 0;
    while (zeros < bits && !(value & 1)) {
        value >>= 1;
        ++zeros;
    }
    return zeros;
}

// Appends the prefixes covering [first, last] (inclusive) of a `bits`-wide family.
void cover(U128 first, U128 last, int version, QList<wire::IpPrefix> &out)
{
    const int bits = version == 4 ? 32 : 128;
    for (;;) {
        // The largest aligned block starting at `first` that does not pass `last`.
        int size = trailingZeros(first, bits);
        const U128 span = last - first; // block size - 1 may be at most this
        while (size > 0 && (size >= 128 || ((U128(1) << size) - 1) > span))
            --size;
        const int length = qMax(1, bits - size); // never /0: see routePrefixes()
        out.append(wire::IpPrefix{fromNumber(first, version), length});
        const U128 blockLast = first + ((U128(1) << (bits - length)) - 1);
        if (blockLast >= last)
            return;
        first = blockLast + 1;
    }
}

} // namespace

QList<wire::IpPrefix> routePrefixes(const QList<wire::IpAddressRange> &ranges,
                                    const QList<wire::IpAddress> &excluded)
{
    QList<wire::IpPrefix> out;
    for (const int version : {4, 6}) {
        // Intervals of this version, sorted and merged, then with the excluded points removed.
        std::vector<std::pair<U128, U128>> intervals;
        for (const wire::IpAddressRange &range : ranges) {
            if (range.start.version() == version && range.end.version() == version &&
                range.start <= range.end)
                intervals.emplace_back(toNumber(range.start), toNumber(range.end));
        }
        std::sort(intervals.begin(), intervals.end());
        std::vector<std::pair<U128, U128>> merged;
        for (const auto &interval : intervals) {
            if (!merged.empty() && (interval.first <= merged.back().second ||
                                    interval.first == merged.back().second + 1)) {
                merged.back().second = std::max(merged.back().second, interval.second);
                continue;
            }
            merged.push_back(interval);
        }
        for (const wire::IpAddress &address : excluded) {
            if (address.version() != version)
                continue;
            const U128 point = toNumber(address);
            std::vector<std::pair<U128, U128>> split;
            for (const auto &[first, last] : merged) {
                if (point < first || point > last) {
                    split.emplace_back(first, last);
                    continue;
                }
                if (point > first)
                    split.emplace_back(first, point - 1);
                if (point < last)
                    split.emplace_back(point + 1, last);
            }
            merged = std::move(split);
        }
        for (const auto &[first, last] : merged)
            cover(first, last, version, out);
    }
    return out;
}

} // namespace qmasque
