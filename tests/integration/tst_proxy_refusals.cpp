// qmasque-proxy's refusals (erlang-masque.md 6.4, RFC 9209): every reason with its status, its
// Proxy-Status error type naming "qmasque-proxy", and a text body, over the real client
// transports: access control (loopback and private targets, also after DNS and for IPv4-mapped
// literals), bad paths, hosts, ports, methods and protocols, proxy authentication (407 with
// challenges, success with Basic and Bearer), refused ports, DNS failure, connect timeout, and
// the tunnel limits (503 over the proxy's limit; the per-connection limit as the advertised
// stream limit).

#include "proxy/MasqueProxy.h"
#include "support/H2TestUtil.h"
#include "support/ProxyTestClient.h"
#include "support/ProxyTestTargets.h"
#include "wire/ProxyStatus.h"

#include <QtTest/QTest>

#include <functional>
#include <memory>

using namespace qmasque;
using namespace qmasque::test;

Q_DECLARE_METATYPE(qmasque::Request)

namespace {

Request rawUdpPath(const QString &authority, const QByteArray &path)
{
    Request request = udpRequest(authority, QStringLiteral("127.0.0.1"), 53);
    request.path = path;
    return request;
}

Request plainGet(const QString &authority)
{
    Request request;
    request.method = "GET";
    request.authority = authority.toLatin1();
    request.path = "/";
    request.endStream = true;
    return request;
}

Request withAuthorization(Request request, const QByteArray &value)
{
    request.headers.append(Header{"proxy-authorization", value});
    return request;
}

} // namespace

class TstProxyRefusals : public QObject
{
    Q_OBJECT

private:
    // strict: default access control. open: loopback allowed, 1 s connect timeout.
    // auth: credentials required. limited: one tunnel in all, two per connection.
    std::unique_ptr<ProxyTestServer> m_strict;
    std::unique_ptr<ProxyTestServer> m_open;
    std::unique_ptr<ProxyTestServer> m_auth;
    std::unique_ptr<ProxyTestServer> m_limited;
    std::unique_ptr<UdpEchoTarget> m_echo;
    std::unique_ptr<BlackholeTarget> m_blackhole;

    ProxyTestServer &server(const QString &name)
    {
        if (name == u"open")
            return *m_open;
        if (name == u"auth")
            return *m_auth;
        if (name == u"limited")
            return *m_limited;
        return *m_strict;
    }

    // exchange: one request on a fresh connection; the response (and body) it got.
    std::unique_ptr<ProxyTestStream> exchange(ProxyTestServer &proxy, TransportKind kind,
                                              const Request &request, Transport **transportOut)
    {
        Error error;
        Transport *transport = connectTransport(kind, proxy.clientOptions(), this, &error);
        if (!transport) {
            qWarning() << "connect:" << error.toString();
            return nullptr;
        }
        *transportOut = transport;
        auto stream = std::make_unique<ProxyTestStream>(transport, false);
        if (Status opened = stream->open(request); !opened) {
            qWarning() << "submit:" << opened.error().toString();
            return nullptr;
        }
        if (!stream->waitForResponse(20000))
            return nullptr;
        return stream;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_strict = std::make_unique<ProxyTestServer>(proxyTestConfig(false));
        QVERIFY2(m_strict->start(), qPrintable(m_strict->error));
        ProxyConfig open = proxyTestConfig(true);
        open.connectTimeoutMs = 1000;
        m_open = std::make_unique<ProxyTestServer>(open);
        QVERIFY2(m_open->start(), qPrintable(m_open->error));
        ProxyConfig auth = proxyTestConfig(true);
        auth.credentials = {ProxyCredential{ProxyCredential::Scheme::Basic, "alice", "s3cret"},
                            ProxyCredential{ProxyCredential::Scheme::Bearer, {}, "tok-123"}};
        m_auth = std::make_unique<ProxyTestServer>(auth);
        QVERIFY2(m_auth->start(), qPrintable(m_auth->error));
        ProxyConfig limited = proxyTestConfig(true);
        limited.maxTunnels = 1;
        limited.maxTunnelsPerConnection = 2;
        m_limited = std::make_unique<ProxyTestServer>(limited);
        QVERIFY2(m_limited->start(), qPrintable(m_limited->error));
        m_echo = std::make_unique<UdpEchoTarget>();
        QVERIFY(m_echo->start());
        m_blackhole = std::make_unique<BlackholeTarget>();
        QVERIFY(m_blackhole->start());
    }

