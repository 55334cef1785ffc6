// MASQUE URI templates for CONNECT-IP (RFC 9484, 3 and 4.6): the target and ipproto variables,
// strict validation, client expansion and the server-side match, with the RFC's examples.

#include "wire/MasqueUri.h"

#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::wire;

namespace {

UriTemplate parsed(const QString &text)
{
    auto t = UriTemplate::parse(text);
    if (!t)
        qFatal("template %s: %s", qPrintable(text), qPrintable(t.error().detail));
    return *t;
}

IpPrefix prefix(const char *text)
{
    return *IpPrefix::fromString(QString::fromLatin1(text));
}

} // namespace

Q_DECLARE_METATYPE(qmasque::ErrorCode)

class tst_WireMasqueIpUri : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void ipTargets_data();
    void ipTargets();
    void badIpTargets_data();
    void badIpTargets();
    void ipProtocols();
    void expandIp();
    void matchIp_data();
    void matchIp();
    void matchIpErrors_data();
    void matchIpErrors();
};

void tst_WireMasqueIpUri::ipTargets_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("formatted");
    QTest::newRow("any") << "*" << int(IpTarget::Kind::Any) << "*";
    QTest::newRow("v4 prefix") << "192.0.2.0/24" << int(IpTarget::Kind::Prefix) << "192.0.2.0/24";
    QTest::newRow("v4 host") << "192.0.2.1" << int(IpTarget::Kind::Prefix) << "192.0.2.1";
    QTest::newRow("v4 /32") << "192.0.2.1/32" << int(IpTarget::Kind::Prefix) << "192.0.2.1";
    QTest::newRow("v4 /0") << "0.0.0.0/0" << int(IpTarget::Kind::Prefix) << "0.0.0.0/0";
    QTest::newRow("v6 prefix") << "2001:db8::/32" << int(IpTarget::Kind::Prefix) << "2001:db8::/32";
    QTest::newRow("v6 host") << "2001:DB8::42" << int(IpTarget::Kind::Prefix) << "2001:db8::42";
    QTest::newRow("name") << "Target.Example.com" << int(IpTarget::Kind::Name)
                          << "target.example.com";
}

void tst_WireMasqueIpUri::ipTargets()
{
    QFETCH(QString, text);
    QFETCH(int, kind);
    QFETCH(QString, formatted);
    const auto t = parseIpTarget(text);
    QVERIFY(t.ok());
    QCOMPARE(int(t->kind), kind);
    QCOMPARE(t->toString(), formatted);
    QCOMPARE(parseIpTarget(formatted).value(), *t);
}

void tst_WireMasqueIpUri::badIpTargets_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("empty") << "";
    QTest::newRow("host bits") << "192.0.2.1/24";
    QTest::newRow("v6 host bits") << "2001:db8::1/32";
    QTest::newRow("v4 /33") << "192.0.2.0/33";
    QTest::newRow("v6 /129") << "2001:db8::/129";
    QTest::newRow("leading zero length") << "192.0.2.0/024";
    QTest::newRow("v4 3-digit length") << "192.0.2.0/100";
    QTest::newRow("empty length") << "192.0.2.0/";
    QTest::newRow("no address") << "/24";
    QTest::newRow("zone id") << "fe80::1%eth0";
    QTest::newRow("brackets") << "[2001:db8::1]";
    QTest::newRow("double star") << "**";
    QTest::newRow("encoded star") << "%2A";
    QTest::newRow("short ipv4") << "127.1";
    QTest::newRow("name with prefix") << "example.com/24";
    QTest::newRow("underscore") << "a_b.example";
}

void tst_WireMasqueIpUri::badIpTargets()
{
    QFETCH(QString, text);
    const auto t = parseIpTarget(text);
    QVERIFY(!t.ok());
    QCOMPARE(t.error().code, ErrorCode::BadTarget);
}

void tst_WireMasqueIpUri::ipProtocols()
{
    QCOMPARE(parseIpProtocol(u"*").value(), std::optional<quint8>());
    QCOMPARE(parseIpProtocol(u"0").value(), std::optional<quint8>(0));
    QCOMPARE(parseIpProtocol(u"17").value(), std::optional<quint8>(17));
    QCOMPARE(parseIpProtocol(u"255").value(), std::optional<quint8>(255));
    for (const char *bad : {"256", "017", "", "-1", "1.5", "**", "%2A", "1000", "x"}) {
        const auto p = parseIpProtocol(QString::fromLatin1(bad));
        QVERIFY2(!p.ok(), bad);
        QCOMPARE(p.error().code, ErrorCode::BadIpProto);
    }
    QCOMPARE(formatIpProtocol(std::nullopt), QStringLiteral("*"));
    QCOMPARE(formatIpProtocol(58), QStringLiteral("58"));
}

void tst_WireMasqueIpUri::expandIp()
{
    const UriTemplate ip = parsed(defaultTemplate(TunnelProtocol::Ip, u"example.org"));
    // RFC 6570 encodes "*" as %2A; servers decode it back (RFC 9484, 4.1).
    QCOMPARE(expandIpTemplate(ip, IpScope{}).value(),
             QStringLiteral("https://example.org/.well-known/masque/ip/%2A/%2A/"));
    const IpScope scoped{IpTarget::fromPrefix(prefix("2001:db8::/32")), 17};
    QCOMPARE(expandIpTemplate(ip, scoped).value(),
             QStringLiteral("https://example.org/.well-known/masque/ip/2001%3Adb8%3A%3A%2F32/17/"));
    const UriTemplate query =
        parsed(QStringLiteral("https://proxy.example.org:4443/masque/ip{?target,ipproto}"));
    QCOMPARE(expandIpTemplate(query, IpScope{IpTarget::fromName(QStringLiteral("a.example")), {}})
                 .value(),
             QStringLiteral("https://proxy.example.org:4443/masque/ip?target=a.example&ipproto="
                            "%2A"));
    const UriTemplate none = parsed(QStringLiteral("https://masque.example.org/?user=bob"));
    QCOMPARE(expandIpTemplate(none, scoped).value(),
             QStringLiteral("https://masque.example.org/?user=bob"));
    const IpScope bad{IpTarget::fromPrefix(IpPrefix{prefix("10.0.0.1/32").address, 8}), {}};
    QCOMPARE(expandIpTemplate(ip, bad).error().code, ErrorCode::BadTarget);
}

