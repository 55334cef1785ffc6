// End to end, pooling against qmasque-proxy's default limit (100 tunnels per connection,
// advertised as h2 SETTINGS_MAX_CONCURRENT_STREAMS / h3 MAX_STREAMS): 300 UDP tunnels opened at
// once share exactly 3 upstream connections, over h2 and over h3; the proxy sees 3 connections
// and 300 tunnels and refuses none (the client never asks beyond the advertised limit); every
// tunnel carries a datagram; a tunnel opened right as they all close waits for the first freed
// slot (the pool may dial no fourth connection) instead of failing with stream_limit; then the
// pooled connections serve TCP, IP and UDP tunnels without a new dial.

#include "support/E2eBench.h"
#include "support/ProxyTestTargets.h"
#include "support/TunnelWaiter.h"

#include <QtCore/QSet>
#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::test;

namespace {

constexpr int kTunnels = 300;

} // namespace

class tst_E2ePooling : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void threeHundredOnThreeConnections_data();
    void threeHundredOnThreeConnections();

private:
    std::unique_ptr<E2eProxy> m_proxy;
    std::unique_ptr<UdpEchoTarget> m_echo;
    std::unique_ptr<TcpTarget> m_tcpEcho;
};

void tst_E2ePooling::initTestCase()
{
    registerEngineMetaTypes();
    m_proxy = std::make_unique<E2eProxy>(e2eProxyConfig(), true);
    QCOMPARE(m_proxy->config().maxTunnelsPerConnection, 100); // the default under test
    QVERIFY2(m_proxy->start(), qPrintable(m_proxy->error));
    m_echo = std::make_unique<UdpEchoTarget>();
    QVERIFY(m_echo->start());
    m_tcpEcho = std::make_unique<TcpTarget>(TcpTarget::Mode::Echo);
    QVERIFY(m_tcpEcho->start());
}

void tst_E2ePooling::threeHundredOnThreeConnections_data()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::newRow("h2") << TransportKind::H2;
    QTest::newRow("h3") << TransportKind::H3;
}

void tst_E2ePooling::threeHundredOnThreeConnections()
{
    QFETCH(TransportKind, kind);
    const ProxyStats before = m_proxy->stats();
    // At most 3 connections: a tunnel that finds them full must wait for a slot.
    PoolOptions poolOptions;
    poolOptions.maxConnectionsPerFingerprint = 3;
    E2eClient client(m_proxy->profile({kind}), poolOptions);
    QVERIFY(client.configured.ok());

    // All at once: the pool queues what does not fit and dials the next connection.
    QList<QPointer<UdpTunnel>> tunnels;
    QList<Error> failures;
    TunnelWaiter waiter;
    for (int i = 0; i < kTunnels; ++i) {
        client.tunnels->openUdp(QStringLiteral("127.0.0.1"), m_echo->port(), this,
                                [&](const Result<UdpTunnel *> &result) {
                                    if (result)
                                        tunnels.append(*result);
                                    else
                                        failures.append(result.error());
                                    waiter.poke();
                                });
    }
    QVERIFY(waiter.wait([&] { return tunnels.size() + failures.size() == kTunnels; }, 60000));
    for (const Error &failure : std::as_const(failures))
        qWarning("failed: %s", qPrintable(failure.toString()));
    QCOMPARE(failures.size(), 0);

    QSet<quint64> connections;
    for (const QPointer<UdpTunnel> &tunnel : std::as_const(tunnels)) {
        QVERIFY(tunnel && tunnel->isOpen());
        QCOMPARE(tunnel->transport(), kind);
        connections.insert(tunnel->connectionId());
    }
    QCOMPARE(connections.size(), 3);
    QCOMPARE(client.connectionCount(), 3);
    for (UpstreamOwner *owner : client.pool->owners()) {
        QCOMPARE(owner->streamLimit(), qint64(100));
        QCOMPARE(owner->streamsInUse(), qint64(100));
    }
    const ProxyStats during = m_proxy->stats();
    QCOMPARE(during.connectionsTotal - before.connectionsTotal, quint64(3));
    QCOMPARE(during.tunnelsActive, quint64(kTunnels));
    QCOMPARE(during.rejections, before.rejections);

    // Every tunnel carries a datagram to the echo and back.
    int echoed = 0;
    for (const QPointer<UdpTunnel> &tunnel : std::as_const(tunnels))
        echoed += udpRoundTrip(tunnel, "pooled") ? 1 : 0;
    QCOMPARE(echoed, kTunnels);

    for (const QPointer<UdpTunnel> &tunnel : std::as_const(tunnels))
        tunnel->close();
    // At once, while the closed tunnels' streams are still closing on the wire (the owners
    // count them free, the transports do not yet): the next tunnel still opens, on the first
    // slot the proxy frees (h2: its END_STREAM closes the stream, RFC 9113, 5.1.2; h3: its
    // MAX_STREAMS credit), never failing with stream_limit, and without a fourth connection.
    auto next = client.openUdp(QStringLiteral("127.0.0.1"), m_echo->port());
    QVERIFY2(next, qPrintable(why(next)));
    QVERIFY(connections.contains((*next)->connectionId()));
    QVERIFY(udpRoundTrip(*next, "right after"));
    (*next)->close();
    QTRY_COMPARE_WITH_TIMEOUT(m_proxy->stats().tunnelsActive, quint64(0), 20000);
    QTRY_COMPARE_WITH_TIMEOUT(client.tunnels->tunnels().size(), 0, 5000);
    // The connections stay pooled for the next tunnels, of every protocol: a TCP, an IP and a
    // UDP tunnel reuse them (no new dial) and carry their data.
    QCOMPARE(client.connectionCount(), 3);
    auto tcp = client.openTcp(QStringLiteral("127.0.0.1"), m_tcpEcho->port());
    QVERIFY2(tcp, qPrintable(why(tcp)));
    auto ip = client.openIp();
    QVERIFY2(ip, qPrintable(why(ip)));
    auto udp = client.openUdp(QStringLiteral("127.0.0.1"), m_echo->port());
    QVERIFY2(udp, qPrintable(why(udp)));
    for (TunnelSession *tunnel :
         {static_cast<TunnelSession *>(*tcp), static_cast<TunnelSession *>(*ip),
          static_cast<TunnelSession *>(*udp)})
        QVERIFY(connections.contains(tunnel->connectionId()));
    QCOMPARE(tcpRoundTrip(*tcp, "pooled tcp"), QByteArray("pooled tcp"));
    QVERIFY(udpRoundTrip(*udp, "pooled udp"));
    auto ids = (*ip)->requestAddresses({wire::IpPrefix::host(wire::IpAddress::zero(4))});
    QVERIFY2(ids, qPrintable(why(ids)));
    QTRY_VERIFY_WITH_TIMEOUT((*ip)->pendingRequests().isEmpty(), 10000);
    QCOMPARE((*ip)->assignedAddresses().size(), 1);
    QCOMPARE(client.connectionCount(), 3);
    QCOMPARE(m_proxy->stats().connectionsTotal - before.connectionsTotal, quint64(3));
}

QTEST_GUILESS_MAIN(tst_E2ePooling)
#include "tst_e2e_pooling.moc"
