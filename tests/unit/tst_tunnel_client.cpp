// TunnelClient, the facade the local front ends use, on MockTransport: configuration errors,
// opens that fail before racing, callbacks from the event loop only, ownership of open tunnels,
// tunnelClosed records, the h1 connection rows, closeAll.

#include "pool/UpstreamOwner.h"
#include "support/TunnelTestBench.h"
#include "tunnel/TunnelClient.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

class tst_TunnelClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { registerEngineMetaTypes(); }
    void configureErrors();
    void badTargetFailsFromTheEventLoop();
    void unconfiguredFails();
    void ownsOpenTunnels();
    void directConnectionRows();
    void closeAll();
};

void tst_TunnelClient::configureErrors()
{
    TunnelTestBench bench;
    TunnelClient client(bench.pool.get(), bench.network.factory());
    Profile profile = bench.profile;
    profile.proxy = QStringLiteral("http://proxy.example");
    QCOMPARE(client.configure(profile).error().code, ErrorCode::InvalidConfig);
    profile = bench.profile;
    profile.headers = {QStringLiteral("Upgrade: h2c")};
    QCOMPARE(client.configure(profile).error().code, ErrorCode::ReservedHeader);
    profile = bench.profile;
    profile.transports.clear();
    QCOMPARE(client.configure(profile).error().code, ErrorCode::InvalidConfig);
    profile = bench.profile;
    profile.pinSha256 = {QStringLiteral("not-a-pin")};
    QCOMPARE(client.configure(profile).error().code, ErrorCode::InvalidConfig);
    QVERIFY(!client.isConfigured());
    QVERIFY(client.configure(bench.profile));
    QVERIFY(client.isConfigured());
    QCOMPARE(client.proxyKey(), QStringLiteral("proxy.example:443"));
}

void tst_TunnelClient::badTargetFailsFromTheEventLoop()
{
    TunnelTestBench bench;
    TunnelClient client(bench.pool.get(), bench.network.factory());
    QVERIFY(client.configure(bench.profile));
    QSignalSpy failed(&client, &TunnelClient::tunnelFailed);
    std::optional<Error> error;
    const quint64 id = client.openUdp(QStringLiteral("no spaces allowed"), 53, this,
                                      [&](const Result<UdpTunnel *> &result) {
                                          QVERIFY(!result);
                                          error = result.error();
                                      });
    QVERIFY(id != 0);
    QVERIFY(!error); // never inside open*()
    QTRY_VERIFY(error);
    QCOMPARE(error->code, ErrorCode::BadHost);
    QCOMPARE(failed.count(), 1);
    QCOMPARE(failed.first().first().toULongLong(), id);
    QCOMPARE(bench.network.factoryCalls(), 0);

    // Cancelled before the event loop ran: nothing is called.
    bool called = false;
    const quint64 cancelled = client.openTcp(QStringLiteral("a.example"), 0, this,
                                             [&](const Result<TcpTunnel *> &) { called = true; });
    client.cancel(cancelled);
    QVERIFY(!failed.wait(100));
    QVERIFY(!called);
}

void tst_TunnelClient::unconfiguredFails()
{
    TunnelTestBench bench;
    TunnelClient client(bench.pool.get(), bench.network.factory());
    std::optional<Error> error;
    client.openIp(wire::IpScope{}, nullptr, [&](const Result<IpTunnel *> &result) {
        if (!result)
            error = result.error();
    });
    QTRY_VERIFY(error);
    QCOMPARE(error->code, ErrorCode::InvalidConfig);
}

