// IpAddress / IpPrefix: strict text parsing, RFC 5952 formatting, ordering and prefix arithmetic.

#include "support/TestSupport.h"
#include "wire/IpAddress.h"

#include <QtCore/QSet>
#include <QtTest/QTest>

using namespace qmasque::wire;
using qmasque::test::fromHex;

class tst_WireIpAddress : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseAndFormat_data();
    void parseAndFormat();
    void rejected_data();
    void rejected();
    void bytesAndIpv4Value();
    void ordering();
    void hashing();
    void hostBitsAndMasks_data();
    void hostBitsAndMasks();
    void prefixes_data();
    void prefixes();
};

void tst_WireIpAddress::parseAndFormat_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("version");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("canonical");
    QTest::newRow("v4") << "192.0.2.1" << 4 << fromHex("c0 00 02 01") << "192.0.2.1";
    QTest::newRow("v4 zeros") << "0.0.0.0" << 4 << fromHex("00 00 00 00") << "0.0.0.0";
    QTest::newRow("v4 max") << "255.255.255.255" << 4 << fromHex("ff ff ff ff")
                            << "255.255.255.255";
    QTest::newRow("v6 rfc9298 example")
        << "2001:db8::42" << 6 << fromHex("20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 42")
        << "2001:db8::42";
    // RFC 5952, 4: lower case, no leading zeros, longest run compressed, first on a tie, no
    // compression of a single group.
    QTest::newRow("upper case, leading zeros")
        << "2001:0DB8:0000:0000:0000:0000:0000:0001" << 6
        << fromHex("20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01") << "2001:db8::1";
    QTest::newRow("longest run") << "2001:db8:0:0:1:0:0:0" << 6
                                 << fromHex("20 01 0d b8 00 00 00 00 00 01 00 00 00 00 00 00")
                                 << "2001:db8:0:0:1::";
    QTest::newRow("tie takes first")
        << "2001:db8:0:0:1:0:0:1" << 6 << fromHex("20 01 0d b8 00 00 00 00 00 01 00 00 00 00 00 01")
        << "2001:db8::1:0:0:1";
    QTest::newRow("single zero group")
        << "2001:db8:0:1:1:1:1:1" << 6 << fromHex("20 01 0d b8 00 00 00 01 00 01 00 01 00 01 00 01")
        << "2001:db8:0:1:1:1:1:1";
    QTest::newRow("any") << "::" << 6 << QByteArray(16, '\0') << "::";
    QTest::newRow("loopback") << "::1" << 6 << fromHex("00000000000000000000000000000001") << "::1";
    QTest::newRow("trailing gap") << "fe80::" << 6 << fromHex("fe800000000000000000000000000000")
                                  << "fe80::";
    QTest::newRow("mapped v4") << "::FFFF:192.0.2.1" << 6
                               << fromHex("00000000000000000000ffff c0000201")
                               << "::ffff:192.0.2.1";
    QTest::newRow("embedded v4") << "64:ff9b::192.0.2.33" << 6
                                 << fromHex("0064ff9b0000000000000000 c0000221")
                                 << "64:ff9b::c000:221";
    QTest::newRow("full 8 groups")
        << "1:2:3:4:5:6:7:8" << 6 << fromHex("0001000200030004000500060007 0008")
        << "1:2:3:4:5:6:7:8";
    QTest::newRow("gap at 7") << "1:2:3:4:5:6:7::" << 6
                              << fromHex("0001000200030004000500060007 0000") << "1:2:3:4:5:6:7:0";
}

void tst_WireIpAddress::parseAndFormat()
{
    QFETCH(QString, text);
    QFETCH(int, version);
    QFETCH(QByteArray, bytes);
    QFETCH(QString, canonical);
    const auto a = IpAddress::fromString(text);
    QVERIFY(a.has_value());
    QCOMPARE(a->version(), version);
    QCOMPARE(a->bytes().toByteArray(), bytes);
    QCOMPARE(a->toString(), canonical);
    // The canonical text parses back to the same address.
    QCOMPARE(IpAddress::fromString(canonical), a);
    QCOMPARE(IpAddress::fromBytes(bytes), *a);
}

