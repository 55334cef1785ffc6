// End to end, refusals (erlang-masque.md 6.4) from qmasque-proxy through the client, over h1, h2
// and h3: every failed open is a typed handshake_rejected carrying the HTTP status and the parsed
// Proxy-Status (error type and details), and the failed race's record shows the same.
//  403 destination_ip_prohibited: the default policy denies loopback targets (no --allow), for
//      UDP, classic CONNECT, connect-tcp and CONNECT-IP;
//  a template the client cannot use (malformed, or missing a variable its protocol needs) is a
//      typed configuration error and nothing reaches the proxy;
//  404 http_protocol_error: the client's templates point at paths the proxy does not serve;
//  405 / 501: a GET and an unknown :protocol, which the client never sends, as raw requests on
//      the client transports, their responses read by the client's refusalError();
//  407 http_request_denied without or with wrong credentials; success with the profile's
//      proxy-auth, Basic and Bearer;
//  502 connection_refused: a TCP target port nobody listens on;
//  502 dns_error: a target name that does not resolve (RFC 6761 .invalid), UDP and TCP;
//  503 proxy_internal_error: over the proxy's tunnel limit;
// and refused streams give their stream credit back: on one pooled h2/h3 connection whose limit
// is 4, eight refusals in a row, then four tunnels at once, all on that connection.

#include "support/E2eBench.h"
#include "support/ProxyTestClient.h"
#include "support/ProxyTestTargets.h"
#include "tunnel/TunnelRequest.h"

#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::test;

namespace {

void addKinds()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::newRow("h1") << TransportKind::H1;
    QTest::newRow("h2") << TransportKind::H2;
    QTest::newRow("h3") << TransportKind::H3;
}

ProxyConfig allowOnly(const char16_t *prefix)
{
    ProxyConfig config = e2eProxyConfig(false);
    config.allow = {*wire::IpPrefix::fromString(QStringView(prefix))};
    return config;
}

// checkRefusal: a typed refusal with `status` and the Proxy-Status error `type`.
bool checkRefusal(const Error &error, int status, const QString &type, QString *why)
{
    if (error.code != ErrorCode::HandshakeRejected || error.httpStatus != status ||
        error.proxyErrorType != type) {
        *why = QStringLiteral("expected %1 %2, got %3").arg(status).arg(type, error.toString());
        return false;
    }
    return true;
}

#define VERIFY_REFUSAL(result, status, type)                                                       \
    do {                                                                                           \
        QVERIFY2(!(result), "the tunnel opened");                                                  \
        QString why_;                                                                              \
        QVERIFY2(checkRefusal((result).error(), status, QStringLiteral(type), &why_),              \
                 qPrintable(why_));                                                                \
    } while (false)

} // namespace

class tst_E2eRefusals : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void loopbackDeniedByDefault_data() { addKinds(); }
    void loopbackDeniedByDefault();
    void badPath404_data() { addKinds(); }
    void badPath404();
    void badTemplateNeverSent_data();
    void badTemplateNeverSent();
    void rawMethodAndProtocol_data() { addKinds(); }
    void rawMethodAndProtocol();
    void credentials407_data() { addKinds(); }
    void credentials407();
    void refusedPort502_data() { addKinds(); }
    void refusedPort502();
    void unresolvable502_data() { addKinds(); }
    void unresolvable502();
    void overLimit503_data() { addKinds(); }
    void overLimit503();
    void refusalsGiveStreamCreditBack_data();
    void refusalsGiveStreamCreditBack();

private:
    std::unique_ptr<UdpEchoTarget> m_udpEcho;
    std::unique_ptr<TcpTarget> m_tcpEcho;
};

void tst_E2eRefusals::initTestCase()
{
    registerEngineMetaTypes();
    m_udpEcho = std::make_unique<UdpEchoTarget>();
    QVERIFY(m_udpEcho->start());
    m_tcpEcho = std::make_unique<TcpTarget>(TcpTarget::Mode::Echo);
    QVERIFY(m_tcpEcho->start());
}

