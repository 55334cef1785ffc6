// Structured Field Values (RFC 8941): Items, Lists, Parameters, serialisation, and the
// Capsule-Protocol boolean (RFC 9297, 3.4).

#include "wire/StructuredFields.h"

#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::wire;

class tst_WireStructuredFields : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void items_data();
    void items();
    void malformedItems_data();
    void malformedItems();
    void parameters();
    void lists();
    void malformedLists_data();
    void malformedLists();
    void serialisation();
    void serialisedItemsParseBack();
    void tokensAndKeys();
    void capsuleProtocol_data();
    void capsuleProtocol();
};

void tst_WireStructuredFields::items_data()
{
    QTest::addColumn<QByteArray>("field");
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("integer");
    QTest::addColumn<double>("decimal");
    using T = SfBareItem::Type;
    QTest::newRow("integer") << QByteArray("42") << int(T::Integer) << QString() << qint64(42)
                             << 0.0;
    QTest::newRow("negative") << QByteArray("-17") << int(T::Integer) << QString() << qint64(-17)
                              << 0.0;
    QTest::newRow("15 digits") << QByteArray("999999999999999") << int(T::Integer) << QString()
                               << qint64(999999999999999) << 0.0;
    QTest::newRow("decimal") << QByteArray("4.5") << int(T::Decimal) << QString() << qint64(0)
                             << 4.5;
    QTest::newRow("decimal 3 digits")
        << QByteArray("-0.125") << int(T::Decimal) << QString() << qint64(0) << -0.125;
    QTest::newRow("decimal 12.3") << QByteArray("123456789012.5") << int(T::Decimal) << QString()
                                  << qint64(0) << 123456789012.5;
    QTest::newRow("string") << QByteArray("\"hello world\"") << int(T::String)
                            << QStringLiteral("hello world") << qint64(0) << 0.0;
    QTest::newRow("escapes") << QByteArray(R"("a\"b\\c")") << int(T::String)
                             << QStringLiteral(R"(a"b\c)") << qint64(0) << 0.0;
    QTest::newRow("empty string") << QByteArray("\"\"") << int(T::String) << QString() << qint64(0)
                                  << 0.0;
    QTest::newRow("token") << QByteArray("foo123/456") << int(T::Token)
                           << QStringLiteral("foo123/456") << qint64(0) << 0.0;
    QTest::newRow("star token") << QByteArray("*foo:bar") << int(T::Token)
                                << QStringLiteral("*foo:bar") << qint64(0) << 0.0;
    QTest::newRow("spaces around")
        << QByteArray("  tok  ") << int(T::Token) << QStringLiteral("tok") << qint64(0) << 0.0;
    QTest::newRow("true") << QByteArray("?1") << int(T::Boolean) << QString() << qint64(0) << 0.0;
}

void tst_WireStructuredFields::items()
{
    QFETCH(QByteArray, field);
    QFETCH(int, type);
    QFETCH(QString, text);
    QFETCH(qint64, integer);
    QFETCH(double, decimal);
    const auto item = parseSfItem(field);
    QVERIFY2(item.ok(), qPrintable(item.ok() ? QString() : item.error().detail));
    QCOMPARE(int(item->value.type), type);
    if (item->value.isText())
        QCOMPARE(item->value.text, text);
    if (item->value.isInteger())
        QCOMPARE(item->value.integer, integer);
    if (item->value.type == SfBareItem::Type::Decimal)
        QCOMPARE(item->value.decimal, decimal);
    QVERIFY(item->parameters.isEmpty());
}

void tst_WireStructuredFields::malformedItems_data()
{
    QTest::addColumn<QByteArray>("field");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("only spaces") << QByteArray("   ");
    QTest::newRow("16 digits") << QByteArray("1000000000000000");
    QTest::newRow("minus alone") << QByteArray("-");
    QTest::newRow("minus letter") << QByteArray("-a");
    QTest::newRow("decimal 4 fraction digits") << QByteArray("1.2345");
    QTest::newRow("decimal trailing dot") << QByteArray("1.");
    QTest::newRow("decimal 13 integer digits") << QByteArray("1234567890123.5");
    QTest::newRow("two dots") << QByteArray("1.2.3");
    QTest::newRow("unterminated string") << QByteArray("\"abc");
    QTest::newRow("bad escape") << QByteArray(R"("a\nb")");
    QTest::newRow("escape at end") << QByteArray("\"a\\");
    QTest::newRow("control in string") << QByteArray("\"a\tb\"");
    QTest::newRow("non-ascii in string") << QByteArray("\"caf\xc3\xa9\"");
    QTest::newRow("boolean 2") << QByteArray("?2");
    QTest::newRow("boolean alone") << QByteArray("?");
    QTest::newRow("byte seq unterminated") << QByteArray(":aGVsbG8=");
    QTest::newRow("byte seq bad char") << QByteArray(":aGV$bG8=:");
    QTest::newRow("two items") << QByteArray("a b");
    QTest::newRow("list") << QByteArray("a, b");
    QTest::newRow("leading tab") << QByteArray("\ta");
    QTest::newRow("unknown type") << QByteArray("@123");
    QTest::newRow("display string") << QByteArray("%\"x\"");
    QTest::newRow("inner list as item") << QByteArray("(a b)");
}

