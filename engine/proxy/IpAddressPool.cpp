#include "proxy/IpAddressPool.h"

#include <array>

namespace qmasque {

using wire::IpAddress;
using wire::IpPrefix;

IpAddressPool::IpAddressPool(const QList<IpPrefix> &pools)
{
    for (const IpPrefix &prefix : pools) {
        if (!prefix.isCanonical())
            continue;
        Pool &pool = poolFor(prefix.address.version());
        pool.prefix = prefix;
        pool.present = true;
        const int hostBits = prefix.address.bitLength() - prefix.length;
        // Offsets 0 (network) and 1 (gateway) are reserved; IPv4 also keeps the broadcast
        // address (all host bits set) out.
        const quint64 size = hostBits >= 63 ? (quint64(1) << 62) : (quint64(1) << hostBits);
        pool.count = size - 2 - (prefix.address.isIpv4() ? 1 : 0);
        if (hostBits >= 63)
            pool.count = quint64(1) << 62;
    }
}

IpAddress IpAddressPool::addressAt(const IpPrefix &prefix, quint64 offset)
{
    const QByteArrayView base = prefix.address.bytes();
    std::array<char, 16> bytes{};
    const int length = int(base.size());
    quint64 carry = offset;
    for (int i = length - 1; i >= 0; --i) {
        const quint64 sum = quint64(quint8(base[i])) + (carry & 0xff);
        bytes[size_t(i)] = char(sum & 0xff);
        carry = (carry >> 8) + (sum >> 8);
    }
    return IpAddress::fromBytes(QByteArrayView(bytes.data(), length));
}

std::optional<IpAddress> IpAddressPool::allocate(int version, const IpAddress &preferred)
{
    Pool &pool = poolFor(version);
    if (!pool.present || pool.count == 0)
        return std::nullopt;
    if (!preferred.isNull() && !preferred.isZero() && preferred.version() == version &&
        pool.prefix.contains(preferred) && !m_used.contains(preferred) &&
        preferred != gateway(version) && preferred != pool.prefix.first() &&
        !(version == 4 && preferred == pool.prefix.last())) {
        m_used.insert(preferred);
        return preferred;
    }
    // Every used address of this version is somewhere in the pool: within that many + 1 steps
    // from the cursor there is a free one, unless the pool is full.
    quint64 usedHere = 0;
    for (const IpAddress &address : std::as_const(m_used))
        usedHere += address.version() == version ? 1 : 0;
    if (usedHere >= pool.count)
        return std::nullopt;
    for (quint64 step = 0; step <= usedHere; ++step) {
        const quint64 offset = pool.cursor;
        pool.cursor = (pool.cursor + 1) % pool.count;
        const IpAddress candidate = addressAt(pool.prefix, pool.firstOffset + offset);
        if (!m_used.contains(candidate)) {
            m_used.insert(candidate);
            return candidate;
        }
    }
    return std::nullopt;
}

void IpAddressPool::release(const IpAddress &address)
{
    m_used.remove(address);
}

IpAddress IpAddressPool::gateway(int version) const
{
    const Pool &pool = poolFor(version);
    return pool.present ? addressAt(pool.prefix, 1) : IpAddress();
}

std::optional<IpPrefix> IpAddressPool::pool(int version) const
{
    const Pool &pool = poolFor(version);
    if (!pool.present)
        return std::nullopt;
    return pool.prefix;
}

quint64 IpAddressPool::capacity(int version) const
{
    const Pool &pool = poolFor(version);
    return pool.present ? pool.count : 0;
}

} // namespace qmasque
