// MASQUE URI templates: the defaults, the RFC 9298 / RFC 9484 template rules, and CONNECT-UDP /
// CONNECT-TCP targets (strict validation, client expansion, server-side match) with the RFCs'
// examples as vectors. CONNECT-IP targets: tst_wire_masqueipuri.cpp.

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

} // namespace

Q_DECLARE_METATYPE(qmasque::ErrorCode)

class tst_WireMasqueUri : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaults();
    void validTemplates_data();
    void validTemplates();
    void invalidTemplates_data();
    void invalidTemplates();
    void hostnames_data();
    void hostnames();
    void hostTargets_data();
    void hostTargets();
    void badHostTargets_data();
    void badHostTargets();
    void expandHost();
    void matchHost_data();
    void matchHost();
    void matchHostErrors_data();
    void matchHostErrors();
    void hostRoundTrip();
    void splitUri();
};

void tst_WireMasqueUri::defaults()
{
    QCOMPARE(defaultTemplatePath(TunnelProtocol::Udp),
             QStringLiteral("/.well-known/masque/udp/{target_host}/{target_port}/"));
    QCOMPARE(defaultTemplatePath(TunnelProtocol::Tcp),
             QStringLiteral("/.well-known/masque/tcp/{target_host}/{target_port}/"));
    QCOMPARE(defaultTemplatePath(TunnelProtocol::Ip),
             QStringLiteral("/.well-known/masque/ip/{target}/{ipproto}/"));
    QCOMPARE(defaultTemplate(TunnelProtocol::Udp, u"proxy.example:4443"),
             QStringLiteral("https://proxy.example:4443/.well-known/masque/udp/{target_host}/"
                            "{target_port}/"));
    QCOMPARE(formatAuthority(u"2001:db8::1", 443), QStringLiteral("[2001:db8::1]:443"));
    QCOMPARE(formatAuthority(u"example.org", 8443), QStringLiteral("example.org:8443"));
    for (const TunnelProtocol p : {TunnelProtocol::Udp, TunnelProtocol::Tcp, TunnelProtocol::Ip}) {
        QVERIFY(validateMasqueTemplate(parsed(defaultTemplate(p, u"example.org")), p));
        QVERIFY(validateMasqueTemplate(parsed(defaultTemplatePath(p)), p, false));
    }
}

void tst_WireMasqueUri::validTemplates_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<TunnelProtocol>("protocol");
    // RFC 9298, 2.
    QTest::newRow("9298 well-known") << "https://example.org/.well-known/masque/udp/{target_host}/"
                                        "{target_port}/"
                                     << TunnelProtocol::Udp;
    QTest::newRow("9298 query") << "https://proxy.example.org:4443/masque?h={target_host}&p="
                                   "{target_port}"
                                << TunnelProtocol::Udp;
    QTest::newRow("9298 form query") << "https://proxy.example.org:4443/masque{?target_host,"
                                        "target_port}"
                                     << TunnelProtocol::Udp;
    // RFC 9484, 3.
    QTest::newRow("9484 well-known") << "https://example.org/.well-known/masque/ip/{target}/"
                                        "{ipproto}/"
                                     << TunnelProtocol::Ip;
    QTest::newRow("9484 query") << "https://proxy.example.org:4443/masque/ip?t={target}&i="
                                   "{ipproto}"
                                << TunnelProtocol::Ip;
    QTest::newRow("9484 form query") << "https://proxy.example.org:4443/masque/ip{?target,"
                                        "ipproto}"
                                     << TunnelProtocol::Ip;
    QTest::newRow("9484 no variables")
        << "https://masque.example.org/?user=bob" << TunnelProtocol::Ip;
    QTest::newRow("tcp") << "https://p.example/tcp/{target_host}/{target_port}"
                         << TunnelProtocol::Tcp;
}

void tst_WireMasqueUri::validTemplates()
{
    QFETCH(QString, text);
    QFETCH(TunnelProtocol, protocol);
    const Status s = validateMasqueTemplate(parsed(text), protocol);
    QVERIFY2(s, qPrintable(s ? QString() : s.error().detail));
}

