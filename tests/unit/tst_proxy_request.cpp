// The proxy's request handling without sockets: ProxyRequestParser (what a request asks for, or
// why it is refused), the status / Proxy-Status mapping of erlang-masque.md 6.4, and ProxyAuth.

#include "proxy/ProxyAuth.h"
#include "proxy/ProxyRefusal.h"
#include "proxy/ProxyRequest.h"
#include "wire/ProxyStatus.h"

#include <QtTest/QTest>

using namespace qmasque;

namespace {

IncomingRequest extended(const QByteArray &protocol, const QByteArray &path, bool capsules = true)
{
    IncomingRequest request;
    request.method = "CONNECT";
    request.protocol = protocol;
    request.scheme = "https";
    request.authority = "proxy.example:443";
    request.path = path;
    if (capsules)
        request.headers.append(Header{"capsule-protocol", "?1"});
    return request;
}

IncomingRequest classic(const QByteArray &authority)
{
    IncomingRequest request;
    request.method = "CONNECT";
    request.authority = authority;
    return request;
}

} // namespace

class TstProxyRequest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void accepted()
    {
        const ProxyRequestParser parser{ProxyConfig()};
        auto udp =
            parser.parse(extended("connect-udp", "/.well-known/masque/udp/2001%3Adb8%3A%3A1/443/"));
        QVERIFY(udp);
        QCOMPARE(udp->protocol, TunnelProtocol::Udp);
        QCOMPARE(udp->host.host, QStringLiteral("2001:db8::1"));
        QCOMPARE(udp->host.port, quint16(443));
        QVERIFY(udp->capsuleProtocol);
        QCOMPARE(udp->target(), QStringLiteral("[2001:db8::1]:443"));

        auto tcp =
            parser.parse(extended("connect-tcp", "/.well-known/masque/tcp/example.com/80/", false));
        QVERIFY(tcp);
        QCOMPARE(tcp->protocol, TunnelProtocol::Tcp);
        QVERIFY(!tcp->classicConnect);

        auto direct = parser.parse(classic("[2001:db8::1]:22"));
        QVERIFY(direct);
        QVERIFY(direct->classicConnect);
        QCOMPARE(direct->host.host, QStringLiteral("2001:db8::1"));
        QCOMPARE(direct->host.port, quint16(22));

        auto ip = parser.parse(extended("connect-ip", "/.well-known/masque/ip/192.0.2.0%2F24/17/"));
        QVERIFY(ip);
        QCOMPARE(ip->protocol, TunnelProtocol::Ip);
        QCOMPARE(ip->scope.target.kind, wire::IpTarget::Kind::Prefix);
        QCOMPARE(ip->scope.ipProtocol.value_or(0), quint8(17));
        QCOMPARE(ip->target(), QStringLiteral("192.0.2.0/24/17"));

        // Upper-case protocol tokens (h1 Upgrade is case-insensitive) and a custom template.
        ProxyConfig custom;
        custom.udpTemplate = QStringLiteral("/masque{?target_host,target_port}");
        const ProxyRequestParser customParser(custom);
        auto query = customParser.parse(
            extended("CONNECT-UDP", "/masque?target_host=example.net&target_port=53"));
        QVERIFY(query);
        QCOMPARE(query->host.host, QStringLiteral("example.net"));
        QVERIFY(!customParser.parse(extended("connect-udp", "/.well-known/masque/udp/a.b/53/")));
    }

    void refused_data()
    {
        QTest::addColumn<IncomingRequest>("request");
        QTest::addColumn<ErrorCode>("code");
        QTest::addColumn<int>("status");
        IncomingRequest get = extended({}, "/");
        get.method = "GET";
        QTest::newRow("GET") << get << ErrorCode::BadMethod << 405;
        QTest::newRow("unknown protocol")
            << extended("connect-foo", "/.well-known/masque/udp/a.b/53/") << ErrorCode::BadProtocol
            << 501;
        QTest::newRow("no path") << extended("connect-udp", {}) << ErrorCode::BadPath << 404;
        IncomingRequest noAuthority = extended("connect-udp", "/.well-known/masque/udp/a.b/53/");
        noAuthority.authority.clear();
        QTest::newRow("no authority") << noAuthority << ErrorCode::BadPath << 404;
        QTest::newRow("other path")
            << extended("connect-udp", "/elsewhere/a.b/53/") << ErrorCode::BadPath << 404;
        QTest::newRow("udp path for tcp")
            << extended("connect-tcp", "/.well-known/masque/udp/a.b/53/") << ErrorCode::BadPath
            << 404;
        QTest::newRow("port 0") << extended("connect-udp", "/.well-known/masque/udp/a.b/0/")
                                << ErrorCode::BadPort << 400;
        QTest::newRow("port 010") << extended("connect-udp", "/.well-known/masque/udp/a.b/010/")
                                  << ErrorCode::BadPort << 400;
        QTest::newRow("numeric name")
            << extended("connect-udp", "/.well-known/masque/udp/127.1/53/") << ErrorCode::BadHost
            << 400;
        QTest::newRow("zone id") << extended("connect-udp",
                                             "/.well-known/masque/udp/fe80%3A%3A1%25eth0/53/")
                                 << ErrorCode::BadHost << 400;
        QTest::newRow("classic without port")
            << classic("example.com") << ErrorCode::BadHost << 400;
        QTest::newRow("classic bad port")
            << classic("example.com:http") << ErrorCode::BadPort << 400;
        QTest::newRow("classic bare IPv6")
            << classic("2001:db8::1:22") << ErrorCode::BadHost << 400;
        QTest::newRow("ip bad target")
            << extended("connect-ip", "/.well-known/masque/ip/10.0.0.1%2F8/*/")
            << ErrorCode::BadTarget << 400;
        QTest::newRow("ip bad ipproto") << extended("connect-ip", "/.well-known/masque/ip/*/256/")
                                        << ErrorCode::BadIpProto << 400;
        QTest::newRow("ip without capsule protocol")
            << extended("connect-ip", "/.well-known/masque/ip/*/*/", false)
            << ErrorCode::MalformedHeader << 400;
    }
    void refused()
    {
        QFETCH(IncomingRequest, request);
        QFETCH(ErrorCode, code);
        QFETCH(int, status);
        const ProxyRequestParser parser{ProxyConfig()};
        auto parsed = parser.parse(request);
        QVERIFY(!parsed);
        QCOMPARE(parsed.error().code, code);
        QCOMPARE(refusalStatus(parsed.error()), status);
    }

    void statusMapping_data()
    {
        // erlang-masque.md 6.4, plus the TCP dial outcomes.
        QTest::addColumn<Error>("reason");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");
        const QString protocolError = QStringLiteral("http_protocol_error");
        QTest::newRow("bad_method") << Error(ErrorCode::BadMethod) << 405 << protocolError;
        QTest::newRow("bad_protocol") << Error(ErrorCode::BadProtocol) << 501 << protocolError;
        QTest::newRow("bad_path") << Error(ErrorCode::BadPath) << 404 << protocolError;
        QTest::newRow("bad_port") << Error(ErrorCode::BadPort) << 400 << protocolError;
        QTest::newRow("bad_host") << Error(ErrorCode::BadHost) << 400 << protocolError;
        QTest::newRow("resolution_failed")
            << Error(ErrorCode::ResolutionFailed) << 502 << QStringLiteral("dns_error");
        QTest::newRow("upstream_timeout")
            << Error(ErrorCode::UpstreamTimeout) << 504 << QStringLiteral("connection_timeout");
        QTest::newRow("forbidden")
            << Error(ErrorCode::Forbidden) << 403 << QStringLiteral("destination_ip_prohibited");
        QTest::newRow("overload") << Error(ErrorCode::Overload) << 503
                                  << QStringLiteral("proxy_internal_error");
        QTest::newRow("connection_refused")
            << Error(ErrorCode::ConnectionRefused) << 502 << QStringLiteral("connection_refused");
        QTest::newRow("network_unreachable") << Error(ErrorCode::NetworkUnreachable) << 502
                                             << QStringLiteral("destination_ip_unroutable");
        QTest::newRow("auth_required")
            << Error(ErrorCode::AuthRequired) << 407 << QStringLiteral("http_request_denied");
        Error other(ErrorCode::Internal);
        other.httpStatus = 429;
        QTest::newRow("other with status")
            << other << 429 << QStringLiteral("proxy_internal_error");
        QTest::newRow("anything else")
            << Error(ErrorCode::Io) << 502 << QStringLiteral("proxy_internal_error");
    }
    void statusMapping()
    {
        QFETCH(Error, reason);
        QFETCH(int, status);
        QFETCH(QString, type);
        reason.detail = QStringLiteral("why \"quoted\"\nnext line");
        const RefusalMessage message = buildRefusal(reason, QStringLiteral("qmasque-proxy"));
        QCOMPARE(message.response.status, status);
        auto entries =
            wire::parseProxyStatus(headerValue(message.response.headers, "proxy-status"));
        QVERIFY(entries);
        QCOMPARE(entries->size(), 1);
        QCOMPARE(entries->first().proxy, QStringLiteral("qmasque-proxy"));
        QCOMPARE(entries->first().error, type);
        QCOMPARE(entries->first().details, QStringLiteral("why \"quoted\"?next line"));
        QVERIFY(message.body.startsWith(QByteArray(QByteArray::number(status) + ' ')));
        QCOMPARE(message.body.count('\n'), 1);
    }

    void authentication()
    {
        const ProxyAuth none;
        QVERIFY(!none.enabled());
        QVERIFY(none.check({}));

        const ProxyAuth auth({ProxyCredential{ProxyCredential::Scheme::Basic, "alice", "pa:ss"},
                              ProxyCredential{ProxyCredential::Scheme::Bearer, {}, "t0ken"}});
        QVERIFY(auth.enabled());
        const auto with = [](const QByteArray &value) {
            return HeaderList{Header{"proxy-authorization", value}};
        };
        QVERIFY(auth.check(with("Basic " + QByteArray("alice:pa:ss").toBase64())));
        QVERIFY(auth.check(with("basic   " + QByteArray("alice:pa:ss").toBase64())));
        QVERIFY(auth.check(with("Bearer t0ken")));
        QVERIFY(!auth.check({}));
        QVERIFY(!auth.check(with("Basic " + QByteArray("alice:pa:sS").toBase64())));
        QVERIFY(!auth.check(with("Basic " + QByteArray("bob:pa:ss").toBase64())));
        QVERIFY(!auth.check(with("Basic !!notbase64!!")));
        QVERIFY(!auth.check(with("Bearer t0ken2")));
        QVERIFY(!auth.check(with("Basic t0ken"))); // a token is not a password
        QVERIFY(!auth.check(with("Bearer " + QByteArray("alice:pa:ss").toBase64())));
        QVERIFY(!auth.check(with("Digest username=alice")));
        QVERIFY(!auth.check(with("Basic")));
        const HeaderList challenges = auth.challenges();
        QCOMPARE(challenges.size(), 2);
        QCOMPARE(challenges[0].value, QByteArray("Basic realm=\"qmasque-proxy\""));
        QCOMPARE(challenges[1].value, QByteArray("Bearer realm=\"qmasque-proxy\""));
    }

    void authorityParts()
    {
        QStringView host;
        QStringView port;
        QVERIFY(splitAuthority(u"[::1]:8443", &host, &port));
        QCOMPARE(host, u"::1");
        QCOMPARE(port, u"8443");
        QVERIFY(splitAuthority(u"example.com:80", &host, &port));
        QCOMPARE(host, u"example.com");
        QVERIFY(!splitAuthority(u"::1:80", &host, &port));
        QVERIFY(!splitAuthority(u"[::1]", &host, &port));
        QVERIFY(!splitAuthority(u"example.com", &host, &port));
    }
};

QTEST_APPLESS_MAIN(TstProxyRequest)
#include "tst_proxy_request.moc"