    void cleanupTestCase()
    {
        m_strict.reset();
        m_open.reset();
        m_auth.reset();
        m_limited.reset();
    }

    void refusal_data()
    {
        QTest::addColumn<QString>("proxy");
        QTest::addColumn<TransportKind>("kind");
        QTest::addColumn<std::function<Request(const QString &)>>("makeRequest");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("errorType");
        using Make = std::function<Request(const QString &)>;
        const auto udp = [](const char *host, quint16 port) {
            return Make([=](const QString &authority) {
                return udpRequest(authority, QString::fromLatin1(host), port);
            });
        };
        const auto classic = [](const QString &target) {
            return Make([=](const QString &) { return tcpClassicRequest(target); });
        };
        const auto tcp = [](const char *host, quint16 port) {
            return Make([=](const QString &authority) {
                return tcpTemplateRequest(authority, QString::fromLatin1(host), port);
            });
        };
        const auto path = [](const QByteArray &raw) {
            return Make([=](const QString &authority) { return rawUdpPath(authority, raw); });
        };
        const QString forbidden = QStringLiteral("destination_ip_prohibited");
        const QString protocolError = QStringLiteral("http_protocol_error");

        QTest::newRow("403 loopback literal, udp, h2")
            << "strict" << TransportKind::H2 << udp("127.0.0.1", 53) << 403 << forbidden;
        QTest::newRow("403 loopback by name, tcp, h3")
            << "strict" << TransportKind::H3 << tcp("localhost", 80) << 403 << forbidden;
        QTest::newRow("403 private, CONNECT, h1")
            << "strict" << TransportKind::H1 << classic(QStringLiteral("10.1.2.3:22")) << 403
            << forbidden;
        QTest::newRow("403 IPv4-mapped loopback, udp, h3")
            << "strict" << TransportKind::H3 << udp("::ffff:127.0.0.1", 53) << 403 << forbidden;
        QTest::newRow("403 link-local v6, CONNECT, h2")
            << "strict" << TransportKind::H2 << classic(QStringLiteral("[fe80::1]:80")) << 403
            << forbidden;
        QTest::newRow("403 private scope, ip, h2")
            << "strict" << TransportKind::H2 << Make([](const QString &authority) {
                   return ipRequest(authority,
                                    wire::IpScope{wire::IpTarget::fromPrefix(
                                                      *wire::IpPrefix::fromString(u"10.0.0.0/8")),
                                                  std::nullopt});
               })
            << 403 << forbidden;
        QTest::newRow("404 bad path, h2")
            << "strict" << TransportKind::H2 << path("/nowhere/") << 404 << protocolError;
        QTest::newRow("404 bad path, h3")
            << "strict" << TransportKind::H3 << path("/.well-known/masque/udp/x/") << 404
            << protocolError;
        QTest::newRow("404 bad path, h1")
            << "strict" << TransportKind::H1 << path("/nowhere/") << 404 << protocolError;
        QTest::newRow("400 port 0, h2")
            << "strict" << TransportKind::H2 << path("/.well-known/masque/udp/192.0.2.1/0/") << 400
            << protocolError;
        QTest::newRow("400 port 70000, h3")
            << "strict" << TransportKind::H3 << path("/.well-known/masque/udp/192.0.2.1/70000/")
            << 400 << protocolError;
        QTest::newRow("400 bad host, h2")
            << "strict" << TransportKind::H2 << path("/.well-known/masque/udp/-bad-.example/53/")
            << 400 << protocolError;
        QTest::newRow("400 CONNECT without port, h1")
            << "strict" << TransportKind::H1 << classic(QStringLiteral("example.com")) << 400
            << protocolError;
        QTest::newRow("405 GET, h2")
            << "strict" << TransportKind::H2
            << Make([](const QString &authority) { return plainGet(authority); }) << 405
            << protocolError;
        QTest::newRow("405 GET, h1")
            << "strict" << TransportKind::H1
            << Make([](const QString &authority) { return plainGet(authority); }) << 405
            << protocolError;
        QTest::newRow("501 unknown protocol, h2")
            << "strict" << TransportKind::H2 << Make([](const QString &authority) {
                   Request request = udpRequest(authority, QStringLiteral("192.0.2.1"), 53);
                   request.protocol = "connect-foo";
                   return request;
               })
            << 501 << protocolError;
        QTest::newRow("501 unknown protocol, h3")
            << "strict" << TransportKind::H3 << Make([](const QString &authority) {
                   Request request = udpRequest(authority, QStringLiteral("192.0.2.1"), 53);
                   request.protocol = "websocket";
                   return request;
               })
            << 501 << protocolError;
        const QString refusedTarget = QStringLiteral("127.0.0.1:%1").arg(unusedTcpPort());
        QTest::newRow("502 refused port, h2")
            << "open" << TransportKind::H2 << classic(refusedTarget) << 502
            << QStringLiteral("connection_refused");
        QTest::newRow("502 refused port, h3")
            << "open" << TransportKind::H3 << classic(refusedTarget) << 502
            << QStringLiteral("connection_refused");
        QTest::newRow("502 DNS failure, h2")
            << "open" << TransportKind::H2 << udp("nonexistent.invalid", 53) << 502
            << QStringLiteral("dns_error");
        QTest::newRow("407 no credentials, h2")
            << "auth" << TransportKind::H2 << udp("127.0.0.1", 53) << 407
            << QStringLiteral("http_request_denied");
        QTest::newRow("407 wrong password, h1")
            << "auth" << TransportKind::H1 << Make([](const QString &) {
                   return withAuthorization(tcpClassicRequest(QStringLiteral("127.0.0.1:9")),
                                            "Basic " + QByteArray("alice:wrong").toBase64());
               })
            << 407 << QStringLiteral("http_request_denied");
        QTest::newRow("407 wrong token, h3")
            << "auth" << TransportKind::H3 << Make([](const QString &authority) {
                   return withAuthorization(udpRequest(authority, QStringLiteral("127.0.0.1"), 53),
                                            "Bearer tok-124");
               })
            << 407 << QStringLiteral("http_request_denied");
    }
    void refusal()
    {
        QFETCH(QString, proxy);
        QFETCH(TransportKind, kind);
        QFETCH(std::function<Request(const QString &)>, makeRequest);
        QFETCH(int, status);
        QFETCH(QString, errorType);
        ProxyTestServer &target = server(proxy);
        Transport *transport = nullptr;
        auto stream = exchange(target, kind, makeRequest(target.authority()), &transport);
        QVERIFY(stream);
        QCOMPARE(stream->response->status, status);

        // RFC 9209: one entry naming this proxy, with the error type.
        auto entries = wire::parseProxyStatus(stream->header("proxy-status"));
        QVERIFY2(entries && entries->size() == 1, stream->header("proxy-status").constData());
        QCOMPARE(entries->first().proxy, QStringLiteral("qmasque-proxy"));
        QCOMPARE(entries->first().error, errorType);
        QVERIFY(!entries->first().details.isEmpty());
        if (status == 407) {
            // RFC 9110, 11.7.1: a challenge per scheme in use.
            HeaderList challenges;
            for (const Header &header : stream->response->headers) {
                if (header.name.toLower() == "proxy-authenticate")
                    challenges.append(header);
            }
            QCOMPARE(challenges.size(), 2);
            QVERIFY(challenges[0].value.startsWith("Basic realm="));
            QVERIFY(challenges[1].value.startsWith("Bearer realm="));
        }
        if (status == 405)
            QCOMPARE(stream->header("allow"), QByteArray("CONNECT"));
        if (errorType == u"dns_error")
            QCOMPARE(entries->first().rcode, QStringLiteral("NXDOMAIN"));

        // The body: one line starting with the status.
        QVERIFY(waitUntil([&] { return stream->fin || stream->reset; }));
        QVERIFY2(stream->data.startsWith(QByteArray(QByteArray::number(status) + ' ')),
                 stream->data.constData());
        QVERIFY(stream->data.endsWith('\n'));
        stream.reset();
        delete transport;
    }

