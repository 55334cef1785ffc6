#pragma once

#include <QtCore/QByteArrayView>
#include <QtCore/QHashFunctions>
#include <QtCore/QString>

#include <array>
#include <compare>
#include <optional>

namespace qmasque::wire {

// IpAddress: an IPv4 or IPv6 address as a plain value (version + 16 bytes, network byte order).
// The codecs are QtCore-only, so this stands in for QHostAddress; it has no scope/zone id (RFC 9298
// and RFC 9484 do not support zone identifiers). A default-constructed address is null
// (version 0). Ordering is by version, then numerically, which is the order RFC 9484, 4.7.3 uses.
class IpAddress
{
public:
    IpAddress() = default;

    // fromIpv4: the IPv4 address with this host-order value (0xc0000201 = 192.0.2.1).
    static IpAddress fromIpv4(quint32 address) noexcept;
    // fromBytes: 4 bytes make an IPv4 address, 16 an IPv6 one; any other size gives null.
    static IpAddress fromBytes(QByteArrayView bytes) noexcept;
    // zero: 0.0.0.0 (version 4) or :: (version 6); null for any other version.
    static IpAddress zero(int version) noexcept;

    // fromString: strict text forms only. IPv4 is a dotted quad of decimal octets without leading
    // zeros ("192.0.2.1", never "192.0.2.01" or "0x7f.1"); IPv6 is RFC 4291, 2.2 text (hex groups,
    // one "::", optional trailing dotted quad), without brackets or zone ("%eth0").
    static std::optional<IpAddress> fromString(QStringView text);

    int version() const noexcept { return m_version; }
    bool isNull() const noexcept { return m_version == 0; }
    bool isIpv4() const noexcept { return m_version == 4; }
    bool isIpv6() const noexcept { return m_version == 6; }
    int bitLength() const noexcept { return m_version == 4 ? 32 : m_version == 6 ? 128 : 0; }
    int byteLength() const noexcept { return bitLength() / 8; }

    // bytes: the 4 or 16 address bytes (empty when null); valid while this object lives.
    QByteArrayView bytes() const noexcept
    {
        return QByteArrayView(reinterpret_cast<const char *>(m_bytes.data()), byteLength());
    }
    quint8 byteAt(int index) const noexcept { return m_bytes[size_t(index)]; }
    // toIpv4: the host-order value of an IPv4 address (0 otherwise).
    quint32 toIpv4() const noexcept;
    bool isZero() const noexcept;

    // toString: dotted quad, or RFC 5952 canonical IPv6 text (lower case, longest zero run
    // compressed, IPv4-mapped addresses as ::ffff:a.b.c.d). Empty for a null address.
    QString toString() const;

    // hostBitsZero: whether every bit past `prefixLength` is zero (prefixLength within 0..bits).
    bool hostBitsZero(int prefixLength) const noexcept;
    // masked: this address with the bits past `prefixLength` cleared (or set, for lastInPrefix).
    IpAddress masked(int prefixLength) const noexcept;
    IpAddress lastInPrefix(int prefixLength) const noexcept;

    friend bool operator==(const IpAddress &a, const IpAddress &b) noexcept = default;
    friend std::strong_ordering operator<=>(const IpAddress &a, const IpAddress &b) noexcept;

private:
    std::array<quint8, 16> m_bytes{};
    quint8 m_version = 0;
};

size_t qHash(const IpAddress &address, size_t seed = 0) noexcept;

// IpPrefix: an address with a prefix length ("192.0.2.0/24"). Canonical when the host bits
// (those past the length) are zero, as RFC 9484 requires everywhere a prefix is carried.
struct IpPrefix
{
    IpAddress address;
    int length = 0;

    // host: a single address as a full-length prefix (/32 or /128).
    static IpPrefix host(const IpAddress &address) noexcept
    {
        return IpPrefix{address, address.bitLength()};
    }

    // fromString: "addr/len" or "addr" (a full-length prefix). The length is decimal without
    // leading zeros and at most the address length; host bits are NOT checked (see isCanonical).
    static std::optional<IpPrefix> fromString(QStringView text);
    // toString: "addr/len", always with the length.
    QString toString() const;

    bool isLengthValid() const noexcept
    {
        return !address.isNull() && length >= 0 && length <= address.bitLength();
    }
    bool isCanonical() const noexcept { return isLengthValid() && address.hostBitsZero(length); }
    bool contains(const IpAddress &other) const noexcept;
    IpAddress first() const noexcept { return address.masked(length); }
    IpAddress last() const noexcept { return address.lastInPrefix(length); }

    friend bool operator==(const IpPrefix &a, const IpPrefix &b) noexcept = default;
};

} // namespace qmasque::wire
