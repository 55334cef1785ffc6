// End to end, malformed capsules (RFC 9297, 3.3: a stream error, never a connection error): only
// the tunnel that carried them ends; another tunnel on the same pooled connection keeps working.
//  - A scripted server (the real h1/h2/h3 listeners with StreamEchoServer, which writes broken
//    capsule bytes on one stream after its 2xx) against real client tunnel sessions: the victim
//    closes with the typed capsule error and resets the stream (H3_MESSAGE_ERROR /
//    PROTOCOL_ERROR); the bystander's datagrams still echo.
//  - A scripted client stream, acquired from the client's own pooled connection, against
//    qmasque-proxy: the proxy resets that stream alone, and the real tunnel sharing the
//    connection still carries datagrams through the proxy.

#include "support/E2eBench.h"
#include "support/ProxyTestClient.h"
#include "support/ProxyTestTargets.h"
#include "support/TestPki.h"
#include "support/TestSupport.h"
#include "support/TunnelTestProxy.h"
#include "support/TunnelWaiter.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::test;

namespace {

// The broken bytes, each with the error the receiving side must report.
struct Garbage
{
    QByteArray bytes;
    bool fin = false;
    ErrorCode expected = ErrorCode::MalformedCapsule;
};

void addGarbage(const QList<TransportKind> &kinds)
{
    QTest::addColumn<TransportKind>("kind");
    QTest::addColumn<bool>("ipVictim");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("fin");
    QTest::addColumn<int>("expected");
    for (TransportKind kind : kinds) {
        const char *name = transportKindName(kind);
        // DATAGRAM capsule (type 0) with an empty value: no context id.
        QTest::addRow("%s empty DATAGRAM", name)
            << kind << false << fromHex("00 00") << false << int(ErrorCode::MalformedCapsule);
        // A DATAGRAM capsule announcing 2^30 bytes: above the capsule limit.
        QTest::addRow("%s capsule too large", name)
            << kind << false << fromHex("00 | c0 00 00 00 40 00 00 00") << false
            << int(ErrorCode::CapsuleTooLarge);
        // A capsule cut short by FIN.
        QTest::addRow("%s truncated by FIN", name) << kind << false << fromHex("00 0a 00 01 02")
                                                   << true << int(ErrorCode::TruncatedCapsule);
        // ADDRESS_ASSIGN (type 1) with a truncated entry, on a CONNECT-IP tunnel.
        QTest::addRow("%s bad ADDRESS_ASSIGN", name) << kind << true << fromHex("01 03 00 04 0a")
                                                     << false << int(ErrorCode::MalformedIpCapsule);
    }
}

quint64 messageErrorCode(TransportKind kind)
{
    return kind == TransportKind::H3 ? 0x10e : 0x1; // H3_MESSAGE_ERROR / PROTOCOL_ERROR
}

// ScriptedStream: a raw request stream acquired from an UpstreamOwner (the pooled connection a
// real tunnel uses too), recording what comes back.
class ScriptedStream : public QObject, public StreamHandler
{
public:
    std::optional<Response> response;
    std::optional<Error> reset;
    std::optional<Error> connectionClosed;
    bool fin = false;
    TunnelWaiter waiter;

    void onStreamResponse(StreamId, const Response &head) override
    {
        response = head;
        waiter.poke();
    }
    void onStreamData(StreamId, QByteArrayView, bool finished) override
    {
        fin = fin || finished;
        waiter.poke();
    }
    void onStreamReset(StreamId, const Error &reason) override
    {
        reset = reason;
        waiter.poke();
    }
    void onConnectionClosed(StreamId, const Error &reason) override
    {
        connectionClosed = reason;
        waiter.poke();
    }
};

} // namespace

class tst_E2eMalformed : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void fromTheServer_data()
    {
        addGarbage({TransportKind::H1, TransportKind::H2, TransportKind::H3});
    }
    void fromTheServer();
    void fromTheClient_data() { addGarbage({TransportKind::H2, TransportKind::H3}); }
    void fromTheClient();

private:
    std::unique_ptr<UdpEchoTarget> m_echo;
};

void tst_E2eMalformed::initTestCase()
{
    registerEngineMetaTypes();
    QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
    m_echo = std::make_unique<UdpEchoTarget>();
    QVERIFY(m_echo->start());
}

