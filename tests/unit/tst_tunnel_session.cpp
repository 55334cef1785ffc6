// Tunnel sessions on MockTransport: the life every protocol shares. Streams from the pool (h2/h3)
// or an own connection (h1), the peer checks, refusals with their HTTP status and Proxy-Status,
// events that overtake the response, timeouts, graceful close vs abort, peer FIN / reset /
// connection loss, counters, the dashboard rows and the TunnelRecord.

#include "pool/UpstreamOwner.h"
#include "support/TunnelTestBench.h"
#include "tunnel/TcpTunnel.h"
#include "tunnel/TunnelLink.h"
#include "tunnel/UdpTunnel.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

std::unique_ptr<UdpTunnel> startUdp(TunnelTestBench &bench, TransportKind kind,
                                    int timeoutMs = 2000)
{
    auto tunnel = std::make_unique<UdpTunnel>(bench.config(kind, bench.udpTarget(), timeoutMs));
    tunnel->start();
    return tunnel;
}

Error closeReasonOf(QSignalSpy &spy)
{
    return spy.isEmpty() ? Error() : spy.first().first().value<Error>();
}

void addKinds()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::newRow("h1") << TransportKind::H1;
    QTest::newRow("h2") << TransportKind::H2;
    QTest::newRow("h3") << TransportKind::H3;
}

} // namespace

class tst_TunnelSession : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void opensOnEveryTransport_data() { addKinds(); }
    void opensOnEveryTransport();
    void refusalCarriesStatus_data() { addKinds(); }
    void refusalCarriesStatus();
    void invalidResponseResets();
    void peerChecks_data();
    void peerChecks();
    void dataBeforeResponseKept();
    void replayedBeforeAttachKept();
    void handshakeTimeouts_data();
    void handshakeTimeouts();
    void dialFailureTyped();
    void gracefulCloseReleases_data() { addKinds(); }
    void gracefulCloseReleases();
    void abortResets();
    void peerEnds_data();
    void peerEnds();
    void closeWhileConnecting();
    void destroyedSessionLeavesNothing();
    void rowsAndRecord();
    void directConnectionRow();
    void unpooledH3RoutesDatagrams();
};

void tst_TunnelSession::opensOnEveryTransport()
{
    QFETCH(TransportKind, kind);
    TunnelTestBench bench;
    auto tunnel = startUdp(bench, kind);
    QSignalSpy opened(tunnel.get(), &TunnelSession::opened);
    QVERIFY(opened.wait(2000));
    QCOMPARE(tunnel->state(), TunnelState::Open);
    QCOMPARE(tunnel->isPooled(), kind != TransportKind::H1);
    // The request the transport got is the one built for the target, on every transport.
    const TunnelMockProxy::Seen *seen = bench.proxy.lastRequest(kind);
    QVERIFY(seen);
    QCOMPARE(seen->request.protocol, QByteArray("connect-udp"));
    QCOMPARE(seen->request.path, tunnel->request().path);
    QCOMPARE(seen->request.headers, tunnel->request().headers);
    QCOMPARE(tunnel->streamId(), seen->id);
    QCOMPARE(tunnel->responseStatus(), kind == TransportKind::H1 ? 101 : 200);
    QVERIFY(tunnel->openLatencyMs() >= 0);
    if (kind == TransportKind::H1) {
        QVERIFY(tunnel->connectionId() >= TunnelLink::kDirectConnectionIdBase);
        QCOMPARE(bench.pool->owners().size(), 0);
    } else {
        QCOMPARE(bench.pool->owners().size(), 1);
        QCOMPARE(tunnel->connectionId(), bench.pool->owners().first()->id());
    }
}

