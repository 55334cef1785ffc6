#pragma once

#include "wire/IpAddress.h"

#include <QtCore/QList>
#include <QtCore/QSet>

#include <optional>

namespace qmasque {

// IpAddressPool: CONNECT-IP client addresses (RFC 9484, 4.7.1), at most one pool per IP version.
// In each pool the network address and the first host address (the proxy's own: gateway())
// are never handed out, nor, for IPv4, the broadcast address; every client gets single
// addresses (/32, /128). Allocation walks the pool from a cursor, so a released address is not
// handed out again at once. Engine thread only.
class IpAddressPool
{
public:
    explicit IpAddressPool(const QList<wire::IpPrefix> &pools);

    // allocate: a free address of `version`, `preferred` when it is in the pool and free.
    // std::nullopt when the version has no pool or the pool is exhausted.
    std::optional<wire::IpAddress> allocate(int version, const wire::IpAddress &preferred = {});
    void release(const wire::IpAddress &address);

    // gateway: the proxy's own address in the pool of `version` (null without a pool).
    wire::IpAddress gateway(int version) const;
    std::optional<wire::IpPrefix> pool(int version) const;
    qsizetype inUse() const { return m_used.size(); }
    // capacity: assignable addresses of `version` (capped at 2^62).
    quint64 capacity(int version) const;

private:
    struct Pool
    {
        wire::IpPrefix prefix;
        quint64 firstOffset = 2; // past the network address and the gateway
        quint64 count = 0;       // assignable addresses
        quint64 cursor = 0;      // next offset to try, relative to firstOffset
        bool present = false;
    };
    Pool &poolFor(int version) { return m_pools[version == 4 ? 0 : 1]; }
    const Pool &poolFor(int version) const { return m_pools[version == 4 ? 0 : 1]; }
    static wire::IpAddress addressAt(const wire::IpPrefix &prefix, quint64 offset);

    Pool m_pools[2];
    QSet<wire::IpAddress> m_used;
};

} // namespace qmasque
