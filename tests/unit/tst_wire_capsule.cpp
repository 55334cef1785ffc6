// Capsule Protocol (RFC 9297, 3.2): the encoder and the incremental decoder under every chunking,
// the size limit, truncation at FIN, unknown types and the zero-copy fast path.

#include "support/TestSupport.h"
#include "wire/Capsule.h"
#include "wire/CapsuleDecoder.h"
#include "wire/Varint.h"

#include <QtCore/QRandomGenerator>
#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::wire;
using qmasque::test::fromHex;

namespace {

struct Decoded
{
    quint64 type = 0;
    QByteArray value;

    friend bool operator==(const Decoded &, const Decoded &) = default;
};

// feedChunks: feeds `bytes` cut at `cuts` (ascending offsets) and collects the capsules.
Status feedChunks(CapsuleDecoder &decoder, QByteArrayView bytes, const QList<qsizetype> &cuts,
                  QList<Decoded> *out)
{
    qsizetype from = 0;
    QList<qsizetype> ends = cuts;
    ends.append(bytes.size());
    for (const qsizetype end : ends) {
        const Status s = decoder.feed(bytes.sliced(from, end - from), [&](const CapsuleView &c) {
            out->append(Decoded{c.type, c.value.toByteArray()});
        });
        if (!s)
            return s;
        from = end;
    }
    return {};
}

QByteArray capsule(quint64 type, QByteArrayView value)
{
    QByteArray out;
    appendCapsule(out, type, value);
    return out;
}

// A buffer of several capsules of different header sizes, and what it decodes to.
QByteArray severalCapsules(QList<Decoded> *expected)
{
    QByteArray buffer;
    const QList<Decoded> capsules = {
        {0x00, fromHex("00 68 65 6c 6c 6f")}, // DATAGRAM, context 0, "hello"
        {0x01, QByteArray()},                 // empty ADDRESS_ASSIGN
        {0x17 + 0x29, QByteArray(70, 'x')},   // a GREASE type, 2-byte length
        {0x3fff, QByteArray(3, '\0')},        // 2-byte type
        {kVarintMax, QByteArray("end")},      // 8-byte type
    };
    for (const Decoded &d : capsules)
        appendCapsule(buffer, d.type, d.value);
    *expected = capsules;
    return buffer;
}

} // namespace

class tst_WireCapsule : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void encoderLayout_data();
    void encoderLayout();
    void encoderRefusesOutOfRangeType();
    void headerParse();
    void knownAndGreaseTypes();
    void oneShotDecodesEverything();
    void byteAtATime();
    void everySplitPoint();
    void everyPairOfSplitPoints();
    void randomChunkings();
    void wholeCapsuleIsDeliveredWithoutCopy();
    void splitCapsuleBuffersOnlyItself();
    void nonMinimalHeaderVarints();
    void tooLargeFailsOnHeader_data();
    void tooLargeFailsOnHeader();
    void limitIsInclusive();
    void finishInsideCapsuleIsTruncated_data();
    void finishInsideCapsuleIsTruncated();
    void finishOnBoundaryIsClean();
    void sinkErrorStopsAndSticks();
    void resetRecovers();
    void emptyChunksAreHarmless();
};

void tst_WireCapsule::encoderLayout_data()
{
    QTest::addColumn<quint64>("type");
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("datagram") << quint64(0) << fromHex("00 01 02") << fromHex("00 | 03 | 00 01 02");
    QTest::newRow("empty") << quint64(1) << QByteArray() << fromHex("01 | 00");
    QTest::newRow("type 63") << quint64(63) << QByteArray("a") << fromHex("3f | 01 | 61");
    QTest::newRow("type 64") << quint64(64) << QByteArray("a") << fromHex("40 40 | 01 | 61");
    QTest::newRow("length 64") << quint64(0) << QByteArray(64, 'z')
                               << fromHex("00 | 40 40") + QByteArray(64, 'z');
    QTest::newRow("type 2^62-1") << kVarintMax << QByteArray()
                                 << fromHex("ff ff ff ff ff ff ff ff | 00");
}

void tst_WireCapsule::encoderLayout()
{
    QFETCH(quint64, type);
    QFETCH(QByteArray, value);
    QFETCH(QByteArray, expected);
    QByteArray out("prefix");
    QVERIFY(appendCapsule(out, type, value));
    QCOMPARE(out, QByteArray("prefix") + expected);
    QCOMPARE(capsuleHeaderLength(type, quint64(value.size())), expected.size() - value.size());
}

