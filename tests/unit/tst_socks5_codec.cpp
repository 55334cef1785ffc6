// SOCKS5 (RFC 1928) and username/password (RFC 1929) parsing and replies.

#include "local/Socks5Codec.h"
#include "support/TestSupport.h"

#include <QtTest/QTest>

using namespace qmasque::socks5;
using qmasque::ErrorCode;
using qmasque::test::fromHex;

namespace {

template<typename T>
bool needsMore(const ParseResult<T> &r)
{
    return std::holds_alternative<std::monostate>(r);
}

template<typename T>
const Parsed<T> *parsed(const ParseResult<T> &r)
{
    return std::get_if<Parsed<T>>(&r);
}

template<typename T>
const Failure *failed(const ParseResult<T> &r)
{
    return std::get_if<Failure>(&r);
}

// Pointers into a temporary result would dangle: callers keep the result in a variable.
template<typename T>
const Parsed<T> *parsed(const ParseResult<T> &&) = delete;
template<typename T>
const Failure *failed(const ParseResult<T> &&) = delete;

} // namespace

class tst_Socks5Codec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void greetingByteAtATime();
    void greetingErrors();
    void credentials();
    void requests_data();
    void requests();
    void requestErrors_data();
    void requestErrors();
    void requestPartialAtEveryByte();
    void udpDatagrams();
    void replies();
    void ipv6Text_data();
    void ipv6Text();
};

void tst_Socks5Codec::greetingByteAtATime()
{
    const QByteArray greeting = fromHex("05 | 02 | 00 02") + QByteArray("trailing");
    for (qsizetype n = 0; n < 4; ++n)
        QVERIFY(needsMore(parseGreeting(greeting.first(n))));
    const auto okResult = parseGreeting(greeting);

    const auto *ok = parsed(okResult);
    QVERIFY(ok);
    QCOMPARE(ok->length, qsizetype(4));
    QCOMPARE(ok->message.methods, QList<Method>({Method::NoAuth, Method::UsernamePassword}));
}

void tst_Socks5Codec::greetingErrors()
{
    const auto v4Result = parseGreeting(fromHex("04 01 00"));

    const auto *v4 = failed(v4Result);
    QVERIFY(v4);
    QCOMPARE(v4->error.code, ErrorCode::SocksProtocolError);
    const auto r1 = parseGreeting(fromHex("05 00"));

    QVERIFY(failed(r1));
    const auto r2 = parseGreeting("GET / HTTP/1.1\r\n");

    QVERIFY(failed(r2));
}

void tst_Socks5Codec::credentials()
{
    const QByteArray msg = fromHex("01 | 04") + "user" + fromHex("06") + "secret";
    for (qsizetype n = 0; n < msg.size(); ++n)
        QVERIFY(needsMore(parseCredentials(msg.first(n))));
    const auto okResult = parseCredentials(msg);

    const auto *ok = parsed(okResult);
    QVERIFY(ok);
    QCOMPARE(ok->message.username, QByteArray("user"));
    QCOMPARE(ok->message.password, QByteArray("secret"));
    QCOMPARE(ok->length, msg.size());
    const auto r3 = parseCredentials(fromHex("05 00"));

    QVERIFY(failed(r3));
    const auto emptyResult = parseCredentials(fromHex("01 00 00"));

    const auto *empty = parsed(emptyResult);
    QVERIFY(empty && empty->message.username.isEmpty());
}

void tst_Socks5Codec::requests_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("command");
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::newRow("connect ipv4") << fromHex("05 01 00 | 01 c0 00 02 01 | 01 bb") << 1 << 1
                                  << QStringLiteral("192.0.2.1") << 443;
    QTest::newRow("connect domain")
        << fromHex("05 01 00 | 03 0b") + "example.com" + fromHex("00 50") << 1 << 3
        << QStringLiteral("example.com") << 80;
    QTest::newRow("udp ipv6") << fromHex("05 03 00 | 04 20 01 0d b8 00 00 00 00 00 00 00 00 00 "
                                         "00 00 01 | 00 35")
                              << 3 << 4 << QStringLiteral("2001:db8::1") << 53;
}

void tst_Socks5Codec::requests()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, command);
    QFETCH(int, type);
    QFETCH(QString, host);
    QFETCH(int, port);
    const auto okResult = parseRequest(QByteArray(bytes + "extra"));

    const auto *ok = parsed(okResult);
    QVERIFY(ok);
    QCOMPARE(ok->length, bytes.size());
    QCOMPARE(int(ok->message.command), command);
    QCOMPARE(int(ok->message.destination.type), type);
    QCOMPARE(ok->message.destination.hostString(), host);
    QCOMPARE(int(ok->message.destination.port), port);
}