void tst_TunnelSession::refusalCarriesStatus()
{
    QFETCH(TransportKind, kind);
    TunnelTestBench bench;
    TunnelMockProxy::Answer answer;
    answer.status = 403;
    answer.headers = HeaderList{
        {"proxy-status", "qmasque; error=destination_ip_prohibited; details=\"private\""}};
    bench.proxy.setAnswer(kind, answer);
    auto tunnel = startUdp(bench, kind);
    QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
    QSignalSpy opened(tunnel.get(), &TunnelSession::opened);
    QVERIFY(closed.wait(2000));
    QCOMPARE(opened.count(), 0);
    const Error reason = closeReasonOf(closed);
    QCOMPARE(reason.code, ErrorCode::HandshakeRejected);
    QCOMPARE(reason.httpStatus, 403);
    QCOMPARE(reason.proxyErrorType, u"destination_ip_prohibited"_qs);
    QCOMPARE(reason.proxyErrorDetails, u"private"_qs);
    const TunnelRecord record = tunnel->record();
    QCOMPARE(record.responseStatus, 403);
    QCOMPARE(record.closeReason, u"handshake_rejected"_qs);
    QVERIFY(record.proxyStatus.contains(u"destination_ip_prohibited"_qs));
    QCOMPARE(record.openLatencyMs, qint64(-1));
    // Nothing is left: the stream was reset (pooled) or the connection closed (h1).
    if (kind != TransportKind::H1) {
        MockTransport *transport = bench.proxy.last(kind);
        QVERIFY(transport->called("resetStream", tunnel->streamId()));
        QTRY_COMPARE(bench.pool->owners().first()->streamsInUse(), qint64(0));
    } else {
        QTRY_COMPARE(bench.network.transports().size(), 0);
    }
}

void tst_TunnelSession::invalidResponseResets()
{
    TunnelTestBench bench;
    TunnelMockProxy::Answer answer;
    answer.headers = HeaderList{}; // no capsule-protocol echo
    bench.proxy.setAnswer(TransportKind::H2, answer);
    auto tunnel = startUdp(bench, TransportKind::H2);
    QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
    QVERIFY(closed.wait(2000));
    QCOMPARE(closeReasonOf(closed).code, ErrorCode::CapsuleProtocolNotAcknowledged);
    QVERIFY(bench.proxy.last(TransportKind::H2)->called("resetStream", tunnel->streamId()));
}

void tst_TunnelSession::peerChecks_data()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::addColumn<bool>("tcp");
    QTest::addColumn<bool>("extendedConnect");
    QTest::addColumn<bool>("h3Datagram");
    QTest::addColumn<QString>("error"); // empty: opens

    QTest::newRow("h2 no extended connect")
        << TransportKind::H2 << false << false << false << "no_extended_connect";
    QTest::newRow("h3 no datagrams")
        << TransportKind::H3 << false << true << false << "no_h3_datagram";
    QTest::newRow("h3 tcp without datagrams")
        << TransportKind::H3 << true << true << false << QString();
    QTest::newRow("h2 classic connect without extended")
        << TransportKind::H2 << true << false << false << QString();
}

void tst_TunnelSession::peerChecks()
{
    QFETCH(TransportKind, kind);
    QFETCH(bool, tcp);
    QFETCH(bool, extendedConnect);
    QFETCH(bool, h3Datagram);
    QFETCH(QString, error);
    TunnelTestBench bench;
    connect(&bench.network, &MockNetwork::transportCreated, this, [&](MockTransport *transport) {
        transport->setPeerExtendedConnect(extendedConnect);
        transport->setPeerH3Datagram(h3Datagram);
    });
    std::unique_ptr<TunnelSession> tunnel;
    if (tcp)
        tunnel = std::make_unique<TcpTunnel>(bench.config(kind, bench.tcpTarget()));
    else
        tunnel = std::make_unique<UdpTunnel>(bench.config(kind, bench.udpTarget()));
    QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
    QSignalSpy opened(tunnel.get(), &TunnelSession::opened);
    tunnel->start();
    if (error.isEmpty()) {
        QVERIFY(opened.wait(2000));
        return;
    }
    QVERIFY(closed.wait(2000));
    QCOMPARE(QString::fromLatin1(closeReasonOf(closed).name()), error);
    // The pooled stream that could not serve the tunnel was given back, reset.
    MockTransport *transport = bench.proxy.last(kind);
    QVERIFY(transport->callCount("resetStream") == 1);
    QCOMPARE(bench.pool->owners().first()->streamsInUse(), qint64(0));
}