void tst_E2eRefusals::loopbackDeniedByDefault()
{
    QFETCH(TransportKind, kind);
    E2eProxy proxy(e2eProxyConfig(false));
    QVERIFY2(proxy.start(), qPrintable(proxy.error));
    Profile profile = proxy.profile({kind});
    E2eClient client(profile);
    QVERIFY(client.configured.ok());

    auto udp = client.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
    VERIFY_REFUSAL(udp, 403, "destination_ip_prohibited");
    QVERIFY2(udp.error().proxyErrorDetails.contains(u"127.0.0.1"),
             qPrintable(udp.error().proxyErrorDetails));
    qInfo("%s: %s", transportKindName(kind), qPrintable(why(udp)));
    // The failed race is reported with the refused attempt's record.
    QCOMPARE(client.ended.last().responseStatus, 403);
    QVERIFY(client.ended.last().proxyStatus.contains(u"destination_ip_prohibited"));
    QVERIFY(client.races.last().error.startsWith(u"handshake_rejected: HTTP 403"));

    auto tcp = client.openTcp(QStringLiteral("127.0.0.1"), m_tcpEcho->port());
    VERIFY_REFUSAL(tcp, 403, "destination_ip_prohibited");

    profile.tcpMode = TcpMode::Template;
    E2eClient templated(profile);
    QVERIFY(templated.configured.ok());
    tcp = templated.openTcp(QStringLiteral("localhost"), m_tcpEcho->port());
    VERIFY_REFUSAL(tcp, 403, "destination_ip_prohibited");

    wire::IpScope scope;
    scope.target = *wire::parseIpTarget(u"127.0.0.1");
    auto ip = client.openIp(scope);
    VERIFY_REFUSAL(ip, 403, "destination_ip_prohibited");
    QTRY_COMPARE_WITH_TIMEOUT(proxy.stats().rejections, quint64(4), 5000);
    QCOMPARE(proxy.stats().tunnelsTotal, quint64(0));
}

void tst_E2eRefusals::badPath404()
{
    QFETCH(TransportKind, kind);
    E2eProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.error));
    Profile profile = proxy.profile({kind});
    profile.udpTemplate = QStringLiteral("/elsewhere/udp/{target_host}/{target_port}/");
    profile.ipTemplate = QStringLiteral("/elsewhere/ip/{target}/{ipproto}/");
    profile.tcpTemplate = QStringLiteral("/elsewhere/tcp/{target_host}/{target_port}/");
    profile.tcpMode = TcpMode::Template;
    E2eClient client(profile);
    QVERIFY2(client.configured.ok(), qPrintable(why(client.configured)));
    auto udp = client.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
    VERIFY_REFUSAL(udp, 404, "http_protocol_error");
    auto ip = client.openIp();
    VERIFY_REFUSAL(ip, 404, "http_protocol_error");
    auto tcp = client.openTcp(QStringLiteral("127.0.0.1"), m_tcpEcho->port());
    VERIFY_REFUSAL(tcp, 404, "http_protocol_error");

    // The same profile with the proxy's paths works.
    profile.udpTemplate.clear();
    E2eClient fixed(profile);
    QVERIFY(fixed.configured.ok());
    udp = fixed.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
    QVERIFY2(udp, qPrintable(why(udp)));
    QVERIFY(udpRoundTrip(*udp, "found"));
}

void tst_E2eRefusals::badTemplateNeverSent_data()
{
    QTest::addColumn<QString>("udpTemplate");
    QTest::addColumn<QString>("ipTemplate");
    QTest::addColumn<int>("expected");
    QTest::newRow("unclosed expression")
        << QStringLiteral("/masque/udp/{target_host/{target_port}/") << QString()
        << int(ErrorCode::MalformedTemplate);
    QTest::newRow("udp without target_port")
        << QStringLiteral("/masque/udp/{target_host}/") << QString()
        << int(ErrorCode::MissingTemplateVariable);
    QTest::newRow("ip with an unknown operator")
        << QString() << QStringLiteral("/masque/ip/{|target}/{ipproto}/")
        << int(ErrorCode::MalformedTemplate);
}

void tst_E2eRefusals::badTemplateNeverSent()
{
    QFETCH(QString, udpTemplate);
    QFETCH(QString, ipTemplate);
    QFETCH(int, expected);
    E2eProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.error));
    Profile profile = proxy.profile({TransportKind::H3, TransportKind::H2});
    profile.udpTemplate = udpTemplate;
    profile.ipTemplate = ipTemplate;
    E2eClient client(profile);
    QVERIFY(!client.configured);
    qInfo("%s", qPrintable(why(client.configured)));
    // A configuration error naming the profile field and the template's own typed error.
    const Error &error = client.configured.error();
    QCOMPARE(error.code, ErrorCode::InvalidConfig);
    QVERIFY(error.detail.startsWith(udpTemplate.isEmpty() ? u"ip-template" : u"udp-template"));
    QVERIFY(error.detail.contains(QLatin1StringView(errorCodeName(ErrorCode(expected)))));
    // Not configured: an open fails typed, at once, without dialing.
    auto udp = client.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
    QVERIFY(!udp);
    QCOMPARE(udp.error().code, ErrorCode::InvalidConfig);
    QCOMPARE(client.connectionCount(), 0);
    QCOMPARE(proxy.stats().connectionsTotal, quint64(0));
}

