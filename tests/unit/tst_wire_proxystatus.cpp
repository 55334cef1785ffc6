// The Proxy-Status header field (RFC 9209): parsing with the RFC's examples, typed refusals of
// malformed values, and the generator a refusing proxy uses.

#include "wire/ProxyStatus.h"

#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::wire;

class tst_WireProxyStatus : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void twoIntermediaries();
    void rfcParameterExamples();
    void dnsError();
    void otherParametersAreKept();
    void lenientButTypedValues();
    void malformed_data();
    void malformed();
    void buildForRefusals();
    void generatorEscapes();
    void formatRoundTrip();
};

void tst_WireProxyStatus::twoIntermediaries()
{
    // RFC 9209, 2: the response passed through two intermediaries.
    const auto entries = parseProxyStatus("revproxy1.example.net, ExampleCDN");
    QVERIFY(entries.ok());
    QCOMPARE(entries->size(), 2);
    QCOMPARE(entries->at(0).proxy, QStringLiteral("revproxy1.example.net"));
    QCOMPARE(entries->at(1).proxy, QStringLiteral("ExampleCDN"));
    QVERIFY(entries->at(0).error.isEmpty());
    QVERIFY(parseProxyStatus("")->isEmpty());
}

void tst_WireProxyStatus::rfcParameterExamples()
{
    // RFC 9209, 2.1.1 (error), 2.1.2 (next-hop), 2.1.3 (next-protocol), 2.1.4 (received-status),
    // 2.1.5 (details).
    const auto error = parseProxyStatus("ExampleCDN; error=connection_timeout");
    QCOMPARE(error->at(0).error, QStringLiteral("connection_timeout"));

    const auto nextHop = parseProxyStatus("cdn.example.org; next-hop=backend.example.org:8001");
    QCOMPARE(nextHop->at(0).proxy, QStringLiteral("cdn.example.org"));
    QCOMPARE(nextHop->at(0).nextHop, QStringLiteral("backend.example.org:8001"));

    const auto protocol = parseProxyStatus("\"proxy.example.org\"; next-protocol=h2");
    QCOMPARE(protocol->at(0).proxy, QStringLiteral("proxy.example.org"));
    const SfBareItem *nextProtocol = sfParameter(protocol->at(0).otherParameters, u"next-protocol");
    QVERIFY(nextProtocol);
    QCOMPARE(nextProtocol->text, QStringLiteral("h2"));

    const auto received = parseProxyStatus("ExampleCDN; received-status=200");
    QCOMPARE(received->at(0).receivedStatus, std::optional<qint64>(200));

    const auto details = parseProxyStatus("ExampleCDN; error=http_protocol_error; "
                                          "details=\"Malformed response header: space before "
                                          "colon\"");
    QVERIFY(details.ok());
    QCOMPARE(details->at(0).error, QStringLiteral("http_protocol_error"));
    QCOMPARE(details->at(0).details,
             QStringLiteral("Malformed response header: space before colon"));
}

void tst_WireProxyStatus::dnsError()
{
    // RFC 9209, 2.3.2: rcode is a String, info-code an Integer.
    const auto entries =
        parseProxyStatus("ExampleCDN; error=dns_error; rcode=\"NXDOMAIN\"; info-code=23");
    QVERIFY(entries.ok());
    const ProxyStatusEntry &e = entries->at(0);
    QCOMPARE(e.error, QStringLiteral("dns_error"));
    QCOMPARE(e.rcode, QStringLiteral("NXDOMAIN"));
    QCOMPARE(e.infoCode, std::optional<qint64>(23));
    QVERIFY(e.otherParameters.isEmpty());
    // Senders that use a token or the numeric RCODE are understood too.
    QCOMPARE(parseProxyStatus("p; error=dns_error; rcode=SERVFAIL")->at(0).rcode,
             QStringLiteral("SERVFAIL"));
    QCOMPARE(parseProxyStatus("p; error=dns_error; rcode=3")->at(0).rcode, QStringLiteral("3"));
}

void tst_WireProxyStatus::otherParametersAreKept()
{
    const auto entries = parseProxyStatus(
        "p; error=tls_alert_received; alert-id=40; alert-message=handshake_failure; x-flag");
    QVERIFY(entries.ok());
    const SfParameters &others = entries->at(0).otherParameters;
    QCOMPARE(others.size(), 3);
    QCOMPARE(others[0].first, QStringLiteral("alert-id"));
    QCOMPARE(others[0].second.integer, qint64(40));
    QCOMPARE(others[1].second.text, QStringLiteral("handshake_failure"));
    QVERIFY(others[2].second.isBoolean());
}

