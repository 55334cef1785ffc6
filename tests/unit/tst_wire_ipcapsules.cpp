// CONNECT-IP capsules (RFC 9484, 4.7): ADDRESS_ASSIGN, ADDRESS_REQUEST, ROUTE_ADVERTISEMENT with
// the RFC's validation, in both directions.

#include "support/TestSupport.h"
#include "wire/Capsule.h"
#include "wire/CapsuleDecoder.h"
#include "wire/IpCapsules.h"

#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::wire;
using qmasque::test::fromHex;

// Sixteen zero bytes, an all-zero IPv6 address field.
#define ZERO16 "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"

namespace {

IpAddress ip(const char *text)
{
    return *IpAddress::fromString(QString::fromLatin1(text));
}

IpPrefix prefix(const char *text)
{
    return *IpPrefix::fromString(QString::fromLatin1(text));
}

IpAddressRange range(const char *start, const char *end, quint8 protocol)
{
    return IpAddressRange{ip(start), ip(end), protocol};
}

} // namespace

Q_DECLARE_METATYPE(qmasque::ErrorCode)

class tst_WireIpCapsules : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void addressAssignVector();
    void addressAssignEmptyAndUnprompted();
    void addressAssignRefusal();
    void addressRequestVector();
    void routeAdvertisementVector();
    void routeAdvertisementEmpty();
    void capsuleEncodersFrameTheValue();
    void roundTripThroughDecoder();
    void malformedAddressAssign_data();
    void malformedAddressAssign();
    void malformedAddressRequest_data();
    void malformedAddressRequest();
    void badRoutes_data();
    void badRoutes();
    void encodersRefuseInvalid();
    void manyRoutesValidateFast();
};

void tst_WireIpCapsules::addressAssignVector()
{
    // Two Assigned Addresses: id 0 (unprompted) 192.0.2.0/24, id 5 2001:db8::/64.
    const QByteArray value =
        fromHex("00 | 04 | c0 00 02 00 | 18"
                "05 | 06 | 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 00 | 40");
    const auto parsed = parseAddressAssign(value);
    QVERIFY(parsed.ok());
    const QList<AssignedAddress> expected = {{0, prefix("192.0.2.0/24")},
                                             {5, prefix("2001:db8::/64")}};
    QCOMPARE(*parsed, expected);
    const auto encoded = encodeAddressAssign(expected);
    QVERIFY(encoded.ok());
    QCOMPARE(*encoded, value);
}

void tst_WireIpCapsules::addressAssignEmptyAndUnprompted()
{
    // RFC 9484, 4.7.1: an empty ADDRESS_ASSIGN withdraws every address.
    const auto empty = parseAddressAssign({});
    QVERIFY(empty.ok());
    QVERIFY(empty->isEmpty());
    QCOMPARE(encodeAddressAssign({}).value(), QByteArray());
    // Several unprompted entries may share request id 0.
    const QList<AssignedAddress> two = {{0, prefix("10.0.0.1/32")}, {0, prefix("fd00::1/128")}};
    const auto encoded = encodeAddressAssign(two);
    QVERIFY(encoded.ok());
    QCOMPARE(parseAddressAssign(*encoded).value(), two);
}

void tst_WireIpCapsules::addressAssignRefusal()
{
    // RFC 9484, 4.7.2: a refused request is answered with 0.0.0.0/32 or ::/128.
    const QByteArray value = fromHex("07 | 04 | 00 00 00 00 | 20 | 08 | 06 | " ZERO16 " | 80");
    const auto parsed = parseAddressAssign(value);
    QVERIFY(parsed.ok());
    QCOMPARE(parsed->size(), 2);
    QCOMPARE(parsed->at(0).prefix, (IpPrefix{IpAddress::zero(4), 32}));
    QCOMPARE(parsed->at(1).prefix, (IpPrefix{IpAddress::zero(6), 128}));
}

