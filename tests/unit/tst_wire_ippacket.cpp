// IPv4 / IPv6 header inspection for CONNECT-IP and the Internet checksum (RFC 1071) with the
// UDP / ICMPv6 pseudo-headers. Checksum vectors were computed independently of this code.

#include "support/TestSupport.h"
#include "wire/InternetChecksum.h"
#include "wire/IpPacket.h"

#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::wire;
using qmasque::test::fromHex;

namespace {

IpAddress ip(const char *text)
{
    return *IpAddress::fromString(QString::fromLatin1(text));
}

// 192.0.2.1:12345 -> 198.51.100.2:53, UDP "hello", TTL 64, DF, both checksums right.
QByteArray ipv4UdpPacket()
{
    return fromHex("45 00 00 21 | 12 34 40 00 | 40 11 3c 61 | c0 00 02 01 | c6 33 64 02 |"
                   "30 39 00 35 00 0d 9f 5c | 68 65 6c 6c 6f");
}

// An IPv6 header for 2001:db8::1 -> 2001:db8::2 with this next header and payload.
QByteArray ipv6Packet(quint8 nextHeader, const QByteArray &payload, quint8 hopLimit = 64)
{
    QByteArray p = fromHex("60 00 00 00");
    p.append(char(payload.size() >> 8));
    p.append(char(payload.size() & 0xff));
    p.append(char(nextHeader));
    p.append(char(hopLimit));
    p += ip("2001:db8::1").bytes().toByteArray();
    p += ip("2001:db8::2").bytes().toByteArray();
    return p + payload;
}

// UDP 12345 -> 53 "hello" with the IPv6 checksum.
QByteArray udp6Datagram()
{
    return fromHex("30 39 00 35 00 0d 30 1f | 68 65 6c 6c 6f");
}

// An 8-byte extension header (options / routing style): next header, length 0, 6 bytes padding.
QByteArray extension8(quint8 next)
{
    return QByteArray(1, char(next)) + fromHex("00 01 04 00 00 00 00");
}

} // namespace

Q_DECLARE_METATYPE(qmasque::ErrorCode)

class tst_WireIpPacket : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rfc1071Example();
    void checksumAcrossOddPieces();
    void ipv4HeaderChecksumVector();
    void transportChecksums();
    void inspectIpv4();
    void inspectIpv4Fragment();
    void inspectIpv6();
    void ipv6ExtensionChain();
    void ipv6NonFirstFragment();
    void ipv6AuthenticationAndEsp();
    void malformed_data();
    void malformed();
    void setChecksum();
    void decrementHopLimit_data();
    void decrementHopLimit();
};

void tst_WireIpPacket::rfc1071Example()
{
    // RFC 1071, 3: the words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
    QCOMPARE(internetChecksum(fromHex("00 01 f2 03 f4 f5 f6 f7")), quint16(0x220d));
    QCOMPARE(internetChecksum(fromHex("00 01 f2 03 f4 f5 f6 f7 22 0d")), quint16(0));
}

void tst_WireIpPacket::checksumAcrossOddPieces()
{
    const QByteArray data = fromHex("01 02 03 04 05 06 07 08 09 0a 0b");
    const quint16 whole = internetChecksum(data);
    for (qsizetype a = 0; a <= data.size(); ++a) {
        for (qsizetype b = a; b <= data.size(); ++b) {
            InternetChecksum c;
            c.add(data.first(a));
            c.add(data.sliced(a, b - a));
            c.add(data.sliced(b));
            QCOMPARE(c.result(), whole);
        }
    }
    InternetChecksum words;
    words.add(fromHex("01"));
    words.addWord(0x0203);
    words.add(fromHex("04"));
    QCOMPARE(words.result(), internetChecksum(fromHex("01 02 03 04")));
}

void tst_WireIpPacket::ipv4HeaderChecksumVector()
{
    const QByteArray header = ipv4UdpPacket().first(20);
    QCOMPARE(ipv4HeaderChecksum(header), quint16(0x3c61));
    QVERIFY(verifyIpv4HeaderChecksum(header));
    QByteArray broken = header;
    broken[11] = char(0x62);
    QVERIFY(!verifyIpv4HeaderChecksum(broken));
    QCOMPARE(ipv4HeaderChecksum(broken), quint16(0x3c61)); // the field itself is ignored
}