void tst_E2eRefusals::rawMethodAndProtocol()
{
    // The client only ever sends CONNECT with a known :protocol, so these go as raw requests
    // on the client's own transports; the client's refusal parsing reads the answers.
    QFETCH(TransportKind, kind);
    ProxyTestServer server;
    QVERIFY2(server.start(), qPrintable(server.error));
    struct Case
    {
        Request request;
        int status;
    };
    Request get;
    get.method = "GET";
    get.authority = server.authority().toLatin1();
    get.path = "/";
    get.endStream = true;
    Request bogus = udpRequest(server.authority(), QStringLiteral("127.0.0.1"), 53);
    bogus.protocol = "connect-bogus";
    for (const Case &c : {Case{get, 405}, Case{bogus, 501}}) {
        Error error;
        std::unique_ptr<Transport> transport(
            connectTransport(kind, server.clientOptions(), nullptr, &error));
        QVERIFY2(transport, qPrintable(error.toString()));
        ProxyTestStream stream(transport.get(), false);
        QVERIFY(stream.open(c.request).ok());
        QVERIFY(stream.waitForResponse());
        QCOMPARE(stream.response->status, c.status);
        const Error refusal = refusalError(*stream.response);
        QString why;
        QVERIFY2(checkRefusal(refusal, c.status, QStringLiteral("http_protocol_error"), &why),
                 qPrintable(why));
        qInfo("%s: %s", transportKindName(kind), qPrintable(refusal.toString()));
        stream.autoConsume = true;
    }
}

void tst_E2eRefusals::credentials407()
{
    QFETCH(TransportKind, kind);
    ProxyConfig config = e2eProxyConfig();
    config.credentials = {ProxyCredential{ProxyCredential::Scheme::Basic, "alice", "s3cret"},
                          ProxyCredential{ProxyCredential::Scheme::Bearer, {}, "7f3c9e"}};
    E2eProxy proxy(config);
    QVERIFY2(proxy.start(), qPrintable(proxy.error));

    Profile profile = proxy.profile({kind});
    for (const QString &auth :
         {QString(), QStringLiteral("basic:alice:wrong"), QStringLiteral("bearer:nope")}) {
        profile.proxyAuth = auth;
        E2eClient client(profile);
        QVERIFY(client.configured.ok());
        auto udp = client.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
        VERIFY_REFUSAL(udp, 407, "http_request_denied");
        // refusalError() quotes the challenge.
        QVERIFY2(udp.error().toString().contains(u"Basic realm"), qPrintable(why(udp)));
    }
    for (const QString &auth :
         {QStringLiteral("basic:alice:s3cret"), QStringLiteral("bearer:7f3c9e")}) {
        profile.proxyAuth = auth;
        E2eClient client(profile);
        QVERIFY(client.configured.ok());
        auto udp = client.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
        QVERIFY2(udp, qPrintable(auth + u": " + why(udp)));
        QVERIFY(udpRoundTrip(*udp, "authorized"));
        auto tcp = client.openTcp(QStringLiteral("127.0.0.1"), m_tcpEcho->port());
        QVERIFY2(tcp, qPrintable(why(tcp)));
        QCOMPARE(tcpRoundTrip(*tcp, "authorized"), QByteArray("authorized"));
    }
}

void tst_E2eRefusals::refusedPort502()
{
    QFETCH(TransportKind, kind);
    E2eProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.error));
    for (bool templated : {false, true}) {
        Profile profile = proxy.profile({kind});
        profile.tcpMode = templated ? TcpMode::Template : TcpMode::Connect;
        E2eClient client(profile);
        QVERIFY(client.configured.ok());
        auto tcp = client.openTcp(QStringLiteral("127.0.0.1"), unusedTcpPort());
        VERIFY_REFUSAL(tcp, 502, "connection_refused");
    }
}