void tst_WireIpCapsules::addressRequestVector()
{
    // id 1: any IPv4 address, preferring a /32; id 0x4000 (2-byte... 4-byte varint): fd00::/56.
    const QByteArray value = fromHex("01 | 04 | 00 00 00 00 | 20 |"
                                     "80 00 40 00 | 06 | fd 00 00 00 00 00 00 00 00 00 00 00 00 00 "
                                     "00 00 | 38");
    const auto parsed = parseAddressRequest(value);
    QVERIFY(parsed.ok());
    const QList<RequestedAddress> expected = {{1, IpPrefix{IpAddress::zero(4), 32}},
                                              {0x4000, prefix("fd00::/56")}};
    QCOMPARE(*parsed, expected);
    // Re-encoding uses minimal varints: 0x4000 takes 4 bytes anyway, so the bytes agree.
    QCOMPARE(encodeAddressRequest(expected).value(), value);
}

void tst_WireIpCapsules::routeAdvertisementVector()
{
    // IPv4 all protocols 192.0.2.0-192.0.2.255, IPv4 UDP 198.51.100.0-198.51.100.255,
    // IPv6 TCP 2001:db8::-2001:db8::ffff.
    const QByteArray value = fromHex("04 | c0 00 02 00 | c0 00 02 ff | 00 |"
                                     "04 | c6 33 64 00 | c6 33 64 ff | 11 |"
                                     "06 | 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 00 |"
                                     "     20 01 0d b8 00 00 00 00 00 00 00 00 00 00 ff ff | 06");
    const auto parsed = parseRouteAdvertisement(value);
    QVERIFY(parsed.ok());
    const QList<IpAddressRange> expected = {range("192.0.2.0", "192.0.2.255", 0),
                                            range("198.51.100.0", "198.51.100.255", 17),
                                            range("2001:db8::", "2001:db8::ffff", 6)};
    QCOMPARE(*parsed, expected);
    QCOMPARE(encodeRouteAdvertisement(expected).value(), value);
}

void tst_WireIpCapsules::routeAdvertisementEmpty()
{
    const auto parsed = parseRouteAdvertisement({});
    QVERIFY(parsed.ok());
    QVERIFY(parsed->isEmpty());
}

void tst_WireIpCapsules::capsuleEncodersFrameTheValue()
{
    const QList<AssignedAddress> assign = {{0, prefix("192.0.2.1/32")}};
    const auto capsule = encodeAddressAssignCapsule(assign);
    QVERIFY(capsule.ok());
    QCOMPARE(*capsule, fromHex("01 | 07 | 00 | 04 | c0 00 02 01 | 20"));

    const QList<RequestedAddress> request = {{3, prefix("::/0")}};
    QCOMPARE(encodeAddressRequestCapsule(request).value(),
             fromHex("02 | 13 | 03 | 06 | " ZERO16 " | 00"));

    const QList<IpAddressRange> routes = {range("0.0.0.0", "255.255.255.255", 0)};
    QCOMPARE(encodeRouteAdvertisementCapsule(routes).value(),
             fromHex("03 | 0a | 04 | 00 00 00 00 | ff ff ff ff | 00"));
}