void tst_WireIpPacket::transportChecksums()
{
    // UDP over IPv4: computing over a zeroed field gives the value; verifying gives 0.
    const QByteArray udp4 = ipv4UdpPacket().sliced(20);
    QByteArray zeroed = udp4;
    zeroed[6] = zeroed[7] = 0;
    QCOMPARE(pseudoHeaderChecksum(ip("192.0.2.1"), ip("198.51.100.2"), 17, zeroed),
             quint16(0x9f5c));
    QCOMPARE(udpChecksum(ip("192.0.2.1"), ip("198.51.100.2"), zeroed), quint16(0x9f5c));
    QCOMPARE(pseudoHeaderChecksum(ip("192.0.2.1"), ip("198.51.100.2"), 17, udp4), quint16(0));
    // UDP over IPv6 (RFC 8200, 8.1 pseudo-header).
    QByteArray udp6 = udp6Datagram();
    QCOMPARE(pseudoHeaderChecksum(ip("2001:db8::1"), ip("2001:db8::2"), 17, udp6), quint16(0));
    udp6[6] = udp6[7] = 0;
    QCOMPARE(udpChecksum(ip("2001:db8::1"), ip("2001:db8::2"), udp6), quint16(0x301f));
    // ICMPv6 echo request (pseudo-header, next header 58) and ICMPv4 echo (no pseudo-header).
    const QByteArray icmp6 = fromHex("80 00 00 00 12 34 00 01 | 70 69 6e 67");
    QCOMPARE(pseudoHeaderChecksum(ip("2001:db8::1"), ip("2001:db8::2"), 58, icmp6),
             quint16(0x333e));
    QCOMPARE(internetChecksum(fromHex("08 00 00 00 12 34 00 01 | 70 69 6e 67")), quint16(0x06fa));
}

void tst_WireIpPacket::inspectIpv4()
{
    const QByteArray packet = ipv4UdpPacket();
    const auto info = inspectIpPacket(packet);
    QVERIFY2(info.ok(), qPrintable(info.ok() ? QString() : info.error().detail));
    QCOMPARE(info->version, 4);
    QCOMPARE(info->headerLength, 20);
    QCOMPARE(info->totalLength, 33);
    QCOMPARE(info->payloadLength, 13);
    QCOMPARE(info->source, ip("192.0.2.1"));
    QCOMPARE(info->destination, ip("198.51.100.2"));
    QCOMPARE(info->protocol, quint8(17));
    QCOMPARE(info->hopLimit, quint8(64));
    QVERIFY(!info->isFragment);
    QCOMPARE(ipVersion(packet), 4);

    // With options (IHL 6): a 24-byte header.
    QByteArray withOptions = fromHex("46 00 00 1d | 00 00 00 00 | 01 06 00 00 | 0a 00 00 01 |"
                                     "0a 00 00 02 | 01 01 01 00 | 61 62 63 64 65");
    QVERIFY(setIpv4HeaderChecksum(withOptions));
    const auto opt = inspectIpPacket(withOptions);
    QVERIFY(opt.ok());
    QCOMPARE(opt->headerLength, 24);
    QCOMPARE(opt->payloadLength, 5);
    QCOMPARE(opt->protocol, quint8(6));
    QCOMPARE(opt->hopLimit, quint8(1));
}

void tst_WireIpPacket::inspectIpv4Fragment()
{
    for (const auto &[flags, offset, first] : {std::tuple<quint16, int, bool>{0x2000, 0, true},
                                               {0x2010, 128, false},
                                               {0x0010, 128, false}}) {
        QByteArray packet = ipv4UdpPacket();
        packet[6] = char(flags >> 8);
        packet[7] = char(flags & 0xff);
        QVERIFY(setIpv4HeaderChecksum(packet));
        const auto info = inspectIpPacket(packet);
        QVERIFY(info.ok());
        QVERIFY(info->isFragment);
        QCOMPARE(info->fragmentOffset, offset);
        QCOMPARE(info->fragmentOffset == 0, first);
    }
}

