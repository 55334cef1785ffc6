// The upstream pool on real transports: 300 tunnels through one pool share 3 connections on h2
// and 3 on h3 when the proxy allows 100 streams per connection; every tunnel carries data; once
// they are closed the idle connections close themselves and the pool is empty.

#include "pool/UpstreamOwner.h"
#include "pool/UpstreamPool.h"
#include "support/TestPki.h"
#include "support/TunnelTestProxy.h"
#include "tunnel/TunnelClient.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

constexpr int kTunnels = 300;
constexpr int kIdleMs = 300;

} // namespace

class tst_TunnelPooling : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void threeHundredTunnels_data();
    void threeHundredTunnels();

private:
    TunnelTestProxy m_proxy;
};

void tst_TunnelPooling::initTestCase()
{
    registerSnapshotMetaTypes();
    QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
    ServerOptions options = TunnelTestProxy::serverOptions();
    options.maxConcurrentStreams = 100; // what qmasque-proxy advertises by default
    QVERIFY2(m_proxy.start(TunnelTestProxy::UdpMode::Serve, options), qPrintable(m_proxy.error));
}

void tst_TunnelPooling::threeHundredTunnels_data()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::newRow("h2") << TransportKind::H2;
    QTest::newRow("h3") << TransportKind::H3;
}

void tst_TunnelPooling::threeHundredTunnels()
{
    QFETCH(TransportKind, kind);
    PoolOptions options;
    options.factory = defaultTransportFactory();
    options.owner.idleTimeoutMs = kIdleMs;
    UpstreamPool pool(options);
    TunnelClient client(&pool, defaultTransportFactory());
    Profile profile = m_proxy.profile({kind});
    profile.connectTimeoutMs = 20000;
    QVERIFY(client.configure(profile));
    QSignalSpy removed(&pool, &UpstreamPool::connectionRemoved);

    QList<QPointer<UdpTunnel>> tunnels;
    int failures = 0;
    for (int i = 0; i < kTunnels; ++i) {
        client.openUdp(QStringLiteral("dns.example"), quint16(1000 + i), this,
                       [&](const Result<UdpTunnel *> &result) {
                           if (result)
                               tunnels.append(*result);
                           else
                               ++failures;
                       });
    }
    QTRY_VERIFY_WITH_TIMEOUT(tunnels.size() + failures == kTunnels, 60000);
    QCOMPARE(failures, 0);

    // Every stream slot the proxy allows is used before another connection is dialed.
    const PoolSnapshot snapshot = pool.snapshot();
    QCOMPARE(snapshot.connections.size(), 3);
    for (const ConnectionSnapshot &connection : snapshot.connections) {
        QCOMPARE(connection.transport, kind);
        QCOMPARE(connection.streamsInUse, qint64(100));
        QCOMPARE(connection.streams.size(), 100);
        QCOMPARE(connection.streams.first().state, StreamState::Open);
    }
    QCOMPARE(snapshot.totals.streams, qint64(kTunnels));
    QCOMPARE(snapshot.counters.dialsStarted, quint64(3));

    // Each tunnel carries its own datagrams.
    int echoed = 0;
    for (int i = 0; i < tunnels.size(); ++i) {
        const QByteArray payload = QByteArray::number(i);
        tunnels[i]->setReceiver(
            [&echoed, payload](QByteArrayView received) { echoed += received == payload ? 1 : 0; });
        QVERIFY(tunnels[i]->send(payload));
    }
    QTRY_VERIFY_WITH_TIMEOUT(echoed >= kTunnels * 98 / 100, 10000);

    // Closed tunnels give their slots back; idle connections close by themselves.
    for (const QPointer<UdpTunnel> &tunnel : tunnels)
        tunnel->close();
    QTRY_VERIFY_WITH_TIMEOUT(client.tunnels().isEmpty(), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(removed.count(), 3, 10000);
    QVERIFY(pool.owners().isEmpty());
    QCOMPARE(pool.snapshot().connections.size(), 0);
    for (const QList<QVariant> &arguments : removed)
        QCOMPARE(arguments.at(1).value<Error>().code, ErrorCode::IdleTimeout);
}

QTEST_GUILESS_MAIN(tst_TunnelPooling)
#include "tst_tunnel_pooling.moc"
