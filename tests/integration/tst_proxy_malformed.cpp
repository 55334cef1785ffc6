// qmasque-proxy and malformed capsules (RFC 9297, 3.3): a scripted client sends broken capsule
// bytes on one tunnel; that stream alone is reset (h2 PROTOCOL_ERROR, h3 H3_MESSAGE_ERROR) and
// another tunnel on the same connection keeps working.

#include "proxy/MasqueProxy.h"
#include "support/H2TestUtil.h"
#include "support/ProxyTestClient.h"
#include "support/ProxyTestTargets.h"
#include "support/TestSupport.h"

#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

class TstProxyMalformed : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<ProxyTestServer> m_server;
    std::unique_ptr<UdpEchoTarget> m_echo;

private Q_SLOTS:
    void initTestCase()
    {
        m_server = std::make_unique<ProxyTestServer>();
        QVERIFY2(m_server->start(), qPrintable(m_server->error));
        m_echo = std::make_unique<UdpEchoTarget>();
        QVERIFY(m_echo->start());
    }

    void cleanupTestCase() { m_server.reset(); }

    void onlyThatTunnelIsReset_data()
    {
        QTest::addColumn<TransportKind>("kind");
        QTest::addColumn<bool>("ipTunnel");
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<bool>("fin");
        // DATAGRAM capsule (type 0) with an empty value: no context id.
        const QByteArray emptyDatagram = fromHex("00 00");
        // A DATAGRAM capsule announcing 2^30 bytes: above the capsule limit.
        const QByteArray huge = fromHex("00 | c0 00 00 00 40 00 00 00");
        // ADDRESS_ASSIGN (type 1) with a truncated entry.
        const QByteArray badAssign = fromHex("01 03 00 04 0a");
        // A capsule cut short by FIN.
        const QByteArray truncated = fromHex("00 0a 00 01 02");
        for (TransportKind kind : {TransportKind::H2, TransportKind::H3}) {
            const char *name = transportKindName(kind);
            QTest::addRow("%s empty DATAGRAM", name) << kind << false << emptyDatagram << false;
            QTest::addRow("%s capsule too large", name) << kind << false << huge << false;
            QTest::addRow("%s bad ADDRESS_ASSIGN", name) << kind << true << badAssign << false;
            QTest::addRow("%s truncated by FIN", name) << kind << false << truncated << true;
        }
    }
    void onlyThatTunnelIsReset()
    {
        QFETCH(TransportKind, kind);
        QFETCH(bool, ipTunnel);
        QFETCH(QByteArray, bytes);
        QFETCH(bool, fin);
        Error error;
        Transport *transport = connectTransport(kind, m_server->clientOptions(), this, &error);
        QVERIFY2(transport, qPrintable(error.toString()));
        const Request victimRequest =
            ipTunnel
                ? ipRequest(m_server->authority())
                : udpRequest(m_server->authority(), QStringLiteral("127.0.0.1"), m_echo->port());
        ProxyTestStream victim(transport, true);
        ProxyTestStream bystander(transport, true);
        QVERIFY(victim.open(victimRequest).ok());
        QVERIFY(bystander
                    .open(udpRequest(m_server->authority(), QStringLiteral("127.0.0.1"),
                                     m_echo->port()))
                    .ok());
        QVERIFY(victim.waitForResponse() && victim.isSuccess());
        QVERIFY(bystander.waitForResponse() && bystander.isSuccess());

        QCOMPARE(*transport->sendStreamData(victim.id, bytes), qint64(bytes.size()));
        if (fin)
            QVERIFY(transport->endStream(victim.id).ok());
        QVERIFY(waitUntil([&] { return victim.reset.has_value(); }));
        // RFC 9297, 3.3: H3_MESSAGE_ERROR (0x10e) / PROTOCOL_ERROR (0x1).
        QCOMPARE(victim.reset->wireCode, kind == TransportKind::H3 ? quint64(0x10e) : quint64(1));

        // The other tunnel is untouched.
        QVERIFY(bystander.sendDatagram("still here").ok());
        QVERIFY(waitUntil([&] { return !bystander.datagrams.isEmpty(); }));
        QCOMPARE(bystander.datagrams.first(), QByteArray("still here"));
        QVERIFY(!bystander.reset);
        QCOMPARE(transport->state(), HttpConnection::State::Connected);
        QVERIFY(transport->endStream(bystander.id).ok());
        QVERIFY(waitUntil([&] { return m_server->proxy().stats().tunnelsActive == 0; }));
        delete transport;
    }
};

QTEST_MAIN(TstProxyMalformed)
#include "tst_proxy_malformed.moc"
