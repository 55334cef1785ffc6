// Tunnel requests and responses without a network: the Request built for every protocol (the
// transports map it to their wire form; tst_tunnel_transports checks those on real peers), the
// profile's headers, credentials and templates, and every response validation error.

#include "tunnel/TunnelRequest.h"

#include <QtTest/QTest>

using namespace qmasque;

namespace {

Profile profileFor(const QString &proxy = QStringLiteral("https://proxy.example:8443"))
{
    Profile profile;
    profile.proxy = proxy;
    return profile;
}

TunnelRequestSettings settingsFor(const Profile &profile)
{
    auto settings = TunnelRequestSettings::fromProfile(profile);
    if (!settings)
        qFatal("settings: %s", qPrintable(settings.error().toString()));
    return *settings;
}

Response response(int status, HeaderList headers = {})
{
    return Response{status, std::move(headers)};
}

const HeaderList kCapsuleProtocol = {{"capsule-protocol", "?1"}};

} // namespace

class tst_TunnelRequest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void udpRequest();
    void ipRequest();
    void tcpClassicRequest();
    void tcpTemplateRequest();
    void ipv6Targets();
    void extraHeadersAndAuth();
    void profileErrors_data();
    void profileErrors();
    void customTemplates();
    void badTargets();
    void proxyUrls_data();
    void proxyUrls();
    void validation_data();
    void validation();
    void refusalCarriesProxyStatus();
    void refusalWithoutProxyStatus();
};

void tst_TunnelRequest::udpRequest()
{
    const auto settings = settingsFor(profileFor());
    auto request = buildTunnelRequest(settings, TunnelTarget::udp(u"dns.example"_qs, 53));
    QVERIFY(request);
    // RFC 9298, 3: :authority is the proxy, the target lives only in the path.
    QCOMPARE(request->method, QByteArray("CONNECT"));
    QCOMPARE(request->protocol, QByteArray("connect-udp"));
    QCOMPARE(request->scheme, QByteArray("https"));
    QCOMPARE(request->authority, QByteArray("proxy.example:8443"));
    QCOMPARE(request->path, QByteArray("/.well-known/masque/udp/dns.example/53/"));
    QCOMPARE(request->headers, HeaderList({{"capsule-protocol", "?1"}}));
    QVERIFY(request->isExtendedConnect());
    QVERIFY(!request->endStream);
}

void tst_TunnelRequest::ipRequest()
{
    const auto settings = settingsFor(profileFor());
    wire::IpScope scope;
    scope.target = wire::IpTarget::fromPrefix(*wire::IpPrefix::fromString(u"10.0.0.0/8"));
    scope.ipProtocol = 17;
    auto request = buildTunnelRequest(settings, TunnelTarget::ip(scope));
    QVERIFY(request);
    QCOMPARE(request->protocol, QByteArray("connect-ip"));
    QCOMPARE(request->authority, QByteArray("proxy.example:8443"));
    QCOMPARE(request->path, QByteArray("/.well-known/masque/ip/10.0.0.0%2F8/17/"));
    QCOMPARE(request->headers, HeaderList({{"capsule-protocol", "?1"}}));

    auto any = buildTunnelRequest(settings, TunnelTarget::ip(wire::IpScope{}));
    QVERIFY(any);
    QCOMPARE(any->path, QByteArray("/.well-known/masque/ip/%2A/%2A/"));
    QCOMPARE(TunnelTarget::ip(scope).toString(), u"10.0.0.0/8 ipproto 17"_qs);
}

void tst_TunnelRequest::tcpClassicRequest()
{
    const auto settings = settingsFor(profileFor());
    auto request = buildTunnelRequest(settings, TunnelTarget::tcp(u"Example.COM"_qs, 443));
    QVERIFY(request);
    // RFC 9110, 9.3.6: authority-form target; no :scheme, :path or capsule-protocol.
    QCOMPARE(request->method, QByteArray("CONNECT"));
    QVERIFY(request->protocol.isEmpty());
    QVERIFY(request->scheme.isEmpty());
    QVERIFY(request->path.isEmpty());
    QCOMPARE(request->authority, QByteArray("example.com:443"));
    QVERIFY(request->headers.isEmpty());
    QVERIFY(request->isClassicConnect());
}