void tst_WireIpCapsules::roundTripThroughDecoder()
{
    // The three capsules in one stream, byte at a time, parsed by type.
    QByteArray stream;
    stream += encodeAddressRequestCapsule({{1, prefix("0.0.0.0/32")}}).value();
    stream += encodeAddressAssignCapsule({{1, prefix("100.64.0.7/32")}}).value();
    stream += encodeRouteAdvertisementCapsule({range("0.0.0.0", "255.255.255.255", 0),
                                               range("::",
                                                     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:"
                                                     "ffff",
                                                     0)})
                  .value();
    CapsuleDecoder decoder;
    QStringList seen;
    for (qsizetype i = 0; i < stream.size(); ++i) {
        const Status s = decoder.feed(stream.sliced(i, 1), [&](const CapsuleView &c) -> Status {
            switch (CapsuleType(c.type)) {
            case CapsuleType::AddressRequest: {
                auto r = parseAddressRequest(c.value);
                if (!r)
                    return r.error();
                seen.append(QStringLiteral("request ") + r->at(0).prefix.toString());
                return {};
            }
            case CapsuleType::AddressAssign: {
                auto r = parseAddressAssign(c.value);
                if (!r)
                    return r.error();
                seen.append(QStringLiteral("assign ") + r->at(0).prefix.toString());
                return {};
            }
            case CapsuleType::RouteAdvertisement: {
                auto r = parseRouteAdvertisement(c.value);
                if (!r)
                    return r.error();
                seen.append(QStringLiteral("routes %1").arg(r->size()));
                return {};
            }
            default:
                return Error(ErrorCode::Internal, QStringLiteral("unexpected capsule"));
            }
        });
        QVERIFY(s);
    }
    QCOMPARE(seen,
             (QStringList{QStringLiteral("request 0.0.0.0/32"),
                          QStringLiteral("assign 100.64.0.7/32"), QStringLiteral("routes 2")}));
}

void tst_WireIpCapsules::malformedAddressAssign_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<ErrorCode>("code");
    QTest::newRow("truncated id") << fromHex("40") << ErrorCode::MalformedIpCapsule;
    QTest::newRow("no version") << fromHex("00") << ErrorCode::MalformedIpCapsule;
    QTest::newRow("version 5") << fromHex("00 | 05 | c0 00 02 00 | 18")
                               << ErrorCode::MalformedIpCapsule;
    QTest::newRow("version 0") << fromHex("00 | 00 | c0 00 02 00 | 18")
                               << ErrorCode::MalformedIpCapsule;
    QTest::newRow("short v4 address")
        << fromHex("00 | 04 | c0 00 02") << ErrorCode::MalformedIpCapsule;
    QTest::newRow("v6 version, v4 length")
        << fromHex("00 | 06 | c0 00 02 00 | 18") << ErrorCode::MalformedIpCapsule;
    QTest::newRow("no prefix length")
        << fromHex("00 | 04 | c0 00 02 00") << ErrorCode::MalformedIpCapsule;
    QTest::newRow("trailing byte")
        << fromHex("00 | 04 | c0 00 02 00 | 18 | 00") << ErrorCode::MalformedIpCapsule;
    QTest::newRow("v4 /33") << fromHex("00 | 04 | c0 00 02 00 | 21") << ErrorCode::BadPrefixLength;
    QTest::newRow("v6 /129") << fromHex("00 | 06 | " ZERO16 " | 81") << ErrorCode::BadPrefixLength;
    QTest::newRow("v4 /255") << fromHex("00 | 04 | c0 00 02 00 | ff") << ErrorCode::BadPrefixLength;
    QTest::newRow("host bits /24") << fromHex("00 | 04 | c0 00 02 01 | 18") << ErrorCode::BadPrefix;
    QTest::newRow("host bits /0") << fromHex("00 | 04 | 80 00 00 00 | 00") << ErrorCode::BadPrefix;
    QTest::newRow("host bits v6 /64")
        << fromHex("00 | 06 | 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 | 40")
        << ErrorCode::BadPrefix;
    QTest::newRow("second entry bad") << fromHex("00 | 04 | c0 00 02 00 | 18 | 00 | 04 | c0 00 02 "
                                                 "01 | 18")
                                      << ErrorCode::BadPrefix;
}

void tst_WireIpCapsules::malformedAddressAssign()
{
    QFETCH(QByteArray, value);
    QFETCH(ErrorCode, code);
    const auto parsed = parseAddressAssign(value);
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().code, code);
    QVERIFY(!parsed.error().detail.isEmpty());
}