void tst_E2eRefusals::unresolvable502()
{
    QFETCH(TransportKind, kind);
    E2eProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.error));
    Profile profile = proxy.profile({kind});
    profile.tcpMode = TcpMode::Template;
    E2eClient client(profile);
    QVERIFY(client.configured.ok());
    // .invalid never resolves (RFC 6761, 6.4); a resolver that does not answer at all makes
    // it the proxy's DNS timeout instead, typed as well.
    const QString host = QStringLiteral("no-such-host.invalid");
    auto udp = client.openUdp(host, 53);
    QVERIFY2(!udp, "the tunnel opened");
    auto tcp = client.openTcp(host, 80);
    QVERIFY2(!tcp, "the tunnel opened");
    for (const Error &error : {udp.error(), tcp.error()}) {
        qInfo("%s: %s", transportKindName(kind), qPrintable(error.toString()));
        QCOMPARE(error.code, ErrorCode::HandshakeRejected);
        QVERIFY2((error.httpStatus == 502 && error.proxyErrorType == u"dns_error") ||
                     (error.httpStatus == 504 && error.proxyErrorType == u"connection_timeout"),
                 qPrintable(error.toString()));
    }
    QCOMPARE(proxy.stats().tunnelsTotal, quint64(0));
}

void tst_E2eRefusals::overLimit503()
{
    QFETCH(TransportKind, kind);
    ProxyConfig config = e2eProxyConfig();
    config.maxTunnels = 2;
    E2eProxy proxy(config);
    QVERIFY2(proxy.start(), qPrintable(proxy.error));
    E2eClient client(proxy.profile({kind}));
    QVERIFY(client.configured.ok());
    auto first = client.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
    auto second = client.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
    QVERIFY(first && second);
    auto third = client.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
    VERIFY_REFUSAL(third, 503, "proxy_internal_error");
    // The refusal disturbed nobody; once a tunnel ends there is room again.
    QVERIFY(udpRoundTrip(*first, "first"));
    QVERIFY(udpRoundTrip(*second, "second"));
    (*first)->close();
    QVERIFY(waitClosed(*first));
    QTRY_COMPARE_WITH_TIMEOUT(proxy.stats().tunnelsActive, quint64(1), 5000);
    auto fourth = client.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
    QVERIFY2(fourth, qPrintable(why(fourth)));
}

void tst_E2eRefusals::refusalsGiveStreamCreditBack_data()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::newRow("h2") << TransportKind::H2;
    QTest::newRow("h3") << TransportKind::H3;
}

void tst_E2eRefusals::refusalsGiveStreamCreditBack()
{
    // RFC 9000, 4.6: a QUIC stream's credit comes back only when the stream is closed both
    // ways. The proxy ends a refused stream with its FIN; the client must end its own side (it
    // resets it), or every refusal would eat one of the connection's MAX_STREAMS.
    QFETCH(TransportKind, kind);
    constexpr int kLimit = 4;
    ProxyConfig config = allowOnly(u"127.0.0.2/32"); // 127.0.0.1 denied, 127.0.0.2 permitted
    config.maxTunnelsPerConnection = kLimit;
    E2eProxy proxy(config);
    QVERIFY2(proxy.start(), qPrintable(proxy.error));
    E2eClient client(proxy.profile({kind}));
    QVERIFY(client.configured.ok());

    for (int i = 0; i < 2 * kLimit; ++i) {
        auto refused = client.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port(), 5000);
        VERIFY_REFUSAL(refused, 403, "destination_ip_prohibited");
        QCOMPARE(client.connectionCount(), 1);
    }
    const quint64 connectionId = client.pool->owners().first()->id();

    UdpEchoTarget echo;
    QVERIFY(echo.start(QHostAddress(QStringLiteral("127.0.0.2"))));
    QList<UdpTunnel *> open;
    for (int i = 0; i < kLimit; ++i) {
        auto tunnel = client.openUdp(QStringLiteral("127.0.0.2"), echo.port(), 5000);
        QVERIFY2(tunnel, qPrintable(QStringLiteral("tunnel %1: ").arg(i) + why(tunnel)));
        QCOMPARE((*tunnel)->connectionId(), connectionId);
        open.append(*tunnel);
    }
    QCOMPARE(client.connectionCount(), 1);
    for (UdpTunnel *tunnel : open)
        QVERIFY(udpRoundTrip(tunnel, "credit"));
    QCOMPARE(proxy.stats().connectionsTotal, quint64(1));
}

QTEST_GUILESS_MAIN(tst_E2eRefusals)
#include "tst_e2e_refusals.moc"