void tst_WireIpPacket::inspectIpv6()
{
    const QByteArray packet = ipv6Packet(17, udp6Datagram(), 255);
    const auto info = inspectIpPacket(packet);
    QVERIFY(info.ok());
    QCOMPARE(info->version, 6);
    QCOMPARE(info->headerLength, 40);
    QCOMPARE(info->totalLength, 53);
    QCOMPARE(info->payloadLength, 13);
    QCOMPARE(info->source, ip("2001:db8::1"));
    QCOMPARE(info->destination, ip("2001:db8::2"));
    QCOMPARE(info->protocol, quint8(17));
    QCOMPARE(info->hopLimit, quint8(255));
    QVERIFY(!info->isFragment);
    // No Next Header (59) and an empty payload are fine.
    const auto none = inspectIpPacket(ipv6Packet(59, {}));
    QVERIFY(none.ok());
    QCOMPARE(none->protocol, quint8(59));
    QCOMPARE(none->payloadLength, 0);
}

void tst_WireIpPacket::ipv6ExtensionChain()
{
    // Hop-by-Hop -> Destination Options -> Routing (16 bytes) -> Fragment (first) -> UDP.
    QByteArray routing =
        QByteArray(1, char(44)) + fromHex("01 00 00 00 00 00 00") + QByteArray(8, '\0');
    QByteArray fragment = QByteArray(1, char(17)) + fromHex("00 00 01 de ad be ef");
    const QByteArray chain = extension8(60) + extension8(43) + routing + fragment;
    const auto info = inspectIpPacket(ipv6Packet(0, chain + udp6Datagram()));
    QVERIFY2(info.ok(), qPrintable(info.ok() ? QString() : info.error().detail));
    QCOMPARE(info->protocol, quint8(17));
    QCOMPARE(info->headerLength, 40 + 40);
    QCOMPARE(info->payloadLength, 13);
    QVERIFY(info->isFragment);
    QCOMPARE(info->fragmentOffset, 0);
}

void tst_WireIpPacket::ipv6NonFirstFragment()
{
    // Offset 185 x 8 bytes: the upper-layer header is in an earlier fragment.
    const QByteArray fragment = QByteArray(1, char(6)) + fromHex("00 05 c8 00 00 00 01");
    const auto info = inspectIpPacket(ipv6Packet(44, fragment + QByteArray(16, 'x')));
    QVERIFY(info.ok());
    QVERIFY(info->isFragment);
    QCOMPARE(info->fragmentOffset, 1480);
    QCOMPARE(info->protocol, quint8(6));
    QCOMPARE(info->headerLength, 48);
}

void tst_WireIpPacket::ipv6AuthenticationAndEsp()
{
    // AH (RFC 4302): length in 4-byte units minus 2; Payload Len 4 -> 24 bytes.
    const QByteArray ah = QByteArray(1, char(58)) + fromHex("04 00 00") + QByteArray(20, '\1');
    const auto info = inspectIpPacket(ipv6Packet(51, ah + fromHex("80 00 00 00")));
    QVERIFY(info.ok());
    QCOMPARE(info->protocol, quint8(58));
    QCOMPARE(info->headerLength, 64);
    // ESP is opaque: the walk stops there.
    const auto esp = inspectIpPacket(ipv6Packet(0, extension8(50) + QByteArray(16, 'e')));
    QVERIFY(esp.ok());
    QCOMPARE(esp->protocol, quint8(50));
    QCOMPARE(esp->headerLength, 48);
}