    void connectTimeout()
    {
        Transport *transport = nullptr;
        auto stream = exchange(
            *m_open, TransportKind::H2,
            tcpClassicRequest(QStringLiteral("127.0.0.1:%1").arg(m_blackhole->port())), &transport);
        QVERIFY(stream);
        QCOMPARE(stream->response->status, 504);
        auto entries = wire::parseProxyStatus(stream->header("proxy-status"));
        QVERIFY(entries && !entries->isEmpty());
        QCOMPARE(entries->first().error, QStringLiteral("connection_timeout"));
        stream.reset();
        delete transport;
    }

    void credentialsAccepted_data()
    {
        QTest::addColumn<TransportKind>("kind");
        QTest::addColumn<QByteArray>("authorization");
        QTest::newRow("basic, h2")
            << TransportKind::H2 << ("Basic " + QByteArray("alice:s3cret").toBase64());
        QTest::newRow("basic, h1, scheme in capitals")
            << TransportKind::H1 << ("BASIC " + QByteArray("alice:s3cret").toBase64());
        QTest::newRow("bearer, h3") << TransportKind::H3 << QByteArray("Bearer tok-123");
    }
    void credentialsAccepted()
    {
        QFETCH(TransportKind, kind);
        QFETCH(QByteArray, authorization);
        Transport *transport = nullptr;
        auto stream =
            exchange(*m_auth, kind,
                     withAuthorization(udpRequest(m_auth->authority(), QStringLiteral("127.0.0.1"),
                                                  m_echo->port()),
                                       authorization),
                     &transport);
        QVERIFY(stream);
        QVERIFY(stream->isSuccess());
        stream.reset();
        delete transport;
    }

