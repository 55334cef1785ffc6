// QUIC variable-length integers (RFC 9000, 16): boundaries, RFC vectors, partial input.

#include "support/TestSupport.h"
#include "wire/ByteReader.h"
#include "wire/Varint.h"

#include <QtTest/QTest>

using namespace qmasque::wire;
using qmasque::test::fromHex;

class tst_Varint : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTrip_data();
    void roundTrip();
    void rfcVectors_data();
    void rfcVectors();
    void nonMinimalEncodingsDecode();
    void outOfRangeRefused();
    void partialInputNeedsMore();
    void readerNeverReadsPastEnd();
};

void tst_Varint::roundTrip_data()
{
    QTest::addColumn<quint64>("value");
    QTest::addColumn<int>("length");
    QTest::newRow("0") << quint64(0) << 1;
    QTest::newRow("63") << quint64(63) << 1;
    QTest::newRow("64") << quint64(64) << 2;
    QTest::newRow("16383") << quint64(16383) << 2;
    QTest::newRow("16384") << quint64(16384) << 4;
    QTest::newRow("2^30-1") << quint64((1u << 30) - 1) << 4;
    QTest::newRow("2^30") << quint64(1u << 30) << 8;
    QTest::newRow("2^62-1") << kVarintMax << 8;
}

void tst_Varint::roundTrip()
{
    QFETCH(quint64, value);
    QFETCH(int, length);
    QCOMPARE(varintLength(value), length);
    QByteArray encoded;
    QVERIFY(appendVarint(encoded, value));
    QCOMPARE(encoded.size(), length);
    const auto decoded = decodeVarint(encoded);
    QVERIFY(decoded.has_value());
    QCOMPARE(decoded->value, value);
    QCOMPARE(decoded->length, length);
}

void tst_Varint::rfcVectors_data()
{
    // RFC 9000, A.1: sample variable-length integer decodings.
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<quint64>("value");
    QTest::newRow("8 bytes") << fromHex("c2 19 7c 5e ff 14 e8 8c") << quint64(151288809941952652);
    QTest::newRow("4 bytes") << fromHex("9d 7f 3e 7d") << quint64(494878333);
    QTest::newRow("2 bytes") << fromHex("7b bd") << quint64(15293);
    QTest::newRow("1 byte") << fromHex("25") << quint64(37);
}

void tst_Varint::rfcVectors()
{
    QFETCH(QByteArray, bytes);
    QFETCH(quint64, value);
    const auto decoded = decodeVarint(bytes);
    QVERIFY(decoded.has_value());
    QCOMPARE(decoded->value, value);
    QCOMPARE(decoded->length, bytes.size());
    QByteArray encoded;
    QVERIFY(appendVarint(encoded, value));
    QCOMPARE(encoded, bytes);
}

void tst_Varint::nonMinimalEncodingsDecode()
{
    // RFC 9000, A.1: "the two-byte sequence 0x40 0x25 also decodes to 37".
    const auto decoded = decodeVarint(fromHex("40 25"));
    QVERIFY(decoded.has_value());
    QCOMPARE(decoded->value, quint64(37));
    QCOMPARE(decoded->length, 2);
}

void tst_Varint::outOfRangeRefused()
{
    QByteArray out("x");
    QVERIFY(!appendVarint(out, kVarintMax + 1));
    QVERIFY(!appendVarint(out, ~quint64(0)));
    QCOMPARE(out, QByteArray("x"));
    QCOMPARE(varintLength(kVarintMax + 1), 0);
    char buffer[8] = {};
    QCOMPARE(encodeVarint(kVarintMax + 1, buffer), 0);
}

void tst_Varint::partialInputNeedsMore()
{
    QVERIFY(!decodeVarint({}).has_value());
    const QByteArray full = fromHex("c2 19 7c 5e ff 14 e8 8c");
    for (qsizetype n = 1; n < full.size(); ++n)
        QVERIFY2(!decodeVarint(full.first(n)).has_value(), qPrintable(QString::number(n)));
    QVERIFY(!decodeVarint(fromHex("9d 7f 3e")).has_value());
    QVERIFY(!decodeVarint(fromHex("7b")).has_value());
}

void tst_Varint::readerNeverReadsPastEnd()
{
    const QByteArray data = fromHex("25 | 7b bd | 00 01 02");
    ByteReader reader(data);
    QCOMPARE(reader.readVarint().value_or(99), quint64(37));
    QCOMPARE(reader.readVarint().value_or(99), quint64(15293));
    QCOMPARE(reader.readU16().value_or(99), quint16(1));
    QVERIFY(!reader.readU16().has_value()); // one byte left: refused, cursor unchanged
    QCOMPARE(reader.remaining(), qsizetype(1));
    QVERIFY(!reader.readBytes(2).has_value());
    QVERIFY(!reader.readBytes(-1).has_value());
    QCOMPARE(reader.readU8().value_or(99), quint8(2));
    QVERIFY(reader.atEnd());
    QVERIFY(!reader.readVarint().has_value());
    QVERIFY(!reader.readU32().has_value());
}

QTEST_APPLESS_MAIN(tst_Varint)
#include "tst_varint.moc"