void tst_WireCapsule::encoderRefusesOutOfRangeType()
{
    QByteArray out("x");
    QVERIFY(!appendCapsule(out, kVarintMax + 1, "v"));
    QCOMPARE(out, QByteArray("x"));
    appendDatagramCapsule(out, fromHex("00 ff"));
    QCOMPARE(out, QByteArray("x") + fromHex("00 02 00 ff"));
}

void tst_WireCapsule::headerParse()
{
    const auto h = parseCapsuleHeader(fromHex("40 01 | 80 00 00 05 | 61"));
    QVERIFY(h.has_value());
    QCOMPARE(h->type, quint64(1));
    QCOMPARE(h->length, quint64(5));
    QCOMPARE(h->headerLength, 6);
    QVERIFY(!parseCapsuleHeader({}).has_value());
    QVERIFY(!parseCapsuleHeader(fromHex("40")).has_value());
    QVERIFY(!parseCapsuleHeader(fromHex("00 80 00 00")).has_value());
}

void tst_WireCapsule::knownAndGreaseTypes()
{
    QVERIFY(isKnownCapsuleType(0x00));
    QVERIFY(isKnownCapsuleType(0x03));
    QVERIFY(!isKnownCapsuleType(0x04));
    QVERIFY(isGreaseCapsuleType(0x17));
    QVERIFY(isGreaseCapsuleType(0x17 + 0x29 * 1000));
    QVERIFY(!isGreaseCapsuleType(0x16));
    QVERIFY(!isGreaseCapsuleType(0x18));
}

void tst_WireCapsule::oneShotDecodesEverything()
{
    QList<Decoded> expected;
    const QByteArray buffer = severalCapsules(&expected);
    CapsuleDecoder decoder;
    QList<Decoded> got;
    QVERIFY(feedChunks(decoder, buffer, {}, &got));
    QCOMPARE(got, expected);
    QVERIFY(!decoder.isInsideCapsule());
    QVERIFY(decoder.finish());
}

void tst_WireCapsule::byteAtATime()
{
    QList<Decoded> expected;
    const QByteArray buffer = severalCapsules(&expected);
    QList<qsizetype> cuts;
    for (qsizetype i = 1; i < buffer.size(); ++i)
        cuts.append(i);
    CapsuleDecoder decoder;
    QList<Decoded> got;
    QVERIFY(feedChunks(decoder, buffer, cuts, &got));
    QCOMPARE(got, expected);
    QVERIFY(decoder.finish());
}

void tst_WireCapsule::everySplitPoint()
{
    QList<Decoded> expected;
    const QByteArray buffer = severalCapsules(&expected);
    for (qsizetype cut = 0; cut <= buffer.size(); ++cut) {
        CapsuleDecoder decoder;
        QList<Decoded> got;
        QVERIFY(feedChunks(decoder, buffer, {cut}, &got));
        QVERIFY2(got == expected, qPrintable(QStringLiteral("split at %1").arg(cut)));
        QVERIFY(decoder.finish());
    }
}

void tst_WireCapsule::everyPairOfSplitPoints()
{
    // Three chunks at every pair of positions, over capsules whose headers span 2..16 bytes.
    QByteArray buffer;
    QList<Decoded> expected;
    for (const Decoded &d : QList<Decoded>{{0x00, fromHex("00 61")},
                                           {0x4000, QByteArray(5, 'b')},
                                           {kVarintMax, QByteArray()},
                                           {0x02, QByteArray("cd")}}) {
        appendCapsule(buffer, d.type, d.value);
        expected.append(d);
    }
    for (qsizetype a = 0; a <= buffer.size(); ++a) {
        for (qsizetype b = a; b <= buffer.size(); ++b) {
            CapsuleDecoder decoder;
            QList<Decoded> got;
            QVERIFY(feedChunks(decoder, buffer, {a, b}, &got));
            QVERIFY2(got == expected, qPrintable(QStringLiteral("cuts %1 %2").arg(a).arg(b)));
            QVERIFY(decoder.finish());
        }
    }
}

void tst_WireCapsule::randomChunkings()
{
    QRandomGenerator rng(20240917);
    QByteArray buffer;
    QList<Decoded> expected;
    for (int i = 0; i < 200; ++i) {
        Decoded d{rng.bounded(3) == 0 ? rng.generate64() & kVarintMax : rng.bounded(4u),
                  QByteArray(int(rng.bounded(300u)), char('a' + i % 26))};
        appendCapsule(buffer, d.type, d.value);
        expected.append(d);
    }
    for (int round = 0; round < 50; ++round) {
        QList<qsizetype> cuts;
        for (qsizetype at = 0; at < buffer.size();) {
            at += 1 + rng.bounded(round % 2 ? 40 : 2000);
            if (at < buffer.size())
                cuts.append(at);
        }
        CapsuleDecoder decoder;
        QList<Decoded> got;
        QVERIFY(feedChunks(decoder, buffer, cuts, &got));
        QCOMPARE(got, expected);
        QVERIFY(decoder.finish());
    }
}