void tst_TunnelSession::dataBeforeResponseKept()
{
    TunnelTestBench bench;
    bench.proxy.setAnswer(TransportKind::H3, TunnelMockProxy::Answer{false, 0, 0, {}});
    auto tunnel = startUdp(bench, TransportKind::H3);
    QByteArrayList received;
    tunnel->setReceiver([&](QByteArrayView payload) { received.append(payload.toByteArray()); });
    QTRY_VERIFY(bench.proxy.lastRequest(TransportKind::H3));
    MockTransport *transport = bench.proxy.last(TransportKind::H3);
    const StreamId id = bench.proxy.lastRequest(TransportKind::H3)->id;

    // A DATAGRAM capsule on the stream and QUIC datagrams that overtake the 2xx (RFC 9297, 2.1).
    transport->simulateData(id, TunnelTestBench::datagramCapsule("capsule-1"));
    transport->simulateDatagram(id, TunnelTestBench::httpDatagram("quic-1"));
    for (int i = 0; i < TunnelSession::kMaxEarlyDatagrams + 3; ++i)
        transport->simulateDatagram(id, TunnelTestBench::httpDatagram("more"));
    QCOMPARE(tunnel->state(), TunnelState::Connecting);
    QVERIFY(received.isEmpty());

    QSignalSpy opened(tunnel.get(), &TunnelSession::opened);
    transport->simulateResponse(id, 200, {{"capsule-protocol", "?1"}});
    QCOMPARE(opened.count(), 1);
    QCOMPARE(received.size(), 1 + TunnelSession::kMaxEarlyDatagrams);
    QCOMPARE(received.at(0), QByteArray("capsule-1"));
    QCOMPARE(received.at(1), QByteArray("quic-1"));
    QCOMPARE(tunnel->counters().dropEarly, quint64(4));
    QCOMPARE(tunnel->counters().datagramsReceived, quint64(received.size()));
}

void tst_TunnelSession::replayedBeforeAttachKept()
{
    // Events that arrive before the pool registers the session are replayed inside the acquire,
    // before the session learns its stream id (erlang-masque 0.7.0 lost them).
    TunnelTestBench bench;
    bench.proxy.setAnswer(TransportKind::H2, TunnelMockProxy::Answer{false, 0, 0, {}});
    auto tunnel = std::make_unique<UdpTunnel>(bench.config(TransportKind::H2, bench.udpTarget()));
    QByteArrayList received;
    tunnel->setReceiver([&](QByteArrayView payload) { received.append(payload.toByteArray()); });
    QSignalSpy opened(tunnel.get(), &TunnelSession::opened);
    connect(&bench.proxy, &TunnelMockProxy::requestSeen, this, [&](TransportKind, StreamId id) {
        MockTransport *transport = bench.proxy.last(TransportKind::H2);
        // Inside submitRequest: no handler yet, the transport keeps them.
        transport->simulateResponse(id, 200, {{"capsule-protocol", "?1"}});
        transport->simulateData(id, TunnelTestBench::datagramCapsule("first"));
        transport->simulateData(id, TunnelTestBench::datagramCapsule("second"));
    });
    tunnel->start();
    QVERIFY(opened.wait(2000));
    QCOMPARE(received, QByteArrayList({"first", "second"}));
}

void tst_TunnelSession::handshakeTimeouts_data()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::addColumn<bool>("connects");
    QTest::addColumn<QString>("stage");

    QTest::newRow("h2 no response") << TransportKind::H2 << true << "no response";
    QTest::newRow("h3 no connection") << TransportKind::H3 << false << "no connection";
    QTest::newRow("h1 no response") << TransportKind::H1 << true << "no response";
    QTest::newRow("h1 no connection") << TransportKind::H1 << false << "no connection";
}

void tst_TunnelSession::handshakeTimeouts()
{
    QFETCH(TransportKind, kind);
    QFETCH(bool, connects);
    QFETCH(QString, stage);
    TunnelTestBench bench;
    if (!connects)
        bench.network.setDefaultConnect(MockConnect::never());
    bench.proxy.setAnswer(kind, TunnelMockProxy::Answer{false, 0, 0, {}});
    auto tunnel = startUdp(bench, kind, 150);
    QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
    QVERIFY(closed.wait(2000));
    const Error reason = closeReasonOf(closed);
    QCOMPARE(reason.code, ErrorCode::HandshakeTimeout);
    QVERIFY2(reason.detail.contains(stage), qPrintable(reason.detail));
    QCOMPARE(tunnel->reachedProxy(), connects);
    // No pool ticket, no stream slot; an h1 connection is closed and gone.
    QCOMPARE(bench.pool->pendingCount(), qint64(0));
    for (UpstreamOwner *owner : bench.pool->owners())
        QCOMPARE(owner->streamsInUse(), qint64(0));
    if (kind == TransportKind::H1)
        QTRY_COMPARE(bench.network.transports().size(), 0);
}