void tst_WireIpCapsules::malformedAddressRequest_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<ErrorCode>("code");
    QTest::newRow("empty") << QByteArray() << ErrorCode::MalformedIpCapsule;
    QTest::newRow("id zero") << fromHex("00 | 04 | 00 00 00 00 | 20") << ErrorCode::BadRequestId;
    QTest::newRow("repeated id") << fromHex(
                                        "07 | 04 | 00 00 00 00 | 20 | 07 | 04 | 00 00 00 00 | 20")
                                 << ErrorCode::BadRequestId;
    QTest::newRow("repeated id, other encoding")
        << fromHex("07 | 04 | 00 00 00 00 | 20 | 40 07 | 04 | 00 00 00 00 | 20")
        << ErrorCode::BadRequestId;
    QTest::newRow("version 4 with v6 bytes cut")
        << fromHex("01 | 06 | 00 00 00 00 | 20") << ErrorCode::MalformedIpCapsule;
    QTest::newRow("bad length") << fromHex("01 | 04 | 00 00 00 00 | 40")
                                << ErrorCode::BadPrefixLength;
    QTest::newRow("host bits") << fromHex("01 | 04 | 0a 00 00 01 | 08") << ErrorCode::BadPrefix;
}

void tst_WireIpCapsules::malformedAddressRequest()
{
    QFETCH(QByteArray, value);
    QFETCH(ErrorCode, code);
    const auto parsed = parseAddressRequest(value);
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().code, code);
}

void tst_WireIpCapsules::badRoutes_data()
{
    QTest::addColumn<QList<IpAddressRange>>("ranges");
    QTest::addColumn<ErrorCode>("code");
    QTest::newRow("start after end")
        << QList<IpAddressRange>{range("10.0.0.9", "10.0.0.1", 0)} << ErrorCode::BadRoute;
    QTest::newRow("version order")
        << QList<IpAddressRange>{range("::", "::1", 0), range("10.0.0.0", "10.0.0.1", 0)}
        << ErrorCode::BadRoute;
    QTest::newRow("protocol order") << QList<IpAddressRange>{range("10.0.0.0", "10.0.0.1", 17),
                                                             range("10.1.0.0", "10.1.0.1", 6)}
                                    << ErrorCode::BadRoute;
    QTest::newRow("start order") << QList<IpAddressRange>{range("10.1.0.0", "10.1.0.1", 6),
                                                          range("10.0.0.0", "10.0.0.1", 6)}
                                 << ErrorCode::BadRoute;
    QTest::newRow("overlap same protocol")
        << QList<IpAddressRange>{range("10.0.0.0", "10.0.0.9", 6),
                                 range("10.0.0.9", "10.0.0.20", 6)}
        << ErrorCode::BadRoute;
    QTest::newRow("duplicate") << QList<IpAddressRange>{range("10.0.0.0", "10.0.0.9", 0),
                                                        range("10.0.0.0", "10.0.0.9", 0)}
                               << ErrorCode::BadRoute;
    QTest::newRow("protocol 0 overlaps tcp")
        << QList<IpAddressRange>{range("10.0.0.0", "10.0.0.255", 0),
                                 range("10.0.0.128", "10.0.1.0", 6)}
        << ErrorCode::BadRoute;
    QTest::newRow("protocol 0 overlaps later udp")
        << QList<IpAddressRange>{range("10.0.0.0", "10.0.0.10", 0),
                                 range("10.0.1.0", "10.0.1.10", 0),
                                 range("10.0.0.20", "10.0.0.30", 6),
                                 range("10.0.1.5", "10.0.1.5", 17)}
        << ErrorCode::BadRoute;
    QTest::newRow("v6 protocol 0 overlap")
        << QList<IpAddressRange>{range("10.0.0.0", "10.0.0.1", 0),
                                 range("2001:db8::", "2001:db8::ff", 0),
                                 range("2001:db8::80", "2001:db8::100", 58)}
        << ErrorCode::BadRoute;
    QTest::newRow("mixed versions in a range")
        << QList<IpAddressRange>{IpAddressRange{ip("10.0.0.0"), ip("::1"), 0}}
        << ErrorCode::MalformedIpCapsule;
    QTest::newRow("null address") << QList<IpAddressRange>{IpAddressRange{}}
                                  << ErrorCode::MalformedIpCapsule;
}