    void tunnelLimit()
    {
        // The proxy-wide limit (one tunnel): the second request is refused with 503.
        Transport *firstTransport = nullptr;
        auto first = exchange(
            *m_limited, TransportKind::H2,
            udpRequest(m_limited->authority(), QStringLiteral("127.0.0.1"), m_echo->port()),
            &firstTransport);
        QVERIFY(first && first->isSuccess());
        Transport *secondTransport = nullptr;
        auto second = exchange(
            *m_limited, TransportKind::H3,
            udpRequest(m_limited->authority(), QStringLiteral("127.0.0.1"), m_echo->port()),
            &secondTransport);
        QVERIFY(second);
        QCOMPARE(second->response->status, 503);
        auto entries = wire::parseProxyStatus(second->header("proxy-status"));
        QVERIFY(entries && !entries->isEmpty());
        QCOMPARE(entries->first().error, QStringLiteral("proxy_internal_error"));
        second.reset();
        delete secondTransport;

        // Only concurrent tunnels count: once the first ends, a new one is admitted.
        first.reset();
        delete firstTransport;
        QVERIFY(waitUntil([&] { return m_limited->proxy().stats().tunnelsActive == 0; }));
        Transport *thirdTransport = nullptr;
        auto third = exchange(
            *m_limited, TransportKind::H1,
            udpRequest(m_limited->authority(), QStringLiteral("127.0.0.1"), m_echo->port()),
            &thirdTransport);
        QVERIFY(third && third->isSuccess());
        third.reset();
        delete thirdTransport;
    }

    void perConnectionLimitIsAdvertised_data()
    {
        QTest::addColumn<TransportKind>("kind");
        QTest::newRow("h2") << TransportKind::H2;
        QTest::newRow("h3") << TransportKind::H3;
    }
    void perConnectionLimitIsAdvertised()
    {
        // --max-tunnels-per-connection is the stream limit clients see: h2
        // SETTINGS_MAX_CONCURRENT_STREAMS, h3 MAX_STREAMS.
        QFETCH(TransportKind, kind);
        Error error;
        Transport *transport = connectTransport(kind, m_limited->clientOptions(), this, &error);
        QVERIFY2(transport, qPrintable(error.toString()));
        QCOMPARE(transport->peerStreamLimit().value_or(-1), qint64(2));
        delete transport;
    }
};

QTEST_MAIN(TstProxyRefusals)
#include "tst_proxy_refusals.moc"