void tst_WireMasqueUri::invalidTemplates_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<TunnelProtocol>("protocol");
    QTest::addColumn<bool>("requireAbsolute");
    QTest::addColumn<ErrorCode>("code");
    const auto malformed = ErrorCode::MalformedTemplate;
    QTest::newRow("relative for a client") << "/.well-known/masque/udp/{target_host}/{target_port}/"
                                           << TunnelProtocol::Udp << true << malformed;
    QTest::newRow("server path without slash")
        << "masque/{target_host}/{target_port}" << TunnelProtocol::Udp << false << malformed;
    QTest::newRow("empty authority")
        << "https:///x/{target_host}/{target_port}" << TunnelProtocol::Udp << true << malformed;
    QTest::newRow("no path") << "https://example.org" << TunnelProtocol::Ip << true << malformed;
    QTest::newRow("query without path")
        << "https://example.org?t={target}" << TunnelProtocol::Ip << true << malformed;
    QTest::newRow("variable in authority")
        << "https://{target_host}/{target_port}" << TunnelProtocol::Udp << true << malformed;
    QTest::newRow("starts with a variable")
        << "{+base}/{target_host}/{target_port}" << TunnelProtocol::Udp << false << malformed;
    QTest::newRow("reserved operator")
        << "https://e.org/{+target_host}/{target_port}" << TunnelProtocol::Udp << true << malformed;
    QTest::newRow("fragment operator")
        << "https://e.org/x{#target}" << TunnelProtocol::Ip << true << malformed;
    QTest::newRow("label operator")
        << "https://e.org/x{.target}" << TunnelProtocol::Ip << true << malformed;
    QTest::newRow("path operator")
        << "https://e.org/x{/target_host,target_port}" << TunnelProtocol::Udp << true << malformed;
    QTest::newRow("path parameter operator")
        << "https://e.org/x{;target}" << TunnelProtocol::Ip << true << malformed;
    QTest::newRow("variable in fragment")
        << "https://e.org/ip#{target}" << TunnelProtocol::Ip << true << malformed;
    QTest::newRow("non-ascii") << QString::fromUtf8("https://e.org/caf\xc3\xa9/{target}/")
                               << TunnelProtocol::Ip << true << malformed;
    QTest::newRow("no target_port") << "https://e.org/{target_host}/" << TunnelProtocol::Udp << true
                                    << ErrorCode::MissingTemplateVariable;
    QTest::newRow("tcp no target_host") << "https://e.org/{target_port}/" << TunnelProtocol::Tcp
                                        << true << ErrorCode::MissingTemplateVariable;
}

void tst_WireMasqueUri::invalidTemplates()
{
    QFETCH(QString, text);
    QFETCH(TunnelProtocol, protocol);
    QFETCH(bool, requireAbsolute);
    QFETCH(ErrorCode, code);
    const Status s = validateMasqueTemplate(parsed(text), protocol, requireAbsolute);
    QVERIFY(!s);
    QCOMPARE(s.error().code, code);
}

void tst_WireMasqueUri::hostnames_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");
    QTest::newRow("simple") << "example.com" << true;
    QTest::newRow("single label") << "localhost" << true;
    QTest::newRow("digits inside") << "1e100.net" << true;
    QTest::newRow("punycode") << "xn--bcher-kva.example" << true;
    QTest::newRow("63-char label") << QString(63, u'a') + QStringLiteral(".com") << true;
    QTest::newRow("64-char label") << QString(64, u'a') + QStringLiteral(".com") << false;
    QTest::newRow("253 chars") << QString(QString(63, u'a') + u'.').repeated(3) + QString(61, u'b')
                               << true;
    QTest::newRow("254 chars") << QString(QString(63, u'a') + u'.').repeated(3) + QString(62, u'b')
                               << false;
    QTest::newRow("empty") << "" << false;
    QTest::newRow("empty label") << "a..b" << false;
    QTest::newRow("trailing dot") << "example.com." << false;
    QTest::newRow("leading hyphen") << "-a.com" << false;
    QTest::newRow("trailing hyphen") << "a-.com" << false;
    QTest::newRow("underscore") << "a_b.com" << false;
    QTest::newRow("space") << "a b.com" << false;
    QTest::newRow("all-numeric tld") << "example.123" << false;
    QTest::newRow("short ipv4") << "127.1" << false;
    QTest::newRow("number") << "2130706433" << false;
    QTest::newRow("hex ipv4") << "0x7f.0.0.1" << false;
    QTest::newRow("non-ascii") << QString::fromUtf8("b\xc3\xbc"
                                                    "cher.example")
                               << false;
}