void tst_TunnelSession::dialFailureTyped()
{
    TunnelTestBench bench;
    bench.network.setDefaultConnect(MockConnect::fail(
        Error(ErrorCode::TlsUntrustedCertificate, QStringLiteral("self-signed"))));
    for (TransportKind kind : {TransportKind::H1, TransportKind::H2}) {
        auto tunnel = startUdp(bench, kind);
        QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
        QVERIFY(closed.wait(2000));
        QCOMPARE(closeReasonOf(closed).code, ErrorCode::TlsUntrustedCertificate);
        QVERIFY(!tunnel->reachedProxy());
    }
}

void tst_TunnelSession::gracefulCloseReleases()
{
    QFETCH(TransportKind, kind);
    TunnelTestBench bench;
    auto tunnel = startUdp(bench, kind);
    QSignalSpy opened(tunnel.get(), &TunnelSession::opened);
    QVERIFY(opened.wait(2000));
    MockTransport *transport = bench.transportOf(*tunnel);
    QVERIFY(transport);
    const StreamId id = tunnel->streamId();
    QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
    tunnel->close();
    QCOMPARE(closed.count(), 0); // never from inside the call
    QVERIFY(closed.wait(1000));
    QCOMPARE(closeReasonOf(closed).code, ErrorCode::LocalClose);
    // FIN, no reset: bytes in flight are not thrown away (erlang-masque pitfall 8).
    QVERIFY(transport->called("endStream", id));
    QVERIFY(!transport->called("resetStream", id));
    if (kind == TransportKind::H1) {
        // The connection lingers until it flushed (the mock never closes on its own).
        QVERIFY(transport->called("goaway", -1));
    } else {
        QVERIFY(transport->called("clearStreamHandler", id));
        QCOMPARE(bench.pool->owners().first()->streamsInUse(), qint64(0));
    }
    tunnel->close(); // idempotent
    QVERIFY(!closed.wait(50));
}

void tst_TunnelSession::abortResets()
{
    TunnelTestBench bench;
    auto udp = startUdp(bench, TransportKind::H3);
    auto tcp = std::make_unique<TcpTunnel>(bench.config(TransportKind::H3, bench.tcpTarget()));
    tcp->start();
    QSignalSpy udpOpened(udp.get(), &TunnelSession::opened);
    QSignalSpy tcpOpened(tcp.get(), &TunnelSession::opened);
    QTRY_VERIFY(udpOpened.count() == 1 && tcpOpened.count() == 1);
    MockTransport *transport = bench.proxy.last(TransportKind::H3);
    udp->abort();
    tcp->abort();
    // TCP tunnels end like a TCP RST: CONNECT_ERROR / H3_CONNECT_ERROR (RFC 9114, 4.4).
    bool sawCancel = false;
    bool sawConnectError = false;
    for (const MockTransport::Call &call : transport->calls()) {
        if (call.name != "resetStream")
            continue;
        sawCancel = sawCancel || (call.id == udp->streamId() && call.detail == "cancel");
        sawConnectError =
            sawConnectError || (call.id == tcp->streamId() && call.detail == "connect_error");
    }
    QVERIFY(sawCancel);
    QVERIFY(sawConnectError);
    QVERIFY(!transport->called("endStream", tcp->streamId()));
    QCOMPARE(bench.pool->owners().first()->streamsInUse(), qint64(0));
}

void tst_TunnelSession::peerEnds_data()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::addColumn<int>("how"); // 0 FIN, 1 reset, 2 connection closed, 3 GOAWAY reset
    QTest::addColumn<QString>("reason");

    QTest::newRow("h2 fin") << TransportKind::H2 << 0 << "peer_fin";
    QTest::newRow("h3 reset") << TransportKind::H3 << 1 << "peer_reset";
    QTest::newRow("h3 connection") << TransportKind::H3 << 2 << "connection_closed";
    QTest::newRow("h2 goaway") << TransportKind::H2 << 3 << "goaway";
    QTest::newRow("h1 connection") << TransportKind::H1 << 2 << "connection_closed";
}

