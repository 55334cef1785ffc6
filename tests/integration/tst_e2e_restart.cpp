// End to end, the proxy restarted under open tunnels (MasqueProxy in process, stopped and started
// again on the same port with the same certificate): every open tunnel (UDP, TCP, IP) ends with a
// typed error naming the connection's end, the pool forgets the dead connection, and the next
// tunnel redials and works, over h1, h2 and h3.

#include "support/E2eBench.h"
#include "support/ProxyTestTargets.h"
#include "support/TestPki.h"

#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::test;

class tst_E2eRestart : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void openTunnelsEndAndTheNextRedials_data();
    void openTunnelsEndAndTheNextRedials();

private:
    std::unique_ptr<UdpEchoTarget> m_udpEcho;
    std::unique_ptr<TcpTarget> m_tcpEcho;
};

void tst_E2eRestart::initTestCase()
{
    registerEngineMetaTypes();
    QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
    m_udpEcho = std::make_unique<UdpEchoTarget>();
    QVERIFY(m_udpEcho->start());
    m_tcpEcho = std::make_unique<TcpTarget>(TcpTarget::Mode::Echo);
    QVERIFY(m_tcpEcho->start());
}

void tst_E2eRestart::openTunnelsEndAndTheNextRedials_data()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::newRow("h1") << TransportKind::H1;
    QTest::newRow("h2") << TransportKind::H2;
    QTest::newRow("h3") << TransportKind::H3;
}

void tst_E2eRestart::openTunnelsEndAndTheNextRedials()
{
    QFETCH(TransportKind, kind);
    E2eProxy proxy(withTestPkiIdentity(e2eProxyConfig()));
    QVERIFY2(proxy.start(), qPrintable(proxy.error));
    Profile profile = proxy.profile({kind});
    profile.pinSha256 = {QString::fromLatin1(TestPki::instance().serverSpkiSha256.toBase64())};
    E2eClient client(profile);
    QVERIFY(client.configured.ok());

    auto udp = client.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
    QVERIFY2(udp, qPrintable(why(udp)));
    auto tcp = client.openTcp(QStringLiteral("127.0.0.1"), m_tcpEcho->port());
    QVERIFY2(tcp, qPrintable(why(tcp)));
    auto ip = client.openIp();
    QVERIFY2(ip, qPrintable(why(ip)));
    QVERIFY(udpRoundTrip(*udp, "before"));
    QCOMPARE(tcpRoundTrip(*tcp, "before"), QByteArray("before"));

    proxy.stop();
    for (TunnelSession *tunnel :
         {static_cast<TunnelSession *>(*udp), static_cast<TunnelSession *>(*tcp),
          static_cast<TunnelSession *>(*ip)}) {
        const std::optional<Error> reason = waitClosed(tunnel, 15000);
        QVERIFY2(reason, tunnelProtocolName(tunnel->protocol()));
        qInfo("%s %s tunnel ended: %s", transportKindName(kind),
              tunnelProtocolName(tunnel->protocol()), qPrintable(reason->toString()));
        QVERIFY2(endedByTheConnection(*reason, kind), qPrintable(reason->toString()));
    }
    QTRY_COMPARE_WITH_TIMEOUT(client.connectionCount(), 0, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(client.tunnels->tunnels().size(), 0, 5000);

    QVERIFY2(proxy.restart(), qPrintable(proxy.error));
    udp = client.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
    QVERIFY2(udp, qPrintable(why(udp)));
    QCOMPARE((*udp)->transport(), kind);
    QVERIFY(udpRoundTrip(*udp, "after"));
    tcp = client.openTcp(QStringLiteral("127.0.0.1"), m_tcpEcho->port());
    QVERIFY2(tcp, qPrintable(why(tcp)));
    QCOMPARE(tcpRoundTrip(*tcp, "after"), QByteArray("after"));
    QCOMPARE(proxy.stats().tunnelsActive, quint64(2));
}

QTEST_GUILESS_MAIN(tst_E2eRestart)
#include "tst_e2e_restart.moc"