void tst_WireMasqueUri::hostnames()
{
    QFETCH(QString, name);
    QFETCH(bool, valid);
    QCOMPARE(isValidHostname(name), valid);
}

void tst_WireMasqueUri::hostTargets_data()
{
    QTest::addColumn<QString>("host");
    QTest::addColumn<QString>("port");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("canonical");
    QTest::addColumn<int>("portValue");
    QTest::newRow("name") << "Example.COM"
                          << "443" << int(HostTarget::Kind::Name) << "example.com" << 443;
    QTest::newRow("ipv4") << "192.0.2.6"
                          << "1" << int(HostTarget::Kind::Ipv4) << "192.0.2.6" << 1;
    QTest::newRow("ipv6") << "2001:DB8:0::42"
                          << "65535" << int(HostTarget::Kind::Ipv6) << "2001:db8::42" << 65535;
}

void tst_WireMasqueUri::hostTargets()
{
    QFETCH(QString, host);
    QFETCH(QString, port);
    QFETCH(int, kind);
    QFETCH(QString, canonical);
    QFETCH(int, portValue);
    const auto t = parseHostTarget(host, port);
    QVERIFY(t.ok());
    QCOMPARE(int(t->kind), kind);
    QCOMPARE(t->host, canonical);
    QCOMPARE(int(t->port), portValue);
    QCOMPARE(t->address.isNull(), t->kind == HostTarget::Kind::Name);
}

void tst_WireMasqueUri::badHostTargets_data()
{
    QTest::addColumn<QString>("host");
    QTest::addColumn<QString>("port");
    QTest::addColumn<ErrorCode>("code");
    const auto badHost = ErrorCode::BadHost;
    const auto badPort = ErrorCode::BadPort;
    QTest::newRow("empty host") << ""
                                << "443" << badHost;
    QTest::newRow("brackets") << "[2001:db8::42]"
                              << "443" << badHost;
    QTest::newRow("zone id") << "fe80::1%eth0"
                             << "443" << badHost;
    QTest::newRow("encoded zone id") << "fe80::1%25eth0"
                                     << "443" << badHost;
    QTest::newRow("short ipv4") << "127.1"
                                << "443" << badHost;
    QTest::newRow("octal ipv4") << "010.0.0.1"
                                << "443" << badHost;
    QTest::newRow("ipv4 256") << "1.2.3.256"
                              << "443" << badHost;
    QTest::newRow("ipv4 port in host") << "1.2.3.4:80"
                                       << "443" << badHost;
    QTest::newRow("wildcard") << "*"
                              << "443" << badHost;
    QTest::newRow("slash") << "a/b"
                           << "443" << badHost;
    QTest::newRow("percent") << "%2A"
                             << "443" << badHost;
    QTest::newRow("underscore") << "a_b.example"
                                << "443" << badHost;
    QTest::newRow("control") << "a\nb"
                             << "443" << badHost;
    QTest::newRow("port 0") << "example.com"
                            << "0" << badPort;
    QTest::newRow("port 65536") << "example.com"
                                << "65536" << badPort;
    QTest::newRow("port leading zero") << "example.com"
                                       << "0443" << badPort;
    QTest::newRow("port sign") << "example.com"
                               << "+443" << badPort;
    QTest::newRow("port negative") << "example.com"
                                   << "-1" << badPort;
    QTest::newRow("port letters") << "example.com"
                                  << "44a" << badPort;
    QTest::newRow("port space") << "example.com"
                                << "443 " << badPort;
    QTest::newRow("port empty") << "example.com"
                                << "" << badPort;
    QTest::newRow("port six digits") << "example.com"
                                     << "100000" << badPort;
    QTest::newRow("port wildcard") << "example.com"
                                   << "*" << badPort;
}

void tst_WireMasqueUri::badHostTargets()
{
    QFETCH(QString, host);
    QFETCH(QString, port);
    QFETCH(ErrorCode, code);
    const auto t = parseHostTarget(host, port);
    QVERIFY(!t.ok());
    QCOMPARE(t.error().code, code);
    QVERIFY(!t.error().detail.isEmpty());
}

