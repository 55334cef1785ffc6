#include "support/TestPackets.h"

#include "proxy/IpResponder.h"
#include "wire/InternetChecksum.h"

namespace qmasque::test {

QByteArray numberedPayload(quint32 sequence, qsizetype size)
{
    QByteArray payload(size, char(sequence & 0xff));
    for (int i = 0; i < 4; ++i)
        payload[i] = char((sequence >> (8 * i)) & 0xff);
    return payload;
}

quint32 sequenceOf(QByteArrayView payload)
{
    quint32 sequence = 0;
    for (int i = 0; i < 4 && i < payload.size(); ++i)
        sequence |= quint32(quint8(payload[i])) << (8 * i);
    return sequence;
}

QByteArray icmpEchoRequest(const wire::IpAddress &from, const wire::IpAddress &to, quint16 ident,
                           quint16 sequence, QByteArrayView data, quint8 hopLimit)
{
    QByteArray icmp(8, '\0');
    icmp[0] = char(from.isIpv4() ? 8 : 128); // Echo Request (RFC 792; RFC 4443, 4.1)
    icmp[4] = char(ident >> 8);
    icmp[5] = char(ident & 0xff);
    icmp[6] = char(sequence >> 8);
    icmp[7] = char(sequence & 0xff);
    icmp.append(data.data(), data.size());
    const quint16 checksum = from.isIpv4() ? wire::internetChecksum(icmp)
                                           : wire::pseudoHeaderChecksum(from, to, 58, icmp);
    icmp[2] = char(checksum >> 8);
    icmp[3] = char(checksum & 0xff);
    QByteArray packet;
    IpResponder::buildIpPacket(from, to, from.isIpv4() ? 1 : 58, hopLimit, icmp, packet);
    return packet;
}

QByteArray udpPacket(const wire::IpAddress &from, const wire::IpAddress &to, quint16 sourcePort,
                     quint16 destinationPort, QByteArrayView data)
{
    QByteArray udp(8, '\0');
    const quint16 length = quint16(8 + data.size());
    udp[0] = char(sourcePort >> 8);
    udp[1] = char(sourcePort & 0xff);
    udp[2] = char(destinationPort >> 8);
    udp[3] = char(destinationPort & 0xff);
    udp[4] = char(length >> 8);
    udp[5] = char(length & 0xff);
    udp.append(data.data(), data.size());
    const quint16 checksum = wire::udpChecksum(from, to, udp);
    udp[6] = char(checksum >> 8);
    udp[7] = char(checksum & 0xff);
    QByteArray packet;
    IpResponder::buildIpPacket(from, to, 17, 64, udp, packet);
    return packet;
}

} // namespace qmasque::test