void tst_WireMasqueIpUri::matchIp_data()
{
    QTest::addColumn<QString>("templateText");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("scopeTarget");
    QTest::addColumn<QString>("scopeProtocol");
    const QString ip = defaultTemplatePath(TunnelProtocol::Ip);
    // RFC 9484, 4.4 / 4.2: the request examples.
    QTest::newRow("rfc9484 h2/h3") << ip << "/.well-known/masque/ip/*/*/"
                                   << "*"
                                   << "*";
    QTest::newRow("rfc9484 h1") << ip << "https://example.org/.well-known/masque/ip/*/*/"
                                << "*"
                                << "*";
    QTest::newRow("encoded wildcards") << ip << "/.well-known/masque/ip/%2A/%2a/"
                                       << "*"
                                       << "*";
    // RFC 9484, 4.6: prefixes with a percent-encoded slash, colons encoded.
    QTest::newRow("v4 prefix") << ip << "/.well-known/masque/ip/192.0.2.0%2F24/17/"
                               << "192.0.2.0/24"
                               << "17";
    QTest::newRow("v6 literal") << ip << "/.well-known/masque/ip/2001%3Adb8%3A%3A42/58/"
                                << "2001:db8::42"
                                << "58";
    QTest::newRow("v6 prefix") << ip << "/.well-known/masque/ip/2001%3Adb8%3A%3A%2F32/*/"
                               << "2001:db8::/32"
                               << "*";
    QTest::newRow("name") << ip << "/.well-known/masque/ip/target.example.com/6/"
                          << "target.example.com"
                          << "6";
    QTest::newRow("query form") << "https://proxy.example.org:4443/masque/ip?t={target}&i="
                                   "{ipproto}"
                                << "/masque/ip?t=192.0.2.1&i=0"
                                << "192.0.2.1"
                                << "0";
    QTest::newRow("form query, both absent") << "https://proxy.example.org:4443/masque/ip{?target,"
                                                "ipproto}"
                                             << "/masque/ip"
                                             << "*"
                                             << "*";
    QTest::newRow("form query, one") << "/masque/ip{?target,ipproto}"
                                     << "/masque/ip?ipproto=17"
                                     << "*"
                                     << "17";
    QTest::newRow("no variables") << "https://masque.example.org/?user=bob"
                                  << "/?user=bob"
                                  << "*"
                                  << "*";
}

void tst_WireMasqueIpUri::matchIp()
{
    QFETCH(QString, templateText);
    QFETCH(QString, target);
    QFETCH(QString, scopeTarget);
    QFETCH(QString, scopeProtocol);
    const auto scope = matchIpRequest(parsed(templateText), target);
    QVERIFY2(scope.ok(), qPrintable(scope.ok() ? QString() : scope.error().detail));
    QCOMPARE(scope->target.toString(), scopeTarget);
    QCOMPARE(formatIpProtocol(scope->ipProtocol), scopeProtocol);
}

void tst_WireMasqueIpUri::matchIpErrors_data()
{
    QTest::addColumn<QString>("target");
    QTest::addColumn<ErrorCode>("code");
    QTest::newRow("double decoding") << "/.well-known/masque/ip/%252A/*/" << ErrorCode::BadTarget;
    QTest::newRow("raw slash prefix")
        << "/.well-known/masque/ip/192.0.2.0/24/*/" << ErrorCode::BadPath;
    QTest::newRow("host bits") << "/.well-known/masque/ip/192.0.2.1%2F24/*/"
                               << ErrorCode::BadTarget;
    QTest::newRow("zone id") << "/.well-known/masque/ip/fe80%3A%3A1%25eth0/*/"
                             << ErrorCode::BadTarget;
    QTest::newRow("ipproto 256") << "/.well-known/masque/ip/*/256/" << ErrorCode::BadIpProto;
    QTest::newRow("ipproto leading zero")
        << "/.well-known/masque/ip/*/06/" << ErrorCode::BadIpProto;
    QTest::newRow("ipproto double encoded")
        << "/.well-known/masque/ip/*/%252A/" << ErrorCode::BadIpProto;
    // RFC 9484, 3: a target or ipproto in the template must not be empty.
    QTest::newRow("empty target") << "/.well-known/masque/ip//*/" << ErrorCode::BadTarget;
    QTest::newRow("empty ipproto") << "/.well-known/masque/ip/*//" << ErrorCode::BadIpProto;
}

void tst_WireMasqueIpUri::matchIpErrors()
{
    QFETCH(QString, target);
    QFETCH(ErrorCode, code);
    const auto scope = matchIpRequest(parsed(defaultTemplatePath(TunnelProtocol::Ip)), target);
    QVERIFY(!scope.ok());
    QCOMPARE(scope.error().code, code);
}

QTEST_APPLESS_MAIN(tst_WireMasqueIpUri)
#include "tst_wire_masqueipuri.moc"
