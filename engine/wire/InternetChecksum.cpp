#include "wire/InternetChecksum.h"

namespace qmasque::wire {

namespace {

constexpr quint8 kProtocolUdp = 17;

} // namespace

void InternetChecksum::add(QByteArrayView data) noexcept
{
    const auto *p = reinterpret_cast<const quint8 *>(data.data());
    qsizetype n = data.size();
    if (n > 0 && m_odd) {
        m_sum += *p++;
        --n;
        m_odd = false;
    }
    // A 64-bit accumulator cannot overflow on any buffer this side of 2^47 bytes, so folding
    // waits until result().
    for (; n >= 2; p += 2, n -= 2)
        m_sum += quint32(p[0]) << 8 | p[1];
    if (n == 1) {
        m_sum += quint32(p[0]) << 8;
        m_odd = true;
    }
}

void InternetChecksum::addWord(quint16 word) noexcept
{
    if (m_odd) {
        // Keep byte alignment: the word continues after the pending high byte.
        const char bytes[2] = {char(word >> 8), char(word & 0xff)};
        add(QByteArrayView(bytes, 2));
        return;
    }
    m_sum += word;
}

quint16 InternetChecksum::result() const noexcept
{
    quint64 sum = m_sum;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return quint16(~sum & 0xffff);
}

quint16 internetChecksum(QByteArrayView data) noexcept
{
    InternetChecksum c;
    c.add(data);
    return c.result();
}

quint16 ipv4HeaderChecksum(QByteArrayView header) noexcept
{
    // RFC 791, 3.1: the checksum field (bytes 10-11) counts as zero.
    InternetChecksum c;
    c.add(header.first(qMin<qsizetype>(10, header.size())));
    if (header.size() > 12)
        c.add(header.sliced(12));
    return c.result();
}

bool verifyIpv4HeaderChecksum(QByteArrayView header) noexcept
{
    return header.size() >= 20 && internetChecksum(header) == 0;
}

quint16 pseudoHeaderChecksum(const IpAddress &source, const IpAddress &destination, quint8 protocol,
                             QByteArrayView segment) noexcept
{
    InternetChecksum c;
    c.add(source.bytes());
    c.add(destination.bytes());
    const auto length = quint64(segment.size());
    if (source.isIpv6()) {
        // RFC 8200, 8.1: Upper-Layer Packet Length (32 bits), 3 zero bytes, Next Header.
        c.addWord(quint16(length >> 16));
        c.addWord(quint16(length & 0xffff));
        c.addWord(protocol);
    } else {
        // RFC 768 / RFC 9293, 3.1: zero, protocol, 16-bit length.
        c.addWord(protocol);
        c.addWord(quint16(length & 0xffff));
    }
    c.add(segment);
    return c.result();
}

quint16 udpChecksum(const IpAddress &source, const IpAddress &destination,
                    QByteArrayView datagram) noexcept
{
    const quint16 sum = pseudoHeaderChecksum(source, destination, kProtocolUdp, datagram);
    return sum == 0 ? 0xffff : sum;
}

} // namespace qmasque::wire