void tst_WireCapsule::wholeCapsuleIsDeliveredWithoutCopy()
{
    const QByteArray buffer = capsule(0x00, fromHex("00 01 02 03")) + capsule(0x00, "xyz");
    CapsuleDecoder decoder;
    QList<const char *> pointers;
    QVERIFY(decoder.feed(buffer, [&](const CapsuleView &c) { pointers.append(c.value.data()); }));
    QCOMPARE(pointers.size(), 2);
    QCOMPARE(pointers[0], buffer.constData() + 2);
    QCOMPARE(pointers[1], buffer.constData() + 8);
    QCOMPARE(decoder.pendingSize(), qsizetype(0));
}

void tst_WireCapsule::splitCapsuleBuffersOnlyItself()
{
    // A whole capsule, then the first 3 bytes of a 10-byte one: only those 3 are buffered.
    const QByteArray first = capsule(0x00, "abc");
    const QByteArray second = capsule(0x00, QByteArray(8, 'q'));
    CapsuleDecoder decoder;
    int count = 0;
    QVERIFY(
        decoder.feed(QByteArray(first + second.first(3)), [&](const CapsuleView &) { ++count; }));
    QCOMPARE(count, 1);
    QCOMPARE(decoder.pendingSize(), qsizetype(3));
    QVERIFY(decoder.isInsideCapsule());
    // The rest of it plus a following capsule in one chunk.
    QList<Decoded> got;
    QVERIFY(decoder.feed(QByteArray(second.sliced(3) + first), [&](const CapsuleView &c) {
        got.append(Decoded{c.type, c.value.toByteArray()});
    }));
    QCOMPARE(got, (QList<Decoded>{{0x00, QByteArray(8, 'q')}, {0x00, "abc"}}));
    QCOMPARE(decoder.pendingSize(), qsizetype(0));
}

void tst_WireCapsule::nonMinimalHeaderVarints()
{
    // RFC 9000, 16 allows non-minimal encodings; the decoder takes them.
    const QByteArray bytes = fromHex("c0 00 00 00 00 00 00 02 | 40 03 | 61 62 63");
    CapsuleDecoder decoder;
    QList<Decoded> got;
    QVERIFY(feedChunks(decoder, bytes, {1, 9, 10}, &got));
    QCOMPARE(got, (QList<Decoded>{{0x02, "abc"}}));
}

void tst_WireCapsule::tooLargeFailsOnHeader_data()
{
    QTest::addColumn<QList<qsizetype>>("cuts");
    QTest::newRow("one chunk") << QList<qsizetype>{};
    QTest::newRow("header split") << QList<qsizetype>{1, 2};
    QTest::newRow("byte at a time") << QList<qsizetype>{1, 2, 3, 4, 5, 6};
}

void tst_WireCapsule::tooLargeFailsOnHeader()
{
    QFETCH(QList<qsizetype>, cuts);
    // Type 0, declared length 65537 (limit 65536), only 3 value bytes present: the header alone
    // decides.
    const QByteArray bytes = fromHex("00 | 80 01 00 01 | 61 62 63");
    CapsuleDecoder decoder;
    QList<Decoded> got;
    const Status s = feedChunks(decoder, bytes, cuts, &got);
    QVERIFY(!s);
    QCOMPARE(s.error().code, ErrorCode::CapsuleTooLarge);
    QVERIFY(got.isEmpty());
    QVERIFY(decoder.hasFailed());
    QCOMPARE(decoder.pendingSize(), qsizetype(0));
    // Sticky: more bytes and FIN report the same error.
    const Status again = decoder.feed(capsule(0, "x"), [&](const CapsuleView &) { QFAIL("sink"); });
    QCOMPARE(again.error().code, ErrorCode::CapsuleTooLarge);
    QCOMPARE(decoder.finish().error().code, ErrorCode::CapsuleTooLarge);
}

void tst_WireCapsule::limitIsInclusive()
{
    CapsuleDecoder decoder(4);
    QCOMPARE(decoder.maxCapsuleLength(), quint64(4));
    QList<Decoded> got;
    QVERIFY(feedChunks(decoder, capsule(7, "abcd"), {3}, &got));
    QCOMPARE(got.size(), 1);
    const Status s = feedChunks(decoder, capsule(7, "abcde"), {}, &got);
    QCOMPARE(s.error().code, ErrorCode::CapsuleTooLarge);

    // A huge declared length (2^62-1) under the default limit fails without allocating.
    CapsuleDecoder defaults;
    QCOMPARE(defaults.maxCapsuleLength(), quint64(65536));
    const Status huge =
        defaults.feed(fromHex("00 | ff ff ff ff ff ff ff ff"), [](const CapsuleView &) {});
    QCOMPARE(huge.error().code, ErrorCode::CapsuleTooLarge);
}