void tst_TunnelClient::ownsOpenTunnels()
{
    TunnelTestBench bench;
    TunnelClient client(bench.pool.get(), bench.network.factory());
    Profile profile = bench.profile;
    profile.transports = {TransportKind::H2};
    QVERIFY(client.configure(profile));
    QSignalSpy opened(&client, &TunnelClient::tunnelOpened);
    QSignalSpy closed(&client, &TunnelClient::tunnelClosed);
    QPointer<TcpTunnel> tunnel;
    const quint64 id = client.openTcp(
        QStringLiteral("web.example"), 443, this,
        [&](const Result<TcpTunnel *> &result) { tunnel = result ? *result : nullptr; },
        QStringLiteral("socks5 127.0.0.1:4000"));
    QTRY_VERIFY(tunnel);
    QCOMPARE(opened.count(), 1);
    QCOMPARE(opened.first().at(0).toULongLong(), id);
    QCOMPARE(tunnel->tunnelId(), id);
    QCOMPARE(tunnel->parent(), &client);
    QCOMPARE(client.tunnel(id), tunnel.data());
    QCOMPARE(client.tunnels().size(), 1);
    QCOMPARE(tunnel->localClient(), QStringLiteral("socks5 127.0.0.1:4000"));

    QVERIFY(tunnel->write("GET / HTTP/1.1\r\n\r\n"));
    tunnel->close();
    QVERIFY(closed.wait(1000));
    const TunnelRecord record = closed.first().first().value<TunnelRecord>();
    QCOMPARE(record.tunnelId, id);
    QCOMPARE(record.protocol, TunnelProtocol::Tcp);
    QCOMPARE(record.transport, TransportKind::H2);
    QCOMPARE(record.target, QStringLiteral("web.example:443"));
    QCOMPARE(record.localClient, QStringLiteral("socks5 127.0.0.1:4000"));
    QCOMPARE(record.bytesSent, quint64(18));
    QCOMPARE(record.closeReason, QStringLiteral("local_close"));
    QTRY_VERIFY(!tunnel); // the client deleted it
    QVERIFY(client.tunnels().isEmpty());
}

void tst_TunnelClient::directConnectionRows()
{
    TunnelTestBench bench;
    TunnelClient client(bench.pool.get(), bench.network.factory());
    Profile profile = bench.profile;
    profile.transports = {TransportKind::H1};
    QVERIFY(client.configure(profile));
    QList<QPointer<UdpTunnel>> tunnels;
    for (int i = 0; i < 2; ++i) {
        client.openUdp(QStringLiteral("dns.example"), 53, this,
                       [&](const Result<UdpTunnel *> &result) {
                           if (result)
                               tunnels.append(*result);
                       });
    }
    QTRY_COMPARE(tunnels.size(), 2);
    const QList<ConnectionSnapshot> rows = client.directConnections();
    QCOMPARE(rows.size(), 2);
    QVERIFY(rows.at(0).id < rows.at(1).id);
    for (const ConnectionSnapshot &row : rows) {
        QCOMPARE(row.transport, TransportKind::H1);
        QCOMPARE(row.streams.size(), 1);
        QCOMPARE(row.streams.first().protocol, TunnelProtocol::Udp);
    }
    QVERIFY(bench.pool->snapshot().connections.isEmpty()); // h1 is never pooled
}

void tst_TunnelClient::closeAll()
{
    TunnelTestBench bench;
    TunnelClient client(bench.pool.get(), bench.network.factory());
    Profile profile = bench.profile;
    profile.transports = {TransportKind::H3};
    QVERIFY(client.configure(profile));
    QPointer<UdpTunnel> open;
    client.openUdp(QStringLiteral("dns.example"), 53, this,
                   [&](const Result<UdpTunnel *> &result) { open = result ? *result : nullptr; });
    QTRY_VERIFY(open);
    bench.proxy.setAnswer(TransportKind::H3, TunnelMockProxy::Answer{false, 0, 0, {}});
    bool pendingCalled = false;
    client.openUdp(QStringLiteral("dns.example"), 54, this,
                   [&](const Result<UdpTunnel *> &) { pendingCalled = true; });
    QTRY_COMPARE(bench.proxy.requests().size(), 2);
    QSignalSpy closed(&client, &TunnelClient::tunnelClosed);
    client.closeAll();
    QCOMPARE(client.pendingOpens(), 0);
    QVERIFY(closed.wait(1000));
    QTRY_VERIFY(client.tunnels().isEmpty());
    QVERIFY(!pendingCalled);
    QCOMPARE(bench.pool->owners().first()->streamsInUse(), qint64(0));
}

QTEST_GUILESS_MAIN(tst_TunnelClient)
#include "tst_tunnel_client.moc"