void tst_WireIpAddress::rejected_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("empty") << "";
    QTest::newRow("v4 three parts") << "192.0.2";
    QTest::newRow("v4 five parts") << "1.2.3.4.5";
    QTest::newRow("v4 leading zero") << "192.0.2.01";
    QTest::newRow("v4 octal style") << "010.0.0.1";
    QTest::newRow("v4 256") << "1.2.3.256";
    QTest::newRow("v4 hex") << "0x7f.0.0.1";
    QTest::newRow("v4 short form") << "127.1";
    QTest::newRow("v4 trailing dot") << "1.2.3.4.";
    QTest::newRow("v4 sign") << "+1.2.3.4";
    QTest::newRow("v4 space") << "1.2.3.4 ";
    QTest::newRow("v6 zone") << "fe80::1%eth0";
    QTest::newRow("v6 brackets") << "[2001:db8::1]";
    QTest::newRow("v6 two gaps") << "1::2::3";
    QTest::newRow("v6 nine groups") << "1:2:3:4:5:6:7:8:9";
    QTest::newRow("v6 seven groups") << "1:2:3:4:5:6:7";
    QTest::newRow("v6 gap with eight groups") << "1:2:3:4::5:6:7:8";
    QTest::newRow("v6 5-digit group") << "12345::1";
    QTest::newRow("v6 single leading colon") << ":1::2";
    QTest::newRow("v6 single trailing colon") << "1::2:";
    QTest::newRow("v6 triple colon") << ":::";
    QTest::newRow("v6 bad hex") << "2001:db8::g";
    QTest::newRow("v6 v4 not last") << "::1.2.3.4:1";
    QTest::newRow("v6 v4 too late") << "1:2:3:4:5:6:7:1.2.3.4";
    QTest::newRow("v6 bad v4") << "::ffff:1.2.3";
}

void tst_WireIpAddress::rejected()
{
    QFETCH(QString, text);
    QVERIFY(!IpAddress::fromString(text).has_value());
}

void tst_WireIpAddress::bytesAndIpv4Value()
{
    const IpAddress a = IpAddress::fromIpv4(0xc0000201);
    QCOMPARE(a.toString(), QStringLiteral("192.0.2.1"));
    QCOMPARE(a.toIpv4(), quint32(0xc0000201));
    QCOMPARE(a.bitLength(), 32);
    QCOMPARE(a.byteAt(0), quint8(0xc0));
    QVERIFY(IpAddress().isNull());
    QVERIFY(IpAddress().toString().isEmpty());
    QVERIFY(IpAddress::fromBytes(fromHex("01 02 03")).isNull());
    QVERIFY(IpAddress::zero(4).isZero());
    QVERIFY(IpAddress::zero(6).isZero());
    QVERIFY(IpAddress::zero(5).isNull());
    QVERIFY(!a.isZero());
}

void tst_WireIpAddress::ordering()
{
    const auto v4a = *IpAddress::fromString(u"10.0.0.1");
    const auto v4b = *IpAddress::fromString(u"10.0.1.0");
    const auto v6a = *IpAddress::fromString(u"::1");
    const auto v6b = *IpAddress::fromString(u"2001:db8::");
    QVERIFY(v4a < v4b);
    QVERIFY(v4b < v6a); // every IPv4 address sorts before every IPv6 one
    QVERIFY(v6a < v6b);
    QVERIFY(v4a == *IpAddress::fromString(u"10.0.0.1"));
    QVERIFY(v4a != v4b);
    QVERIFY(IpAddress::zero(4) != IpAddress::zero(6));
}

void tst_WireIpAddress::hashing()
{
    QSet<IpAddress> set;
    set.insert(*IpAddress::fromString(u"192.0.2.1"));
    set.insert(*IpAddress::fromString(u"::ffff:192.0.2.1"));
    set.insert(*IpAddress::fromString(u"192.0.2.1"));
    QCOMPARE(set.size(), 2);
}