void tst_TunnelRequest::tcpTemplateRequest()
{
    Profile profile = profileFor();
    profile.tcpMode = TcpMode::Template;
    auto request =
        buildTunnelRequest(settingsFor(profile), TunnelTarget::tcp(u"example.com"_qs, 80));
    QVERIFY(request);
    QCOMPARE(request->protocol, QByteArray("connect-tcp"));
    QCOMPARE(request->authority, QByteArray("proxy.example:8443"));
    QCOMPARE(request->path, QByteArray("/.well-known/masque/tcp/example.com/80/"));
    QVERIFY(request->headers.isEmpty()); // never capsule-protocol on TCP
}

void tst_TunnelRequest::ipv6Targets()
{
    const auto settings = settingsFor(profileFor(u"https://[2001:db8::1]:443"_qs));
    QCOMPARE(settings.proxyAuthority(), u"[2001:db8::1]:443"_qs);
    auto udp = buildTunnelRequest(settings, TunnelTarget::udp(u"[2001:db8::53]"_qs, 53));
    QVERIFY(udp);
    QCOMPARE(udp->authority, QByteArray("[2001:db8::1]:443"));
    QCOMPARE(udp->path, QByteArray("/.well-known/masque/udp/2001%3Adb8%3A%3A53/53/"));
    auto tcp = buildTunnelRequest(settings, TunnelTarget::tcp(u"2001:db8::80"_qs, 80));
    QVERIFY(tcp);
    QCOMPARE(tcp->authority, QByteArray("[2001:db8::80]:80"));
    QCOMPARE(TunnelTarget::tcp(u"2001:db8::80"_qs, 80).toString(), u"[2001:db8::80]:80"_qs);
}

void tst_TunnelRequest::extraHeadersAndAuth()
{
    Profile profile = profileFor();
    profile.proxyAuth = u"basic:alice:s3cret:x"_qs;
    profile.headers = {u"X-Trace: abc "_qs, u"User-Agent:qmasque-test"_qs};
    const auto settings = settingsFor(profile);
    // RFC 7617: base64("alice:s3cret:x"); the user's headers follow, lower case, trimmed.
    const HeaderList extra = {{"proxy-authorization", "Basic YWxpY2U6czNjcmV0Ong="},
                              {"x-trace", "abc"},
                              {"user-agent", "qmasque-test"}};
    QCOMPARE(settings.extraHeaders, extra);

    auto udp = buildTunnelRequest(settings, TunnelTarget::udp(u"a.example"_qs, 1));
    QVERIFY(udp);
    QCOMPARE(udp->headers, HeaderList({{"capsule-protocol", "?1"}}) + extra);
    auto tcp = buildTunnelRequest(settings, TunnelTarget::tcp(u"a.example"_qs, 1));
    QVERIFY(tcp);
    QCOMPARE(tcp->headers, extra);

    profile.proxyAuth = u"bearer:tok.en"_qs;
    profile.headers.clear();
    QCOMPARE(settingsFor(profile).extraHeaders,
             HeaderList({{"proxy-authorization", "Bearer tok.en"}}));
}