void tst_WireCapsule::finishInsideCapsuleIsTruncated_data()
{
    const QByteArray whole = capsule(0x00, fromHex("00 11 22 33"));
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("inside type") << fromHex("40");
    QTest::newRow("inside length") << fromHex("00 80 00");
    QTest::newRow("after header") << whole.first(2);
    QTest::newRow("inside value") << whole.first(4);
    QTest::newRow("one byte short") << whole.first(whole.size() - 1);
    QTest::newRow("second capsule cut") << whole + whole.first(1);
}

void tst_WireCapsule::finishInsideCapsuleIsTruncated()
{
    QFETCH(QByteArray, bytes);
    for (const bool byteAtATime : {false, true}) {
        CapsuleDecoder decoder;
        QList<qsizetype> cuts;
        for (qsizetype i = 1; byteAtATime && i < bytes.size(); ++i)
            cuts.append(i);
        QList<Decoded> got;
        QVERIFY(feedChunks(decoder, bytes, cuts, &got));
        QVERIFY(decoder.isInsideCapsule());
        const Status s = decoder.finish();
        QVERIFY(!s);
        QCOMPARE(s.error().code, ErrorCode::TruncatedCapsule);
        QVERIFY(!s.error().detail.isEmpty());
    }
}

void tst_WireCapsule::finishOnBoundaryIsClean()
{
    CapsuleDecoder decoder;
    QVERIFY(decoder.finish()); // nothing at all
    QList<Decoded> got;
    QVERIFY(feedChunks(decoder, QByteArray(capsule(5, "a") + capsule(6, "")), {2}, &got));
    QVERIFY(decoder.finish());
    QCOMPARE(got.size(), 2);
}

void tst_WireCapsule::sinkErrorStopsAndSticks()
{
    const QByteArray bytes = capsule(1, "a") + capsule(2, "b") + capsule(3, "c");
    for (const qsizetype cut : {qsizetype(0), qsizetype(4), qsizetype(5)}) {
        CapsuleDecoder decoder;
        QList<quint64> seen;
        auto sink = [&](const CapsuleView &c) -> Status {
            seen.append(c.type);
            if (c.type == 2)
                return Error(ErrorCode::MalformedIpCapsule, QStringLiteral("rejected"));
            return {};
        };
        Status s = decoder.feed(QByteArrayView(bytes).first(cut), sink);
        if (s)
            s = decoder.feed(QByteArrayView(bytes).sliced(cut), sink);
        QVERIFY(!s);
        QCOMPARE(s.error().code, ErrorCode::MalformedIpCapsule);
        QCOMPARE(seen, (QList<quint64>{1, 2}));
        QVERIFY(decoder.hasFailed());
        QCOMPARE(decoder.error()->code, ErrorCode::MalformedIpCapsule);
        QCOMPARE(decoder.finish().error().code, ErrorCode::MalformedIpCapsule);
    }
}

void tst_WireCapsule::resetRecovers()
{
    CapsuleDecoder decoder(2);
    QVERIFY(!decoder.feed(capsule(0, "abc"), [](const CapsuleView &) {}));
    decoder.reset();
    QVERIFY(!decoder.hasFailed());
    decoder.setMaxCapsuleLength(10);
    QList<Decoded> got;
    QVERIFY(feedChunks(decoder, capsule(0, "abc"), {1}, &got));
    QCOMPARE(got.size(), 1);
    // reset also drops a partial capsule.
    QVERIFY(feedChunks(decoder, capsule(0, "abc").first(3), {}, &got));
    QVERIFY(decoder.isInsideCapsule());
    decoder.reset();
    QVERIFY(!decoder.isInsideCapsule());
    QVERIFY(decoder.finish());
}

void tst_WireCapsule::emptyChunksAreHarmless()
{
    CapsuleDecoder decoder;
    QList<Decoded> got;
    const QByteArray bytes = capsule(9, "hello");
    QVERIFY(feedChunks(decoder, bytes, {0, 0, 3, 3, 7, 7}, &got));
    QCOMPARE(got, (QList<Decoded>{{9, "hello"}}));
}

QTEST_APPLESS_MAIN(tst_WireCapsule)
#include "tst_wire_capsule.moc"