void tst_WireStructuredFields::malformedItems()
{
    QFETCH(QByteArray, field);
    const auto item = parseSfItem(field);
    QVERIFY(!item.ok());
    QCOMPARE(item.error().code, ErrorCode::MalformedHeader);
    QVERIFY(!item.error().detail.isEmpty());
}

void tst_WireStructuredFields::parameters()
{
    const auto item = parseSfItem("tok;a;b=2;c=\"x\";  d=?0;b=3;e=:aGk=:");
    QVERIFY(item.ok());
    const SfParameters &p = item->parameters;
    QCOMPARE(p.size(), 5);
    // RFC 8941, 4.2.3.2: a repeated key keeps its position and takes the last value.
    QCOMPARE(p[0].first, QStringLiteral("a"));
    QVERIFY(p[0].second.isBoolean() && p[0].second.boolean);
    QCOMPARE(p[1].first, QStringLiteral("b"));
    QCOMPARE(p[1].second.integer, qint64(3));
    QCOMPARE(p[2].second.text, QStringLiteral("x"));
    QVERIFY(p[3].second.isBoolean() && !p[3].second.boolean);
    QCOMPARE(p[4].second.bytes, QByteArray("hi"));
    QVERIFY(sfParameter(p, u"c"));
    QVERIFY(!sfParameter(p, u"z"));
    for (const char *bad : {"tok;", "tok;A=1", "tok;1a=2", "tok;a=", "tok;a=(b)", "tok; ;a"}) {
        const auto r = parseSfItem(bad);
        QVERIFY2(!r.ok(), bad);
    }
}

void tst_WireStructuredFields::lists()
{
    const auto list = parseSfList("a, \"b\";x=1 ,\t(c d);y, (), ?0");
    QVERIFY(list.ok());
    QCOMPARE(list->size(), 5);
    QVERIFY(!list->at(0).isInnerList);
    QCOMPARE(list->at(0).item.value.text, QStringLiteral("a"));
    QCOMPARE(list->at(1).item.value.type, SfBareItem::Type::String);
    QCOMPARE(list->at(1).item.parameters.size(), 1);
    QVERIFY(list->at(2).isInnerList);
    QCOMPARE(list->at(2).innerList.size(), 2);
    QCOMPARE(list->at(2).innerList[1].value.text, QStringLiteral("d"));
    QCOMPARE(list->at(2).parameters.size(), 1);
    QVERIFY(list->at(3).isInnerList);
    QVERIFY(list->at(3).innerList.isEmpty());
    QVERIFY(list->at(4).item.value.isBoolean());
    // RFC 8941, 4.2.1: an empty field value is an empty list.
    const auto empty = parseSfList("");
    QVERIFY(empty.ok());
    QVERIFY(empty->isEmpty());
    QCOMPARE(parseSfList("  (  a   b  )  ")->at(0).innerList.size(), 2);
}

void tst_WireStructuredFields::malformedLists_data()
{
    QTest::addColumn<QByteArray>("field");
    QTest::newRow("empty member") << QByteArray("a,,b");
    QTest::newRow("trailing comma") << QByteArray("a,");
    QTest::newRow("trailing comma and space") << QByteArray("a, ");
    QTest::newRow("leading comma") << QByteArray(",a");
    QTest::newRow("missing comma") << QByteArray("a b");
    QTest::newRow("comma in inner list") << QByteArray("(a,b)");
    QTest::newRow("unterminated inner list") << QByteArray("(a b");
    QTest::newRow("nested inner list") << QByteArray("((a))");
    QTest::newRow("no space in inner list") << QByteArray("(\"a\"\"b\")");
    QTest::newRow("bad member") << QByteArray("a, @");
}

void tst_WireStructuredFields::malformedLists()
{
    QFETCH(QByteArray, field);
    const auto list = parseSfList(field);
    QVERIFY(!list.ok());
    QCOMPARE(list.error().code, ErrorCode::MalformedHeader);
}