void tst_TunnelRequest::profileErrors_data()
{
    QTest::addColumn<QString>("proxyAuth");
    QTest::addColumn<QString>("header");
    QTest::addColumn<QString>("udpTemplate");
    QTest::addColumn<QString>("error");

    QTest::newRow("host header") << QString() << u"Host: x"_qs << QString() << "reserved_header";
    QTest::newRow("pseudo") << QString() << u":path: /x"_qs << QString() << "reserved_header";
    QTest::newRow("capsule-protocol")
        << QString() << u"Capsule-Protocol: ?0"_qs << QString() << "reserved_header";
    QTest::newRow("content-length")
        << QString() << u"content-length: 3"_qs << QString() << "reserved_header";
    QTest::newRow("auth twice") << u"bearer:t"_qs << u"Proxy-Authorization: Basic x"_qs << QString()
                                << "reserved_header";
    QTest::newRow("crlf") << QString() << u"X-A: b\r\nX-B: c"_qs << QString() << "header_injection";
    QTest::newRow("no colon") << QString() << u"X-A"_qs << QString() << "invalid_config";
    QTest::newRow("bad auth") << u"digest:x"_qs << QString() << QString() << "invalid_config";
    QTest::newRow("basic no pass")
        << u"basic:alice"_qs << QString() << QString() << "invalid_config";
    QTest::newRow("template lacks port")
        << QString() << QString() << u"/masque/{target_host}/"_qs << "invalid_config";
    QTest::newRow("template operator")
        << QString() << QString() << u"/m/{+target_host}/{target_port}/"_qs << "invalid_config";
}

void tst_TunnelRequest::profileErrors()
{
    QFETCH(QString, proxyAuth);
    QFETCH(QString, header);
    QFETCH(QString, udpTemplate);
    QFETCH(QString, error);
    Profile profile = profileFor();
    profile.proxyAuth = proxyAuth;
    if (!header.isEmpty())
        profile.headers = {header};
    profile.udpTemplate = udpTemplate;
    auto settings = TunnelRequestSettings::fromProfile(profile);
    QVERIFY(!settings);
    QCOMPARE(QString::fromLatin1(settings.error().name()), error);
}

void tst_TunnelRequest::customTemplates()
{
    Profile profile = profileFor();
    profile.udpTemplate = u"/udp?h={target_host}&p={target_port}"_qs;
    profile.ipTemplate = u"https://other.example:9443/ip{?target,ipproto}"_qs;
    const auto settings = settingsFor(profile);
    auto udp = buildTunnelRequest(settings, TunnelTarget::udp(u"a.example"_qs, 5353));
    QVERIFY(udp);
    QCOMPARE(udp->authority, QByteArray("proxy.example:8443"));
    QCOMPARE(udp->path, QByteArray("/udp?h=a.example&p=5353"));
    wire::IpScope scope;
    scope.target = wire::IpTarget::fromName(u"vpn.example"_qs);
    auto ip = buildTunnelRequest(settings, TunnelTarget::ip(scope));
    QVERIFY(ip);
    // An absolute IP template names its own authority (RFC 9484, 3).
    QCOMPARE(ip->authority, QByteArray("other.example:9443"));
    QCOMPARE(ip->path, QByteArray("/ip?target=vpn.example&ipproto=%2A"));
}

void tst_TunnelRequest::badTargets()
{
    const auto settings = settingsFor(profileFor());
    auto badHost = buildTunnelRequest(settings, TunnelTarget::udp(u"bad host"_qs, 53));
    QVERIFY(!badHost);
    QCOMPARE(badHost.error().code, ErrorCode::BadHost);
    auto badPort = buildTunnelRequest(settings, TunnelTarget::tcp(u"a.example"_qs, 0));
    QVERIFY(!badPort);
    QCOMPARE(badPort.error().code, ErrorCode::BadPort);
    wire::IpScope scope;
    scope.target =
        wire::IpTarget::fromPrefix(wire::IpPrefix{*wire::IpAddress::fromString(u"10.0.0.1"), 8});
    auto badPrefix = buildTunnelRequest(settings, TunnelTarget::ip(scope));
    QVERIFY(!badPrefix);
    QCOMPARE(badPrefix.error().code, ErrorCode::BadTarget);
}

