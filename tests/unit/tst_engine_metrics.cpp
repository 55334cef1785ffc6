// EngineMetrics: the client's OpenMetrics families, counted from events and levels, monotonic
// across scrapes, with another registry's text merged before the one "# EOF".

#include "service/EngineMetrics.h"
#include "tunnel/TunnelSession.h"

#include <QtTest/QTest>

using namespace qmasque;

namespace {

// sample: the value of one exposition line "name{labels} value", or -1 when absent.
double sample(const QByteArray &text, const QByteArray &series)
{
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith(QByteArray(series + ' ')))
            return line.mid(series.size() + 1).toDouble();
    }
    return -1;
}

TunnelRecord record(quint64 id, qint64 latencyMs, const char *reason)
{
    TunnelRecord r;
    r.tunnelId = id;
    r.protocol = TunnelProtocol::Tcp;
    r.transport = TransportKind::H2;
    r.openLatencyMs = latencyMs;
    r.closeReason = QString::fromLatin1(reason);
    return r;
}

} // namespace

class tst_EngineMetrics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void events()
    {
        EngineMetrics metrics;
        metrics.tunnelOpened(TunnelProtocol::Tcp, TransportKind::H2, 3000); // microseconds
        metrics.tunnelOpened(TunnelProtocol::Udp, TransportKind::H3, 40000);
        // A warm tunnel on loopback opens in under a millisecond: it must not count as 0 s.
        metrics.tunnelOpened(TunnelProtocol::Tcp, TransportKind::H1, 420);
        metrics.tunnelClosed(record(1, 3, "local_close"));
        metrics.tunnelClosed(record(2, -1, "handshake_rejected")); // a failed race
        metrics.openFailed(Error(ErrorCode::HandshakeRejected));
        metrics.openFailed(Error(ErrorCode::BadHost));
        RaceRecord won;
        won.winner = TransportKind::H2;
        RaceRecord lost;
        lost.error = QStringLiteral("connection_refused");
        RaceRecord cancelled;
        metrics.raceFinished(won);
        metrics.raceFinished(lost);
        metrics.raceFinished(cancelled);

        const QByteArray text = metrics.render({});
        QCOMPARE(sample(text, R"(qmasque_tunnels_opened_total{protocol="tcp",transport="h2"})"),
                 1.0);
        QCOMPARE(sample(text, R"(qmasque_tunnels_opened_total{protocol="udp",transport="h3"})"),
                 1.0);
        QCOMPARE(sample(text, R"(qmasque_tunnels_failed_total{protocol="tcp",transport="h2"})"),
                 1.0);
        QCOMPARE(
            sample(
                text,
                R"(qmasque_tunnels_closed_total{protocol="tcp",transport="h2",reason="local_close"})"),
            1.0);
        QCOMPARE(sample(text, R"(qmasque_tunnel_open_errors_total{reason="handshake_rejected"})"),
                 1.0);
        QCOMPARE(sample(text, R"(qmasque_tunnel_open_errors_total{reason="bad_host"})"), 1.0);
        QCOMPARE(sample(text, R"(qmasque_races_total{winner="h2"})"), 1.0);
        QCOMPARE(sample(text, R"(qmasque_races_total{winner="none"})"), 1.0);
        // Latency in seconds: 3 ms lands in the 0.005 bucket, 40 ms in 0.05.
        QCOMPARE(
            sample(text,
                   R"(qmasque_tunnel_open_latency_seconds_bucket{transport="h2",le="0.0025"})"),
            0.0);
        QCOMPARE(sample(text,
                        R"(qmasque_tunnel_open_latency_seconds_bucket{transport="h2",le="0.005"})"),
                 1.0);
        QCOMPARE(sample(text,
                        R"(qmasque_tunnel_open_latency_seconds_bucket{transport="h3",le="0.025"})"),
                 0.0);
        QCOMPARE(sample(text, R"(qmasque_tunnel_open_latency_seconds_count{transport="h3"})"), 1.0);
        QCOMPARE(sample(text, R"(qmasque_tunnel_open_latency_seconds_sum{transport="h3"})"), 0.04);
        QCOMPARE(sample(text,
                        R"(qmasque_tunnel_open_latency_seconds_bucket{transport="h1",le="0.001"})"),
                 1.0);
        QCOMPARE(sample(text, R"(qmasque_tunnel_open_latency_seconds_sum{transport="h1"})"),
                 0.00042);
        QVERIFY(text.endsWith("# EOF\n"));
    }

    void levels()
    {
        EngineMetrics metrics;
        EngineMetrics::Levels levels;
        ConnectionSnapshot ready;
        ready.transport = TransportKind::H3;
        ready.state = ConnectionState::Ready;
        ConnectionSnapshot full = ready;
        full.state = ConnectionState::Full;
        levels.snapshot.pool.connections = {ready, ready, full};
        ConnectionSnapshot direct;
        direct.transport = TransportKind::H1;
        direct.state = ConnectionState::Ready;
        levels.snapshot.directConnections = {direct};
        levels.openTunnels[{"tcp", "h3"}] = 7;
        TunnelCounters counters;
        counters.bytesSent = 100;
        counters.bytesReceived = 2000;
        counters.datagramsSent = 3;
        counters.datagramsReceived = 4;
        counters.dropQueueFull = 2;
        counters.dropTooLarge = 1;
        levels.traffic.add(counters);
        levels.dialsStarted = 3;
        levels.dialsFailed = 1;
        levels.localDrops = {{"socks5_udp_fragmented", 5}};
        levels.localClients = {{"socks5 127.0.0.1:1080", 2}};

        QByteArray text = metrics.render(levels);
        QCOMPARE(sample(text, R"(qmasque_upstream_connections{transport="h3",state="ready"})"),
                 2.0);
        QCOMPARE(sample(text, R"(qmasque_upstream_connections{transport="h3",state="full"})"), 1.0);
        QCOMPARE(sample(text, R"(qmasque_upstream_connections{transport="h1",state="ready"})"),
                 1.0);
        QCOMPARE(sample(text, R"(qmasque_tunnels_open{protocol="tcp",transport="h3"})"), 7.0);
        QCOMPARE(sample(text, "qmasque_bytes_sent_total"), 100.0);
        QCOMPARE(sample(text, "qmasque_bytes_received_total"), 2000.0);
        QCOMPARE(sample(text, "qmasque_datagrams_sent_total"), 3.0);
        QCOMPARE(sample(text, "qmasque_datagrams_received_total"), 4.0);
        QCOMPARE(sample(text, R"(qmasque_drops_total{reason="queue_full"})"), 2.0);
        QCOMPARE(sample(text, R"(qmasque_drops_total{reason="too_large"})"), 1.0);
        QCOMPARE(sample(text, R"(qmasque_drops_total{reason="socks5_udp_fragmented"})"), 5.0);
        QCOMPARE(sample(text, "qmasque_dials_total"), 3.0);
        QCOMPARE(sample(text, "qmasque_dials_failed_total"), 1.0);
        QCOMPARE(sample(text, R"(qmasque_local_clients{listener="socks5 127.0.0.1:1080"})"), 2.0);

        // Levels that fell: gauges follow, counters never go back.
        levels.snapshot.pool.connections = {ready};
        levels.openTunnels.clear();
        levels.traffic = {};
        text = metrics.render(levels);
        QCOMPARE(sample(text, R"(qmasque_upstream_connections{transport="h3",state="full"})"),
                 -1.0);
        QCOMPARE(sample(text, R"(qmasque_upstream_connections{transport="h3",state="ready"})"),
                 1.0);
        QCOMPARE(sample(text, R"(qmasque_tunnels_open{protocol="tcp",transport="h3"})"), -1.0);
        QCOMPARE(sample(text, "qmasque_bytes_received_total"), 2000.0);
    }

    void mergedExposition()
    {
        EngineMetrics metrics;
        const QByteArray other = "# TYPE qmasque_proxy_tunnels counter\n"
                                 "# HELP qmasque_proxy_tunnels Tunnels\n"
                                 "qmasque_proxy_tunnels_total 4\n# EOF\n";
        const QByteArray text = metrics.render({}, other);
        QCOMPARE(text.count("# EOF"), 1);
        QVERIFY(text.endsWith("qmasque_proxy_tunnels_total 4\n# EOF\n"));
        QVERIFY(text.contains("# TYPE qmasque_bytes_sent counter\n"));
    }

    void trafficTotals()
    {
        TrafficTotals a;
        TunnelCounters counters;
        counters.bytesSent = 5;
        counters.dropEarly = 1;
        a.add(counters);
        TrafficTotals b;
        b.add(counters);
        b.add(a);
        QCOMPARE(b.bytesSent, quint64(10));
        QCOMPARE(b.drops.value("early"), quint64(2));
        QVERIFY(!b.drops.contains("queue_full")); // zero counts are not listed
    }
};

QTEST_GUILESS_MAIN(tst_EngineMetrics)
#include "tst_engine_metrics.moc"