void tst_WireProxyStatus::lenientButTypedValues()
{
    // A quoted error type or a token details value still means the same thing.
    const auto e = parseProxyStatus("p; error=\"dns_timeout\"; details=short");
    QVERIFY(e.ok());
    QCOMPARE(e->at(0).error, QStringLiteral("dns_timeout"));
    QCOMPARE(e->at(0).details, QStringLiteral("short"));
}

void tst_WireProxyStatus::malformed_data()
{
    QTest::addColumn<QByteArray>("field");
    QTest::newRow("integer member") << QByteArray("42");
    QTest::newRow("boolean member") << QByteArray("?1");
    QTest::newRow("inner list member") << QByteArray("(a b)");
    QTest::newRow("error integer") << QByteArray("p; error=5");
    QTest::newRow("details boolean") << QByteArray("p; details");
    QTest::newRow("received-status string") << QByteArray("p; received-status=\"200\"");
    QTest::newRow("info-code token") << QByteArray("p; error=dns_error; info-code=x");
    QTest::newRow("rcode boolean") << QByteArray("p; rcode=?1");
    QTest::newRow("next-hop integer") << QByteArray("p; next-hop=8001");
    QTest::newRow("syntax: trailing ;") << QByteArray("p;");
    QTest::newRow("syntax: trailing ,") << QByteArray("p, ");
    QTest::newRow("syntax: upper-case key") << QByteArray("p; Error=x");
    QTest::newRow("syntax: unterminated") << QByteArray("p; details=\"abc");
    QTest::newRow("syntax: non-ascii") << QByteArray("p; details=\"\xc3\xa9\"");
}

void tst_WireProxyStatus::malformed()
{
    QFETCH(QByteArray, field);
    const auto entries = parseProxyStatus(field);
    QVERIFY(!entries.ok());
    QCOMPARE(entries.error().code, ErrorCode::MalformedProxyStatus);
    QVERIFY(!entries.error().detail.isEmpty());
}

void tst_WireProxyStatus::buildForRefusals()
{
    QCOMPARE(buildProxyStatus(u"qmasque", u"destination_ip_prohibited"),
             QByteArray("qmasque; error=destination_ip_prohibited"));
    QCOMPARE(buildProxyStatus(u"qmasque", u"dns_error", u"no such host: a.example"),
             QByteArray("qmasque; error=dns_error; details=\"no such host: a.example\""));
    // A name that is not a token is sent as a String.
    QCOMPARE(buildProxyStatus(u"my proxy", u"http_protocol_error"),
             QByteArray("\"my proxy\"; error=http_protocol_error"));
}

void tst_WireProxyStatus::generatorEscapes()
{
    const QString details = QString::fromUtf8("bad \"path\" \\ caf\xc3\xa9\r\n");
    const QByteArray value = buildProxyStatus(u"qmasque", u"http_request_error", details);
    QCOMPARE(value,
             QByteArray(R"(qmasque; error=http_request_error; details="bad \"path\" \\ caf???")"));
    const auto parsed = parseProxyStatus(value);
    QVERIFY(parsed.ok());
    QCOMPARE(parsed->at(0).details, QStringLiteral(R"(bad "path" \ caf???)"));
}

void tst_WireProxyStatus::formatRoundTrip()
{
    ProxyStatusEntry first;
    first.proxy = QStringLiteral("origin-side.example");
    first.receivedStatus = 503;
    ProxyStatusEntry second;
    second.proxy = QStringLiteral("qmasque");
    second.error = QStringLiteral("dns_error");
    second.details = QStringLiteral("resolver said \"no\"");
    second.nextHop = QStringLiteral("10.0.0.1:53");
    second.rcode = QStringLiteral("NXDOMAIN");
    second.infoCode = 0;
    second.otherParameters = {{QStringLiteral("x-retry"), SfBareItem::fromBoolean(true)},
                              {QStringLiteral("x-count"), SfBareItem::fromInteger(3)},
                              {QStringLiteral("Bad Key"), SfBareItem::fromInteger(1)}};
    const QByteArray value = formatProxyStatus({first, second});
    const auto parsed = parseProxyStatus(value);
    QVERIFY2(parsed.ok(), value.constData());
    second.otherParameters.removeLast(); // invalid keys are not sent
    QCOMPARE(*parsed, (QList<ProxyStatusEntry>{first, second}));
}

QTEST_APPLESS_MAIN(tst_WireProxyStatus)
#include "tst_wire_proxystatus.moc"