void tst_TunnelRequest::proxyUrls_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");

    QTest::newRow("default port") << u"https://proxy.example"_qs << u"proxy.example"_qs << 443;
    QTest::newRow("slash") << u"https://proxy.example:8443/"_qs << u"proxy.example"_qs << 8443;
    QTest::newRow("ipv6") << u"https://[::1]:4433"_qs << u"::1"_qs << 4433;
    QTest::newRow("http") << u"http://proxy.example"_qs << QString() << 0;
    QTest::newRow("path") << u"https://proxy.example/masque"_qs << QString() << 0;
    QTest::newRow("userinfo") << u"https://u:p@proxy.example"_qs << QString() << 0;
    QTest::newRow("query") << u"https://proxy.example/?a=b"_qs << QString() << 0;
    QTest::newRow("empty") << QString() << QString() << 0;
}

void tst_TunnelRequest::proxyUrls()
{
    QFETCH(QString, url);
    QFETCH(QString, host);
    QFETCH(int, port);
    auto endpoint = parseProxyUrl(url);
    if (host.isEmpty()) {
        QVERIFY(!endpoint);
        QCOMPARE(endpoint.error().code, ErrorCode::InvalidConfig);
        return;
    }
    QVERIFY(endpoint);
    QCOMPARE(endpoint->host, host);
    QCOMPARE(int(endpoint->port), port);
}

void tst_TunnelRequest::validation_data()
{
    QTest::addColumn<int>("protocol");
    QTest::addColumn<int>("transport");
    QTest::addColumn<bool>("templateTcp");
    QTest::addColumn<int>("status");
    QTest::addColumn<HeaderList>("headers");
    QTest::addColumn<QString>("error"); // empty = valid

    const int udp = int(TunnelProtocol::Udp);
    const int tcp = int(TunnelProtocol::Tcp);
    const int ip = int(TunnelProtocol::Ip);
    const int h1 = int(TransportKind::H1);
    const int h2 = int(TransportKind::H2);
    const int h3 = int(TransportKind::H3);

    QTest::newRow("udp h3 200") << udp << h3 << false << 200 << kCapsuleProtocol << QString();
    QTest::newRow("udp h2 299") << udp << h2 << false << 299 << kCapsuleProtocol << QString();
    QTest::newRow("udp h1 101") << udp << h1 << false << 101 << kCapsuleProtocol << QString();
    QTest::newRow("udp h1 200") << udp << h1 << false << 200 << kCapsuleProtocol
                                << "bad_upgrade_response";
    QTest::newRow("udp no echo") << udp << h3 << false << 200 << HeaderList()
                                 << "capsule_protocol_not_acknowledged";
    QTest::newRow("udp ?0") << udp << h2 << false << 200 << HeaderList{{"capsule-protocol", "?0"}}
                            << "capsule_protocol_not_acknowledged";
    QTest::newRow("udp not boolean")
        << udp << h2 << false << 200 << HeaderList{{"capsule-protocol", "1"}}
        << "capsule_protocol_not_acknowledged";
    QTest::newRow("udp with params")
        << udp << h3 << false << 200 << HeaderList{{"capsule-protocol", "?1;x=2"}} << QString();
    QTest::newRow("content-length")
        << udp << h3 << false << 200
        << HeaderList{{"capsule-protocol", "?1"}, {"content-length", "0"}} << "malformed_response";
    QTest::newRow("content-type") << udp << h2 << false << 200
                                  << HeaderList{{"capsule-protocol", "?1"},
                                                {"content-type", "text/plain"}}
                                  << "malformed_response";
    QTest::newRow("ip no echo") << ip << h3 << false << 200 << HeaderList()
                                << "capsule_protocol_missing";
    QTest::newRow("ip h1 101") << ip << h1 << false << 101 << kCapsuleProtocol << QString();
    QTest::newRow("tcp 200") << tcp << h2 << false << 200 << HeaderList() << QString();
    QTest::newRow("tcp h1 classic 200") << tcp << h1 << false << 200 << HeaderList() << QString();
    QTest::newRow("tcp h1 classic 101")
        << tcp << h1 << false << 101 << HeaderList() << "handshake_rejected";
    QTest::newRow("tcp h1 template 101") << tcp << h1 << true << 101 << HeaderList() << QString();
    QTest::newRow("tcp capsule-protocol")
        << tcp << h3 << false << 200 << kCapsuleProtocol << "bad_response";
    QTest::newRow("403") << udp << h3 << false << 403 << HeaderList() << "handshake_rejected";
    QTest::newRow("h1 407") << udp << h1 << false << 407 << HeaderList() << "handshake_rejected";
    QTest::newRow("tcp 502") << tcp << h2 << false << 502 << HeaderList() << "handshake_rejected";
}