void tst_WireIpPacket::malformed_data()
{
    QTest::addColumn<QByteArray>("packet");
    QTest::addColumn<ErrorCode>("code");
    const auto bad = ErrorCode::MalformedIpPacket;
    const QByteArray v4 = ipv4UdpPacket();
    QTest::newRow("empty") << QByteArray() << bad;
    QTest::newRow("version 5") << QByteArray(QByteArray(1, char(0x55)) + v4.sliced(1)) << bad;
    QTest::newRow("version 0") << QByteArray(40, '\0') << bad;
    QTest::newRow("v4 short") << v4.first(19) << bad;
    QTest::newRow("v4 ihl 4") << QByteArray(QByteArray(1, char(0x44)) + v4.sliced(1)) << bad;
    QTest::newRow("v4 ihl past end") << QByteArray(QByteArray(1, char(0x4f)) + v4.sliced(1)) << bad;
    QTest::newRow("v4 truncated") << v4.first(v4.size() - 1) << bad;
    QTest::newRow("v4 trailing byte") << QByteArray(v4 + '\0') << bad;
    QByteArray badSum = v4;
    badSum[10] = char(0);
    QTest::newRow("v4 checksum") << badSum << ErrorCode::BadIpChecksum;
    QByteArray badAddress = v4;
    badAddress[15] = char(2); // 192.0.2.2: the checksum no longer fits
    QTest::newRow("v4 altered address") << badAddress << ErrorCode::BadIpChecksum;
    const QByteArray v6 = ipv6Packet(17, udp6Datagram());
    QTest::newRow("v6 short") << v6.first(39) << bad;
    QTest::newRow("v6 truncated") << v6.first(v6.size() - 1) << bad;
    QTest::newRow("v6 trailing byte") << QByteArray(v6 + '\0') << bad;
    QByteArray jumbo = ipv6Packet(0, {}) + fromHex("3b 00 c2 04 00 01 00 00");
    QTest::newRow("v6 jumbogram") << jumbo << bad;
    QTest::newRow("v6 extension truncated") << ipv6Packet(60, fromHex("11 00 00 00")) << bad;
    QTest::newRow("v6 extension past end")
        << ipv6Packet(60, fromHex("11 01 00 00 00 00 00 00")) << bad;
    QTest::newRow("v6 hop-by-hop not first")
        << ipv6Packet(60, extension8(0) + extension8(17)) << bad;
    QByteArray longChain;
    for (int i = 0; i < kMaxIpv6ExtensionHeaders; ++i)
        longChain += extension8(60);
    longChain += extension8(17);
    QTest::newRow("v6 chain too long") << ipv6Packet(60, longChain) << bad;
}

void tst_WireIpPacket::malformed()
{
    QFETCH(QByteArray, packet);
    QFETCH(ErrorCode, code);
    const auto info = inspectIpPacket(packet);
    QVERIFY(!info.ok());
    QCOMPARE(info.error().code, code);
    QVERIFY(!info.error().detail.isEmpty());
}

void tst_WireIpPacket::setChecksum()
{
    QByteArray packet = ipv4UdpPacket();
    packet[10] = packet[11] = 0;
    QVERIFY(setIpv4HeaderChecksum(packet));
    QCOMPARE(packet, ipv4UdpPacket());
    QByteArray v6 = ipv6Packet(17, {});
    QVERIFY(!setIpv4HeaderChecksum(v6));
    QByteArray shortPacket = fromHex("45 00");
    QVERIFY(!setIpv4HeaderChecksum(shortPacket));
}

void tst_WireIpPacket::decrementHopLimit_data()
{
    QTest::addColumn<int>("version");
    QTest::addColumn<int>("hopLimit");
    for (const int hop : {1, 2, 64, 128, 255}) {
        QTest::addRow("v4 ttl %d", hop) << 4 << hop;
        QTest::addRow("v6 hop %d", hop) << 6 << hop;
    }
}

void tst_WireIpPacket::decrementHopLimit()
{
    QFETCH(int, version);
    QFETCH(int, hopLimit);
    QByteArray packet;
    if (version == 4) {
        packet = ipv4UdpPacket();
        packet[8] = char(hopLimit);
        QVERIFY(setIpv4HeaderChecksum(packet));
    } else {
        packet = ipv6Packet(17, udp6Datagram(), quint8(hopLimit));
    }
    const auto result = qmasque::wire::decrementHopLimit(packet);
    QVERIFY(result.ok());
    QCOMPARE(int(*result), hopLimit - 1);
    // The incremental update (RFC 1624) leaves a valid header.
    const auto info = inspectIpPacket(packet);
    QVERIFY(info.ok());
    QCOMPARE(int(info->hopLimit), hopLimit - 1);
    if (hopLimit == 1) {
        const auto again = qmasque::wire::decrementHopLimit(packet);
        QVERIFY(!again.ok());
        QCOMPARE(again.error().code, ErrorCode::MalformedIpPacket);
    }
}

QTEST_APPLESS_MAIN(tst_WireIpPacket)
#include "tst_wire_ippacket.moc"