void tst_WireIpCapsules::badRoutes()
{
    QFETCH(QList<IpAddressRange>, ranges);
    QFETCH(ErrorCode, code);
    const Status s = validateRouteAdvertisement(ranges);
    QVERIFY(!s);
    QCOMPARE(s.error().code, code);
    QCOMPARE(encodeRouteAdvertisement(ranges).error().code, code);
    if (code == ErrorCode::MalformedIpCapsule)
        return;
    // The same ranges on the wire are refused the same way by the parser.
    QByteArray value;
    for (const IpAddressRange &r : ranges) {
        value.append(char(r.start.version()));
        value.append(r.start.bytes());
        value.append(r.end.bytes());
        value.append(char(r.ipProtocol));
    }
    QCOMPARE(parseRouteAdvertisement(value).error().code, code);
}

void tst_WireIpCapsules::encodersRefuseInvalid()
{
    QCOMPARE(encodeAddressRequest({}).error().code, ErrorCode::MalformedIpCapsule);
    QCOMPARE(encodeAddressRequest({{0, prefix("0.0.0.0/32")}}).error().code,
             ErrorCode::BadRequestId);
    QCOMPARE(encodeAddressAssign({{0, IpPrefix{ip("10.0.0.1"), 8}}}).error().code,
             ErrorCode::BadPrefix);
    QCOMPARE(encodeAddressAssign({{0, IpPrefix{ip("10.0.0.0"), 40}}}).error().code,
             ErrorCode::BadPrefixLength);
    QCOMPARE(encodeAddressAssign({{0, IpPrefix{}}}).error().code, ErrorCode::MalformedIpCapsule);
    QCOMPARE(encodeAddressAssign({{quint64(1) << 62, prefix("10.0.0.0/8")}}).error().code,
             ErrorCode::BadRequestId);
    QCOMPARE(encodeAddressAssignCapsule({{0, IpPrefix{ip("10.0.0.1"), 8}}}).error().code,
             ErrorCode::BadPrefix);
    // Disjoint protocol-0 and protocol-6 ranges of the same version are fine.
    QVERIFY(validateRouteAdvertisement({range("10.0.0.0", "10.0.0.9", 0),
                                        range("10.0.0.10", "10.0.0.20", 6),
                                        range("10.0.0.10", "10.0.0.20", 17)}));
}

void tst_WireIpCapsules::manyRoutesValidateFast()
{
    // The largest capsule a default decoder admits holds ~6500 IPv4 ranges; the protocol-0 check
    // is O(n log n), so this is quick even at that size.
    QList<IpAddressRange> ranges;
    for (quint32 i = 0; i < 3000; ++i) {
        ranges.append(IpAddressRange{IpAddress::fromIpv4(0x0a000000 + i * 4),
                                     IpAddress::fromIpv4(0x0a000000 + i * 4 + 1), 0});
    }
    for (quint32 i = 0; i < 3000; ++i) {
        ranges.append(IpAddressRange{IpAddress::fromIpv4(0x0a000000 + i * 4 + 2),
                                     IpAddress::fromIpv4(0x0a000000 + i * 4 + 3), 6});
    }
    const auto encoded = encodeRouteAdvertisement(ranges);
    QVERIFY(encoded.ok());
    QCOMPARE(parseRouteAdvertisement(*encoded).value(), ranges);
    // One UDP range inside the 1500th all-protocol range breaks the rule.
    ranges.append(IpAddressRange{IpAddress::fromIpv4(0x0a000000 + 4 * 1500),
                                 IpAddress::fromIpv4(0x0a000000 + 4 * 1500), 17});
    QCOMPARE(validateRouteAdvertisement(ranges).error().code, ErrorCode::BadRoute);
}

QTEST_APPLESS_MAIN(tst_WireIpCapsules)
#include "tst_wire_ipcapsules.moc"