void tst_WireMasqueUri::expandHost()
{
    const UriTemplate udp = parsed(defaultTemplate(TunnelProtocol::Udp, u"example.org"));
    // RFC 9298, 3.4's request path.
    QCOMPARE(expandHostTemplate(udp, u"192.0.2.6", 443).value(),
             QStringLiteral("https://example.org/.well-known/masque/udp/192.0.2.6/443/"));
    // RFC 9298, 2: "2001:db8::42" is sent as "2001%3Adb8%3A%3A42"; brackets are accepted.
    QCOMPARE(expandHostTemplate(udp, u"2001:db8::42", 53).value(),
             QStringLiteral("https://example.org/.well-known/masque/udp/2001%3Adb8%3A%3A42/53/"));
    QCOMPARE(expandHostTemplate(udp, u"[2001:db8::42]", 53).value(),
             expandHostTemplate(udp, u"2001:db8::42", 53).value());
    QCOMPARE(expandHostTemplate(udp, u"Target.Example.com", 8080).value(),
             QStringLiteral("https://example.org/.well-known/masque/udp/target.example.com/"
                            "8080/"));
    const UriTemplate query =
        parsed(QStringLiteral("https://proxy.example.org:4443/masque{?target_host,target_port}"));
    QCOMPARE(expandHostTemplate(query, u"192.0.2.6", 443).value(),
             QStringLiteral("https://proxy.example.org:4443/masque?target_host=192.0.2.6&"
                            "target_port=443"));
    QCOMPARE(expandHostTemplate(udp, u"bad host", 1).error().code, ErrorCode::BadHost);
    QCOMPARE(expandHostTemplate(udp, u"a.example", 0).error().code, ErrorCode::BadPort);
    QCOMPARE(
        expandHostTemplate(parsed(QStringLiteral("https://e.org/{target_host}/")), u"a.example", 1)
            .error()
            .code,
        ErrorCode::MissingTemplateVariable);
}

void tst_WireMasqueUri::matchHost_data()
{
    QTest::addColumn<QString>("templateText");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    const QString udp = defaultTemplatePath(TunnelProtocol::Udp);
    QTest::newRow("rfc9298 example") << udp << "/.well-known/masque/udp/192.0.2.6/443/"
                                     << "192.0.2.6" << 443;
    QTest::newRow("rfc9298 ipv6") << udp << "/.well-known/masque/udp/2001%3Adb8%3A%3A42/443/"
                                  << "2001:db8::42" << 443;
    QTest::newRow("h1 absolute form") << udp
                                      << "https://example.org/.well-known/masque/udp/"
                                         "example.com/53/"
                                      << "example.com" << 53;
    QTest::newRow("query") << "https://proxy.example.org:4443/masque?h={target_host}&p="
                              "{target_port}"
                           << "/masque?h=example.com&p=443"
                           << "example.com" << 443;
    QTest::newRow("form query") << "https://proxy.example.org:4443/masque{?target_host,"
                                   "target_port}"
                                << "/masque?target_host=2001%3Adb8%3A%3A42&target_port=8443"
                                << "2001:db8::42" << 8443;
    // RFC 3986, 2.3: percent-encoded unreserved characters are the characters themselves.
    QTest::newRow("encoded digits") << udp << "/.well-known/masque/udp/example.com/%34%34%33/"
                                    << "example.com" << 443;
    QTest::newRow("tcp") << defaultTemplatePath(TunnelProtocol::Tcp)
                         << "/.well-known/masque/tcp/Example.ORG/80/"
                         << "example.org" << 80;
}

void tst_WireMasqueUri::matchHost()
{
    QFETCH(QString, templateText);
    QFETCH(QString, target);
    QFETCH(QString, host);
    QFETCH(int, port);
    const auto t = matchHostRequest(parsed(templateText), target);
    QVERIFY2(t.ok(), qPrintable(t.ok() ? QString() : t.error().detail));
    QCOMPARE(t->host, host);
    QCOMPARE(int(t->port), port);
}