void tst_E2eMalformed::fromTheServer()
{
    QFETCH(TransportKind, kind);
    QFETCH(bool, ipVictim);
    QFETCH(QByteArray, bytes);
    QFETCH(bool, fin);
    QFETCH(int, expected);
    TunnelTestProxy server;
    QVERIFY2(server.start(), qPrintable(server.error));
    // After the 2xx (the echo answers inside requestReceived; this runs queued, after it), the
    // victim's stream gets the broken bytes.
    QPointer<ServerConnection> victimConnection;
    StreamId victimStream = -1;
    connect(
        &server.echo(), &StreamEchoServer::requestSeen, this,
        [&](StreamId id, const IncomingRequest &request) {
            if (!request.path.contains("victim") && request.protocol != "connect-ip")
                return;
            victimConnection = server.echo().lastConnection();
            victimStream = id;
            QVERIFY(victimConnection->sendStreamData(id, bytes).ok());
            if (fin)
                QVERIFY(victimConnection->endStream(id).ok());
        },
        Qt::QueuedConnection);
    QSignalSpy serverResets(&server.echo(), &StreamEchoServer::streamReset);

    E2eClient client(server.profile({kind}));
    QVERIFY(client.configured.ok());
    auto bystander = client.openUdp(QStringLiteral("bystander.example"), 53);
    QVERIFY2(bystander, qPrintable(why(bystander)));
    QVERIFY(udpRoundTrip(*bystander, "before"));

    // The victim opens and is then broken by the next bytes; if the bytes came with the
    // response, the attempt fails with the capsule error instead. Either way: typed.
    std::optional<Error> reason;
    quint64 victimConnectionId = 0;
    if (ipVictim) {
        auto victim = client.openIp();
        if (victim) {
            victimConnectionId = (*victim)->connectionId();
            reason = waitClosed(*victim);
        } else {
            reason = victim.error();
        }
    } else {
        auto victim = client.openUdp(QStringLiteral("victim.example"), 53);
        if (victim) {
            victimConnectionId = (*victim)->connectionId();
            reason = waitClosed(*victim);
        } else {
            reason = victim.error();
        }
    }
    QVERIFY(reason);
    qInfo("%s: the victim closed with %s", transportKindName(kind), qPrintable(reason->toString()));
    QCOMPARE(int(reason->code), expected);

    // The client reset the victim's stream with the message error (h1: the socket is the
    // stream, so the connection ends instead).
    if (kind != TransportKind::H1) {
        QVERIFY(!serverResets.isEmpty() || serverResets.wait(5000));
        const Error serverSaw = serverResets.last().at(1).value<Error>();
        QCOMPARE(serverResets.last().at(0).value<StreamId>(), victimStream);
        QCOMPARE(serverSaw.wireCode, messageErrorCode(kind));
        if (victimConnectionId)
            QCOMPARE(victimConnectionId, (*bystander)->connectionId());
        QCOMPARE(client.connectionCount(), 1);
    }

    // The bystander is untouched.
    QVERIFY((*bystander)->isOpen());
    QVERIFY(udpRoundTrip(*bystander, "after"));
}

void tst_E2eMalformed::fromTheClient()
{
    QFETCH(TransportKind, kind);
    QFETCH(bool, ipVictim);
    QFETCH(QByteArray, bytes);
    QFETCH(bool, fin);
    E2eProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.error));
    E2eClient client(proxy.profile({kind}));
    QVERIFY(client.configured.ok());
    auto bystander = client.openUdp(QStringLiteral("127.0.0.1"), m_echo->port());
    QVERIFY2(bystander, qPrintable(why(bystander)));
    QVERIFY(udpRoundTrip(*bystander, "before"));
    QCOMPARE(client.connectionCount(), 1);
    UpstreamOwner *owner = client.pool->owners().first();

    // A scripted stream on the same pooled connection.
    const QString authority = QStringLiteral("127.0.0.1:%1").arg(proxy.port());
    const Request request =
        ipVictim ? ipRequest(authority)
                 : udpRequest(authority, QStringLiteral("127.0.0.1"), m_echo->port());
    ScriptedStream scripted;
    auto acquired = owner->acquireStream(request, &scripted, &scripted);
    QVERIFY2(acquired, qPrintable(why(acquired)));
    QVERIFY(scripted.waiter.wait([&] { return scripted.response.has_value(); }, 10000));
    QCOMPARE(scripted.response->status, 200);
    QCOMPARE(proxy.stats().tunnelsActive, quint64(2));

    QCOMPARE(*acquired->transport->sendStreamData(acquired->id, bytes), qint64(bytes.size()));
    if (fin)
        QVERIFY(acquired->transport->endStream(acquired->id).ok());
    QVERIFY(scripted.waiter.wait([&] { return scripted.reset.has_value(); }, 10000));
    // RFC 9297, 3.3: H3_MESSAGE_ERROR (0x10e) / PROTOCOL_ERROR (0x1).
    QCOMPARE(scripted.reset->wireCode, messageErrorCode(kind));
    QVERIFY(!scripted.connectionClosed);
    QTRY_COMPARE_WITH_TIMEOUT(proxy.stats().tunnelsActive, quint64(1), 5000);

    // The real tunnel on the same connection still works, through the proxy.
    QVERIFY((*bystander)->isOpen());
    QCOMPARE(client.pool->owners().first(), owner);
    QVERIFY(udpRoundTrip(*bystander, "after"));
    QCOMPARE(proxy.stats().connectionsTotal, quint64(1));
    owner->releaseStream(acquired->id);
}

QTEST_GUILESS_MAIN(tst_E2eMalformed)
#include "tst_e2e_malformed.moc"