void tst_WireIpAddress::hostBitsAndMasks_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<int>("length");
    QTest::addColumn<bool>("hostBitsZero");
    QTest::addColumn<QString>("first");
    QTest::addColumn<QString>("last");
    QTest::newRow("/24") << "192.0.2.0" << 24 << true << "192.0.2.0"
                         << "192.0.2.255";
    QTest::newRow("/23 odd") << "192.0.3.0" << 23 << false << "192.0.2.0"
                             << "192.0.3.255";
    QTest::newRow("/31") << "192.0.2.7" << 31 << false << "192.0.2.6"
                         << "192.0.2.7";
    QTest::newRow("/32") << "192.0.2.7" << 32 << true << "192.0.2.7"
                         << "192.0.2.7";
    QTest::newRow("/0") << "0.0.0.0" << 0 << true << "0.0.0.0"
                        << "255.255.255.255";
    QTest::newRow("/0 set") << "128.0.0.0" << 0 << false << "0.0.0.0"
                            << "255.255.255.255";
    QTest::newRow("v6 /32") << "2001:db8::" << 32 << true << "2001:db8::"
                            << "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff";
    QTest::newRow("v6 /65") << "2001:db8::8000:0:0:0" << 65 << true << "2001:db8:0:0:8000::"
                            << "2001:db8::ffff:ffff:ffff:ffff";
    QTest::newRow("v6 /64 set") << "2001:db8::1" << 64 << false << "2001:db8::"
                                << "2001:db8::ffff:ffff:ffff:ffff";
    QTest::newRow("v6 /128") << "2001:db8::1" << 128 << true << "2001:db8::1"
                             << "2001:db8::1";
}

void tst_WireIpAddress::hostBitsAndMasks()
{
    QFETCH(QString, address);
    QFETCH(int, length);
    QFETCH(bool, hostBitsZero);
    QFETCH(QString, first);
    QFETCH(QString, last);
    const auto a = *IpAddress::fromString(address);
    QCOMPARE(a.hostBitsZero(length), hostBitsZero);
    QCOMPARE(a.masked(length).toString(), first);
    QCOMPARE(a.lastInPrefix(length).toString(), last);
    QVERIFY(!a.hostBitsZero(-1));
    QVERIFY(!a.hostBitsZero(a.bitLength() + 1));
}

void tst_WireIpAddress::prefixes_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("parses");
    QTest::addColumn<bool>("canonical");
    QTest::addColumn<QString>("formatted");
    QTest::newRow("v4 /24") << "192.0.2.0/24" << true << true << "192.0.2.0/24";
    QTest::newRow("bare v4") << "192.0.2.9" << true << true << "192.0.2.9/32";
    QTest::newRow("host bits") << "192.0.2.1/24" << true << false << "192.0.2.1/24";
    QTest::newRow("v6") << "2001:DB8::/32" << true << true << "2001:db8::/32";
    QTest::newRow("v4 /33") << "192.0.2.0/33" << false << false << "";
    QTest::newRow("v6 /129") << "::/129" << false << false << "";
    QTest::newRow("leading zero") << "192.0.2.0/024" << false << false << "";
    QTest::newRow("empty length") << "192.0.2.0/" << false << false << "";
    QTest::newRow("signed length") << "192.0.2.0/+8" << false << false << "";
    QTest::newRow("bad address") << "192.0.2/24" << false << false << "";
}

void tst_WireIpAddress::prefixes()
{
    QFETCH(QString, text);
    QFETCH(bool, parses);
    QFETCH(bool, canonical);
    QFETCH(QString, formatted);
    const auto p = IpPrefix::fromString(text);
    QCOMPARE(p.has_value(), parses);
    if (!parses)
        return;
    QCOMPARE(p->isCanonical(), canonical);
    QCOMPARE(p->toString(), formatted);
    QVERIFY(p->contains(p->first()));
    QVERIFY(p->contains(p->last()));
    QVERIFY(!p->contains(IpAddress::zero(p->address.isIpv4() ? 6 : 4)));
}

QTEST_APPLESS_MAIN(tst_WireIpAddress)
#include "tst_wire_ipaddress.moc"