void tst_WireMasqueUri::matchHostErrors_data()
{
    QTest::addColumn<QString>("templateText");
    QTest::addColumn<QString>("target");
    QTest::addColumn<ErrorCode>("code");
    const QString udp = defaultTemplatePath(TunnelProtocol::Udp);
    QTest::newRow("wrong path") << udp << "/.well-known/masque/ip/a/1/" << ErrorCode::BadPath;
    QTest::newRow("raw colons") << udp << "/.well-known/masque/udp/2001:db8::42/443/"
                                << ErrorCode::BadPath;
    QTest::newRow("double encoded colon") << udp
                                          << "/.well-known/masque/udp/2001%253Adb8%253A%253A42/"
                                             "443/"
                                          << ErrorCode::BadHost;
    QTest::newRow("double encoded star")
        << udp << "/.well-known/masque/udp/%252A/443/" << ErrorCode::BadHost;
    QTest::newRow("zone id") << udp << "/.well-known/masque/udp/fe80%3A%3A1%25eth0/443/"
                             << ErrorCode::BadHost;
    QTest::newRow("encoded brackets")
        << udp << "/.well-known/masque/udp/%5B%3A%3A1%5D/443/" << ErrorCode::BadHost;
    QTest::newRow("empty host") << udp << "/.well-known/masque/udp//443/" << ErrorCode::BadHost;
    QTest::newRow("empty port") << udp << "/.well-known/masque/udp/a.example//"
                                << ErrorCode::BadPort;
    QTest::newRow("bad port") << udp << "/.well-known/masque/udp/example.com/0/"
                              << ErrorCode::BadPort;
    QTest::newRow("missing port in query")
        << "/m{?target_host,target_port}"
        << "/m?target_host=a.example" << ErrorCode::MissingTemplateVariable;
}

void tst_WireMasqueUri::matchHostErrors()
{
    QFETCH(QString, templateText);
    QFETCH(QString, target);
    QFETCH(ErrorCode, code);
    const auto t = matchHostRequest(parsed(templateText), target);
    QVERIFY(!t.ok());
    QCOMPARE(t.error().code, code);
}

void tst_WireMasqueUri::hostRoundTrip()
{
    // What a client expands, the server matches back to the same target.
    const UriTemplate absolute = parsed(defaultTemplate(TunnelProtocol::Udp, u"proxy.example"));
    const UriTemplate serverRoute = parsed(defaultTemplatePath(TunnelProtocol::Udp));
    for (const char *host : {"example.com", "192.0.2.6", "2001:db8::42", "::ffff:192.0.2.1",
                             "::", "a-b.c-d.example"}) {
        for (const quint16 port : {quint16(1), quint16(443), quint16(65535)}) {
            const auto uri = expandHostTemplate(absolute, QString::fromLatin1(host), port);
            QVERIFY(uri.ok());
            const auto split = splitRequestUri(*uri);
            QVERIFY(split.ok());
            const auto matched = matchHostRequest(serverRoute, split->pathAndQuery);
            QVERIFY2(matched.ok(), host);
            QCOMPARE(matched->host, parseHostTarget(QString::fromLatin1(host), u"1")->host);
            QCOMPARE(matched->port, port);
        }
    }
}

void tst_WireMasqueUri::splitUri()
{
    const auto s = splitRequestUri(u"HTTPS://proxy.example:4443/masque?h=a&p=1");
    QVERIFY(s.ok());
    QCOMPARE(s->scheme, QStringLiteral("https"));
    QCOMPARE(s->authority, QStringLiteral("proxy.example:4443"));
    QCOMPARE(s->pathAndQuery, QStringLiteral("/masque?h=a&p=1"));
    const auto v6 = splitRequestUri(u"https://[2001:db8::1]:443/x/");
    QCOMPARE(v6->authority, QStringLiteral("[2001:db8::1]:443"));
    for (const char *bad : {"/relative", "https://", "https:///x", "https://host", "https://host?q",
                            "1http://h/x", "https://h/x#frag"}) {
        const auto r = splitRequestUri(QString::fromLatin1(bad));
        QVERIFY2(!r.ok(), bad);
        QCOMPARE(r.error().code, ErrorCode::MalformedTemplate);
    }
}

QTEST_APPLESS_MAIN(tst_WireMasqueUri)
#include "tst_wire_masqueuri.moc"