void tst_TunnelSession::peerEnds()
{
    QFETCH(TransportKind, kind);
    QFETCH(int, how);
    QFETCH(QString, reason);
    TunnelTestBench bench;
    auto tunnel = startUdp(bench, kind);
    QSignalSpy opened(tunnel.get(), &TunnelSession::opened);
    QVERIFY(opened.wait(2000));
    MockTransport *transport = bench.transportOf(*tunnel);
    const StreamId id = tunnel->streamId();
    QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
    switch (how) {
    case 0:
        transport->simulateData(id, {}, true);
        break;
    case 1: {
        Error reset(ErrorCode::PeerReset, QStringLiteral("peer"));
        reset.wireCode = 0x10c;
        transport->simulateReset(id, reset);
        break;
    }
    case 2:
        transport->simulateClose(Error(ErrorCode::IdleTimeout, QStringLiteral("idle")));
        break;
    case 3:
        transport->simulateReset(id, Error(ErrorCode::Goaway, QStringLiteral("refused")));
        break;
    }
    QVERIFY(closed.wait(1000));
    const Error error = closeReasonOf(closed);
    QCOMPARE(QString::fromLatin1(error.name()), reason);
    if (how == 0) {
        // A datagram tunnel answers the proxy's FIN with its own and releases gracefully.
        QVERIFY(transport->called("endStream", id));
        QVERIFY(!transport->called("resetStream", id));
    }
    if (how == 1)
        QCOMPARE(error.wireCode, quint64(0x10c));
    if (how == 2)
        QVERIFY(error.detail.contains(u"idle_timeout"_qs));
}

void tst_TunnelSession::closeWhileConnecting()
{
    TunnelTestBench bench;
    bench.network.setDefaultConnect(MockConnect::succeed(50));
    auto tunnel = startUdp(bench, TransportKind::H2);
    QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
    tunnel->close(); // the checkout is still waiting for the dial
    QCOMPARE(bench.pool->pendingCount(), qint64(0));
    QVERIFY(closed.wait(1000));
    QCOMPARE(closeReasonOf(closed).code, ErrorCode::LocalClose);
    // The checkout was withdrawn before the pool dialed: no connection is made for nobody.
    QCOMPARE(bench.pool->dialsInFlight(), qint64(0));
    QCOMPARE(bench.pool->owners().size(), 0);
    QCOMPARE(bench.network.factoryCalls(), 0);
}

void tst_TunnelSession::destroyedSessionLeavesNothing()
{
    TunnelTestBench bench;
    auto pooled = startUdp(bench, TransportKind::H2);
    auto direct = startUdp(bench, TransportKind::H1);
    QSignalSpy pooledOpened(pooled.get(), &TunnelSession::opened);
    QSignalSpy directOpened(direct.get(), &TunnelSession::opened);
    QTRY_VERIFY(pooledOpened.count() == 1 && directOpened.count() == 1);
    MockTransport *h2 = bench.transportOf(*pooled);
    const StreamId id = pooled->streamId();
    pooled.reset();
    direct.reset();
    QVERIFY(h2->called("resetStream", id));
    QCOMPARE(bench.pool->owners().first()->streamsInUse(), qint64(0));
    QTRY_COMPARE(bench.network.transports().size(), 1); // the h1 connection is gone
}