void tst_Socks5Codec::requestErrors_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("reply");
    QTest::newRow("bind unsupported") << fromHex("05 02 00 01 7f 00 00 01 00 50") << 0x07;
    QTest::newRow("unknown command") << fromHex("05 09 00 01 7f 00 00 01 00 50") << 0x07;
    QTest::newRow("unknown atyp") << fromHex("05 01 00 07 7f 00 00 01 00 50") << 0x08;
    QTest::newRow("reserved set") << fromHex("05 01 01 01 7f 00 00 01 00 50") << 0x01;
    QTest::newRow("version 4") << fromHex("04 01 00 50 7f 00 00 01") << 0x01;
    QTest::newRow("empty domain") << fromHex("05 01 00 03 00 00 50") << 0x01;
    QTest::newRow("slash in domain")
        << fromHex("05 01 00 03 03") + "a/b" + fromHex("00 50") << 0x01;
    QTest::newRow("control char in domain")
        << fromHex("05 01 00 03 03") + QByteArray("a\nb") + fromHex("00 50") << 0x01;
}

void tst_Socks5Codec::requestErrors()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, reply);
    const auto badResult = parseRequest(bytes);

    const auto *bad = failed(badResult);
    QVERIFY(bad);
    QCOMPARE(bad->error.code, ErrorCode::SocksProtocolError);
    QCOMPARE(int(bad->reply), reply);
    QVERIFY(!bad->error.detail.isEmpty());
}

void tst_Socks5Codec::requestPartialAtEveryByte()
{
    const QByteArray msg = fromHex("05 01 00 | 03 0b") + "example.com" + fromHex("00 50");
    for (qsizetype n = 0; n < msg.size(); ++n)
        QVERIFY2(needsMore(parseRequest(msg.first(n))), qPrintable(QString::number(n)));
    const auto r4 = parseRequest(msg);

    QVERIFY(parsed(r4));
}

void tst_Socks5Codec::udpDatagrams()
{
    const QByteArray dgram = fromHex("00 00 | 00 | 01 7f 00 00 01 | 13 88") + "payload";
    const auto ok = parseUdpDatagram(dgram);
    QVERIFY(ok.ok());
    QCOMPARE(ok->fragment, quint8(0));
    QCOMPARE(ok->destination.hostString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(ok->destination.port, quint16(5000));
    QCOMPARE(ok->data.toByteArray(), QByteArray("payload"));

    const auto fragment = parseUdpDatagram(fromHex("00 00 | 01 | 01 7f 00 00 01 | 13 88 aa"));
    QVERIFY(fragment.ok());
    QCOMPARE(fragment->fragment, quint8(1)); // the caller counts and drops it

    QVERIFY(!parseUdpDatagram(fromHex("00 00 00 01 7f 00")).ok());
    QVERIFY(!parseUdpDatagram(fromHex("00 01 00 01 7f 00 00 01 00 50")).ok());
    QVERIFY(!parseUdpDatagram({}).ok());

    QByteArray header;
    const Address source = addressFromIp(fromHex("7f 00 00 01"), 5000);
    appendUdpHeader(header, source);
    QCOMPARE(header, fromHex("00 00 00 01 7f 00 00 01 13 88"));
    QCOMPARE(udpHeaderLength(source), header.size());
    Address domain;
    domain.type = AddressType::DomainName;
    domain.host = "a.example";
    domain.port = 53;
    header.clear();
    appendUdpHeader(header, domain);
    QCOMPARE(udpHeaderLength(domain), header.size());
    const auto back = parseUdpDatagram(header);
    QVERIFY(back.ok());
    QCOMPARE(back->destination, domain);
}

void tst_Socks5Codec::replies()
{
    QCOMPARE(methodSelection(Method::NoAuth), fromHex("05 00"));
    QCOMPARE(methodSelection(Method::NoAcceptable), fromHex("05 ff"));
    QCOMPARE(credentialsReply(true), fromHex("01 00"));
    QCOMPARE(credentialsReply(false), fromHex("01 01"));
    QCOMPARE(reply(Reply::Succeeded), fromHex("05 00 00 | 01 00 00 00 00 | 00 00"));
    QCOMPARE(reply(Reply::ConnectionRefused, addressFromIp(fromHex("7f 00 00 01"), 1080)),
             fromHex("05 05 00 | 01 7f 00 00 01 | 04 38"));
}

void tst_Socks5Codec::ipv6Text_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QString>("text");
    QTest::newRow("loopback") << fromHex("00000000000000000000000000000001")
                              << QStringLiteral("::1");
    QTest::newRow("unspecified") << QByteArray(16, '\0') << QStringLiteral("::");
    QTest::newRow("longest run") << fromHex("20010db8000000010000000000000001")
                                 << QStringLiteral("2001:db8:0:1::1");
    QTest::newRow("single zero group not compressed")
        << fromHex("20010db8000100010001000100000001") << QStringLiteral("2001:db8:1:1:1:1:0:1");
    QTest::newRow("first run on tie")
        << fromHex("20010000000000010000000000010001") << QStringLiteral("2001::1:0:0:1:1");
}

void tst_Socks5Codec::ipv6Text()
{
    QFETCH(QByteArray, raw);
    QFETCH(QString, text);
    QCOMPARE(addressFromIp(raw, 0).hostString(), text);
}

QTEST_APPLESS_MAIN(tst_Socks5Codec)
#include "tst_socks5_codec.moc"
