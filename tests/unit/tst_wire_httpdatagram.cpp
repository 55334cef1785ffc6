// HTTP Datagrams (RFC 9297, 2): context id + payload, and the HTTP/3 Quarter Stream ID prefix.

#include "support/TestSupport.h"
#include "wire/HttpDatagram.h"
#include "wire/Varint.h"

#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::wire;
using qmasque::test::fromHex;

class tst_WireHttpDatagram : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void payloadRoundTrip_data();
    void payloadRoundTrip();
    void payloadVectors_data();
    void payloadVectors();
    void malformedPayload_data();
    void malformedPayload();
    void contextIdOutOfRange();
    void quarterStreamIdRoundTrip_data();
    void quarterStreamIdRoundTrip();
    void invalidStreamIds_data();
    void invalidStreamIds();
    void h3DatagramParse();
    void h3QuarterStreamIdTooLarge();
    void h3Truncated();
};

void tst_WireHttpDatagram::payloadRoundTrip_data()
{
    QTest::addColumn<quint64>("contextId");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<int>("headerLength");
    QTest::newRow("udp, empty") << quint64(0) << QByteArray() << 1;
    QTest::newRow("udp") << quint64(0) << QByteArray("payload") << 1;
    QTest::newRow("63") << quint64(63) << QByteArray("x") << 1;
    QTest::newRow("64") << quint64(64) << QByteArray("x") << 2;
    QTest::newRow("16383") << quint64(16383) << QByteArray("x") << 2;
    QTest::newRow("16384") << quint64(16384) << QByteArray("x") << 4;
    QTest::newRow("2^30-1") << quint64((1u << 30) - 1) << QByteArray(1500, 'p') << 4;
    QTest::newRow("2^30") << quint64(1u << 30) << QByteArray("x") << 8;
    QTest::newRow("2^62-1") << kVarintMax << QByteArray("x") << 8;
}

void tst_WireHttpDatagram::payloadRoundTrip()
{
    QFETCH(quint64, contextId);
    QFETCH(QByteArray, payload);
    QFETCH(int, headerLength);
    QByteArray out;
    QVERIFY(appendHttpDatagram(out, contextId, payload));
    QCOMPARE(out.size(), headerLength + payload.size());
    QCOMPARE(httpDatagramHeaderLength(contextId), headerLength);
    const auto parsed = parseHttpDatagram(out);
    QVERIFY(parsed.ok());
    QCOMPARE(parsed->contextId, contextId);
    QCOMPARE(parsed->payload.toByteArray(), payload);
    // The payload is a view into the parsed buffer.
    QCOMPARE(parsed->payload.data(), out.constData() + headerLength);
}

void tst_WireHttpDatagram::payloadVectors_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<quint64>("contextId");
    QTest::addColumn<QByteArray>("payload");
    QTest::newRow("context 0") << fromHex("00 | de ad") << quint64(0) << fromHex("de ad");
    QTest::newRow("context 2, two bytes") << fromHex("40 02 | 01") << quint64(2) << fromHex("01");
    QTest::newRow("only a context id") << fromHex("25") << quint64(37) << QByteArray();
}

void tst_WireHttpDatagram::payloadVectors()
{
    QFETCH(QByteArray, bytes);
    QFETCH(quint64, contextId);
    QFETCH(QByteArray, payload);
    const auto parsed = parseHttpDatagram(bytes);
    QVERIFY(parsed.ok());
    QCOMPARE(parsed->contextId, contextId);
    QCOMPARE(parsed->payload.toByteArray(), payload);
}

void tst_WireHttpDatagram::malformedPayload_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("2-byte id cut") << fromHex("40");
    QTest::newRow("4-byte id cut") << fromHex("80 00 01");
    QTest::newRow("8-byte id cut") << fromHex("c0 00 00 00 00 00 00");
}

void tst_WireHttpDatagram::malformedPayload()
{
    QFETCH(QByteArray, bytes);
    const auto parsed = parseHttpDatagram(bytes);
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().code, ErrorCode::MalformedDatagram);
}

void tst_WireHttpDatagram::contextIdOutOfRange()
{
    QByteArray out("keep");
    QVERIFY(!appendHttpDatagram(out, kVarintMax + 1, "x"));
    QCOMPARE(out, QByteArray("keep"));
    QCOMPARE(httpDatagramHeaderLength(kVarintMax + 1), 0);
}