void tst_TunnelSession::rowsAndRecord()
{
    TunnelTestBench bench;
    auto tunnel = startUdp(bench, TransportKind::H3);
    tunnel->setLocalClient(QStringLiteral("socks5 127.0.0.1:5000"));
    QSignalSpy opened(tunnel.get(), &TunnelSession::opened);
    QVERIFY(opened.wait(2000));
    tunnel->setReceiver([](QByteArrayView) {});
    MockTransport *transport = bench.transportOf(*tunnel);
    const StreamId id = tunnel->streamId();
    QVERIFY(tunnel->send("12345"));
    QVERIFY(tunnel->send("678"));
    transport->failNextDatagram(Error(ErrorCode::QueueFull));
    QCOMPARE(tunnel->send("lost").error().code, ErrorCode::QueueFull);
    transport->simulateDatagram(id, TunnelTestBench::httpDatagram("abcd"));
    transport->simulateDatagram(id, TunnelTestBench::httpDatagram("ctx", 2));

    const PoolSnapshot snapshot = bench.pool->snapshot();
    QCOMPARE(snapshot.connections.size(), 1);
    QCOMPARE(snapshot.connections.first().streams.size(), 1);
    const StreamSnapshot row = snapshot.connections.first().streams.first();
    QCOMPARE(row.streamId, id);
    QCOMPARE(row.protocol, TunnelProtocol::Udp);
    QCOMPARE(row.target, u"dns.example:53"_qs);
    QCOMPARE(row.localClient, u"socks5 127.0.0.1:5000"_qs);
    QCOMPARE(row.state, StreamState::Open);
    QCOMPARE(row.responseStatus, 200);
    QCOMPARE(row.datagramPath, DatagramPath::QuicDatagram);
    QCOMPARE(row.bytesSent, quint64(8));
    QCOMPARE(row.bytesReceived, quint64(4));
    QCOMPARE(row.datagramsSent, quint64(2));
    QCOMPARE(row.datagramsReceived, quint64(1));
    QCOMPARE(row.datagramsDropped, quint64(2)); // queue full + unknown context
    QCOMPARE(tunnel->counters().dropQueueFull, quint64(1));
    QCOMPARE(tunnel->counters().dropUnknownContext, quint64(1));

    QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
    tunnel->close();
    QVERIFY(closed.wait(1000));
    const TunnelRecord record = tunnel->record();
    QCOMPARE(record.tunnelId, quint64(7));
    QCOMPARE(record.protocol, TunnelProtocol::Udp);
    QCOMPARE(record.transport, TransportKind::H3);
    QCOMPARE(record.connectionId, bench.pool->owners().first()->id());
    QCOMPARE(record.streamId, id);
    QCOMPARE(record.target, u"dns.example:53"_qs);
    QCOMPARE(record.localClient, u"socks5 127.0.0.1:5000"_qs);
    QCOMPARE(record.responseStatus, 200);
    QCOMPARE(record.closeReason, u"local_close"_qs);
    QVERIFY(record.openedAtMs > 0 && record.closedAtMs >= record.openedAtMs);
    QVERIFY(record.openLatencyMs >= 0);
    QVERIFY(tunnel->openDurationMs() >= 0);
    QCOMPARE(record.bytesSent, quint64(8));
    QCOMPARE(record.bytesReceived, quint64(4));
    QCOMPARE(record.datagramsSent, quint64(2));
    QCOMPARE(record.datagramsReceived, quint64(1));
    QCOMPARE(record.datagramsDropped, quint64(2));
    QVERIFY(!tunnel->directConnection());
}

void tst_TunnelSession::directConnectionRow()
{
    TunnelTestBench bench;
    auto tunnel = startUdp(bench, TransportKind::H1);
    QSignalSpy opened(tunnel.get(), &TunnelSession::opened);
    QVERIFY(opened.wait(2000));
    const std::optional<ConnectionSnapshot> row = tunnel->directConnection();
    QVERIFY(row);
    QCOMPARE(row->id, tunnel->connectionId());
    QCOMPARE(row->transport, TransportKind::H1);
    QCOMPARE(row->proxyHost, u"proxy.example"_qs);
    QCOMPARE(row->proxyPort, quint16(443));
    QCOMPARE(row->streamsInUse, qint64(1));
    QCOMPARE(row->streamLimit, qint64(1));
    QCOMPARE(row->streams.size(), 1);
    QCOMPARE(row->streams.first().target, u"dns.example:53"_qs);
    QCOMPARE(row->streams.first().datagramPath, DatagramPath::Capsule);
    QCOMPARE(row->streams.first().responseStatus, 101);
}

void tst_TunnelSession::unpooledH3RoutesDatagrams()
{
    // Without a pool an h3 tunnel dials its own connection and routes its datagrams itself.
    TunnelTestBench bench;
    TunnelConfig config = bench.config(TransportKind::H3, bench.udpTarget());
    config.pool = nullptr;
    UdpTunnel tunnel(config);
    QSignalSpy opened(&tunnel, &TunnelSession::opened);
    tunnel.start();
    QVERIFY(opened.wait(2000));
    QVERIFY(!tunnel.isPooled());
    QCOMPARE(bench.pool->owners().size(), 0);
    QByteArrayList received;
    tunnel.setReceiver([&](QByteArrayView payload) { received.append(payload.toByteArray()); });
    MockTransport *transport = bench.transportOf(tunnel);
    transport->simulateDatagram(tunnel.streamId(), TunnelTestBench::httpDatagram("mine"));
    transport->simulateDatagram(tunnel.streamId() + 4, TunnelTestBench::httpDatagram("other"));
    QCOMPARE(received, QByteArrayList({"mine"}));
    QVERIFY(tunnel.directConnection());
}

QTEST_GUILESS_MAIN(tst_TunnelSession)
#include "tst_tunnel_session.moc"