void tst_WireStructuredFields::serialisation()
{
    QByteArray out;
    appendSfString(out, u"say \"hi\" \\ bye");
    QCOMPARE(out, QByteArray(R"("say \"hi\" \\ bye")"));
    out.clear();
    appendSfString(out, QString::fromUtf8("caf\xc3\xa9\n"));
    QCOMPARE(out, QByteArray("\"caf??\"")); // what a String cannot carry becomes '?'
    out.clear();
    appendSfBareItem(out, SfBareItem::fromToken(QStringLiteral("not a token")));
    QCOMPARE(out, QByteArray("\"not a token\""));
    out.clear();
    SfBareItem decimal;
    decimal.type = SfBareItem::Type::Decimal;
    decimal.decimal = 2.50049;
    appendSfBareItem(out, decimal);
    QCOMPARE(out, QByteArray("2.5"));
    out.clear();
    appendSfParameters(out, {{QStringLiteral("a"), SfBareItem::fromBoolean(true)},
                             {QStringLiteral("b"), SfBareItem::fromBoolean(false)},
                             {QStringLiteral("c"), SfBareItem::fromInteger(-3)}});
    QCOMPARE(out, QByteArray(";a;b=?0;c=-3"));
}

void tst_WireStructuredFields::serialisedItemsParseBack()
{
    SfBareItem bytes;
    bytes.type = SfBareItem::Type::ByteSequence;
    bytes.bytes = QByteArray("\x00\xff\x10 binary", 10);
    SfBareItem decimal;
    decimal.type = SfBareItem::Type::Decimal;
    decimal.decimal = -12.125;
    const QList<SfBareItem> items = {SfBareItem::fromInteger(-999999999999999),
                                     SfBareItem::fromString(QStringLiteral("x \"y\" \\z")),
                                     SfBareItem::fromToken(QStringLiteral("*tok/en:1")),
                                     SfBareItem::fromBoolean(false),
                                     bytes,
                                     decimal};
    for (const SfBareItem &item : items) {
        QByteArray out;
        appendSfBareItem(out, item);
        appendSfParameters(out, {{QStringLiteral("k"), item}});
        const auto parsed = parseSfItem(out);
        QVERIFY2(parsed.ok(), out.constData());
        QCOMPARE(parsed->value, item);
        QCOMPARE(parsed->parameters.size(), 1);
        QCOMPARE(parsed->parameters[0].second, item);
    }
}

void tst_WireStructuredFields::tokensAndKeys()
{
    QVERIFY(isSfToken(u"dns_error"));
    QVERIFY(isSfToken(u"*"));
    QVERIFY(isSfToken(u"backend.example.org:8001"));
    QVERIFY(!isSfToken(u""));
    QVERIFY(!isSfToken(u"1abc"));
    QVERIFY(!isSfToken(u"a b"));
    QVERIFY(!isSfToken(u"a\"b"));
    QVERIFY(isSfKey(u"next-hop"));
    QVERIFY(isSfKey(u"*x.y_z"));
    QVERIFY(!isSfKey(u"Next"));
    QVERIFY(!isSfKey(u"9a"));
    QVERIFY(!isSfKey(u""));
}

void tst_WireStructuredFields::capsuleProtocol_data()
{
    QTest::addColumn<QByteArray>("field");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<bool>("value");
    QTest::newRow("?1") << QByteArray("?1") << true << true;
    QTest::newRow("?0") << QByteArray("?0") << true << false;
    // RFC 9297, 3.4: parameters are allowed and ignored.
    QTest::newRow("with parameters") << QByteArray("?1;foo=bar;baz") << true << true;
    QTest::newRow("spaces") << QByteArray(" ?1 ") << true << true;
    QTest::newRow("integer") << QByteArray("1") << false << false;
    QTest::newRow("token") << QByteArray("true") << false << false;
    QTest::newRow("string") << QByteArray("\"?1\"") << false << false;
    QTest::newRow("list") << QByteArray("?1, ?0") << false << false;
    QTest::newRow("empty") << QByteArray() << false << false;
    QTest::newRow("bad boolean") << QByteArray("?yes") << false << false;
}

void tst_WireStructuredFields::capsuleProtocol()
{
    QFETCH(QByteArray, field);
    QFETCH(bool, valid);
    QFETCH(bool, value);
    const auto parsed = parseCapsuleProtocol(field);
    QCOMPARE(parsed.ok(), valid);
    if (valid)
        QCOMPARE(*parsed, value);
    else
        QCOMPARE(parsed.error().code, ErrorCode::MalformedHeader);
    QCOMPARE(capsuleProtocolValue(), QByteArray("?1"));
    QCOMPARE(capsuleProtocolValue(false), QByteArray("?0"));
    QCOMPARE(parseCapsuleProtocol(capsuleProtocolValue()).value(), true);
}

QTEST_APPLESS_MAIN(tst_WireStructuredFields)
#include "tst_wire_structuredfields.moc"