void tst_WireHttpDatagram::quarterStreamIdRoundTrip_data()
{
    QTest::addColumn<qint64>("streamId");
    QTest::addColumn<QByteArray>("prefix");
    QTest::newRow("0") << qint64(0) << fromHex("00");
    QTest::newRow("4") << qint64(4) << fromHex("01");
    QTest::newRow("252") << qint64(252) << fromHex("3f");
    QTest::newRow("256") << qint64(256) << fromHex("40 40");
    QTest::newRow("max") << qint64(kMaxQuarterStreamId * 4) << fromHex("cf ff ff ff ff ff ff ff");
}

void tst_WireHttpDatagram::quarterStreamIdRoundTrip()
{
    QFETCH(qint64, streamId);
    QFETCH(QByteArray, prefix);
    QVERIFY(isClientBidiStreamId(streamId));
    QByteArray out;
    QVERIFY(appendQuarterStreamId(out, streamId));
    QCOMPARE(out, prefix);
    char raw[8] = {};
    QCOMPARE(encodeQuarterStreamId(streamId, raw), int(prefix.size()));
    QCOMPARE(QByteArray(raw, prefix.size()), prefix);

    // A whole QUIC DATAGRAM payload: quarter stream id, context id, UDP payload.
    QByteArray frame = out;
    QVERIFY(appendHttpDatagram(frame, 0, "udp"));
    const auto h3 = parseH3Datagram(frame);
    QVERIFY(h3.ok());
    QCOMPARE(h3->streamId, streamId);
    const auto inner = parseHttpDatagram(h3->httpDatagramPayload);
    QVERIFY(inner.ok());
    QCOMPARE(inner->contextId, quint64(0));
    QCOMPARE(inner->payload.toByteArray(), QByteArray("udp"));
}

void tst_WireHttpDatagram::invalidStreamIds_data()
{
    QTest::addColumn<qint64>("streamId");
    QTest::newRow("server bidi (1)") << qint64(1);
    QTest::newRow("client uni (2)") << qint64(2);
    QTest::newRow("server uni (3)") << qint64(3);
    QTest::newRow("negative") << qint64(-4);
    QTest::newRow("above 2^62") << qint64((kMaxQuarterStreamId + 1) * 4);
}

void tst_WireHttpDatagram::invalidStreamIds()
{
    QFETCH(qint64, streamId);
    QVERIFY(!isClientBidiStreamId(streamId));
    QByteArray out("keep");
    const Status s = appendQuarterStreamId(out, streamId);
    QVERIFY(!s);
    QCOMPARE(s.error().code, ErrorCode::InvalidStreamId);
    QCOMPARE(out, QByteArray("keep"));
    char raw[8] = {};
    QCOMPARE(encodeQuarterStreamId(streamId, raw), 0);
}

void tst_WireHttpDatagram::h3DatagramParse()
{
    // Quarter stream id 2 (stream 8), context 0, payload "hi".
    const QByteArray frame = fromHex("02 | 00 | 68 69");
    const auto h3 = parseH3Datagram(frame);
    QVERIFY(h3.ok());
    QCOMPARE(h3->streamId, qint64(8));
    QCOMPARE(h3->httpDatagramPayload.toByteArray(), fromHex("00 68 69"));
    QCOMPARE(h3->httpDatagramPayload.data(), frame.constData() + 1);
}

void tst_WireHttpDatagram::h3QuarterStreamIdTooLarge()
{
    // RFC 9297, 2.1: a Quarter Stream ID above 2^60-1 is an H3_DATAGRAM_ERROR.
    const auto h3 = parseH3Datagram(fromHex("d0 00 00 00 00 00 00 00 | 00"));
    QVERIFY(!h3.ok());
    QCOMPARE(h3.error().code, ErrorCode::InvalidStreamId);
}

void tst_WireHttpDatagram::h3Truncated()
{
    for (const QByteArray &bytes : {QByteArray(), fromHex("40"), fromHex("c0 00 00")}) {
        const auto h3 = parseH3Datagram(bytes);
        QVERIFY(!h3.ok());
        QCOMPARE(h3.error().code, ErrorCode::MalformedDatagram);
    }
}

QTEST_APPLESS_MAIN(tst_WireHttpDatagram)
#include "tst_wire_httpdatagram.moc"
