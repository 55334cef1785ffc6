#pragma once

#include "wire/IpAddress.h"

#include <QtCore/QByteArray>

namespace qmasque::test {

// Payloads and IP packets the tunnel and proxy tests send.

// numberedPayload: `size` bytes (at least 4) whose first four carry `sequence` (little-endian)
// and the rest its low byte, so a reordered, duplicated or corrupted datagram is recognised.
QByteArray numberedPayload(quint32 sequence, qsizetype size);
// sequenceOf: the sequence number numberedPayload() wrote.
quint32 sequenceOf(QByteArrayView payload);

// IP packets for CONNECT-IP (checksummed; the proxy's responder answers echo requests).
// icmpEchoRequest: ICMP (IPv4) / ICMPv6 Echo Request, identifier `ident`, `sequence`, `data`.
QByteArray icmpEchoRequest(const wire::IpAddress &from, const wire::IpAddress &to, quint16 ident,
                           quint16 sequence, QByteArrayView data, quint8 hopLimit = 64);
// udpPacket: a UDP datagram in an IP packet.
QByteArray udpPacket(const wire::IpAddress &from, const wire::IpAddress &to, quint16 sourcePort,
                     quint16 destinationPort, QByteArrayView data);

} // namespace qmasque::test