void tst_TunnelRequest::validation()
{
    QFETCH(int, protocol);
    QFETCH(int, transport);
    QFETCH(bool, templateTcp);
    QFETCH(int, status);
    QFETCH(HeaderList, headers);
    QFETCH(QString, error);

    Profile profile = profileFor();
    profile.tcpMode = templateTcp ? TcpMode::Template : TcpMode::Connect;
    const auto settings = settingsFor(profile);
    TunnelTarget target = TunnelTarget::udp(u"a.example"_qs, 1);
    target.protocol = TunnelProtocol(protocol);
    auto request = buildTunnelRequest(settings, target);
    QVERIFY(request);
    Status valid = validateTunnelResponse(TunnelProtocol(protocol), *request,
                                          TransportKind(transport), response(status, headers));
    if (error.isEmpty()) {
        QVERIFY2(valid.ok(), qPrintable(valid.ok() ? QString() : valid.error().toString()));
        return;
    }
    QVERIFY(!valid);
    QCOMPARE(QString::fromLatin1(valid.error().name()), error);
    if (error == u"handshake_rejected"_qs)
        QCOMPARE(valid.error().httpStatus, status);
}

void tst_TunnelRequest::refusalCarriesProxyStatus()
{
    // RFC 9209, 2: nearest to the origin first; the first entry with an error type refused.
    const Error error = refusalError(response(
        403, {{"proxy-status", "upstream.example, qmasque; error=destination_ip_prohibited; "
                               "details=\"10.0.0.1 is private\""}}));
    QCOMPARE(error.code, ErrorCode::HandshakeRejected);
    QCOMPARE(error.httpStatus, 403);
    QCOMPARE(error.proxyErrorType, u"destination_ip_prohibited"_qs);
    QCOMPARE(error.proxyErrorDetails, u"10.0.0.1 is private"_qs);
    QCOMPARE(error.toString(), u"handshake_rejected: HTTP 403, proxy-status "
                               u"destination_ip_prohibited (10.0.0.1 is private)"_qs);

    const Error challenge =
        refusalError(response(407, {{"proxy-authenticate", "Basic realm=\"masque\""},
                                    {"proxy-status", "qmasque; error=http_request_denied"}}));
    QCOMPARE(challenge.httpStatus, 407);
    QCOMPARE(challenge.proxyErrorType, u"http_request_denied"_qs);
    QVERIFY(challenge.detail.contains(u"Basic realm"_qs));
}

void tst_TunnelRequest::refusalWithoutProxyStatus()
{
    const Error plain = refusalError(response(502));
    QCOMPARE(plain.httpStatus, 502);
    QVERIFY(plain.proxyErrorType.isEmpty());
    const Error garbage = refusalError(response(503, {{"proxy-status", "((("}}));
    QCOMPARE(garbage.httpStatus, 503);
    QVERIFY(garbage.proxyErrorType.isEmpty());
    QVERIFY(garbage.detail.contains(u"unparsable"_qs));
}

QTEST_GUILESS_MAIN(tst_TunnelRequest)
#include "tst_tunnel_request.moc"
