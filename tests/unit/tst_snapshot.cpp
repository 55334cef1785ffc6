// Snapshot values: the documented JSON form (keys, values, escaping), metatypes across threads,
// and the cost of a 10 000-stream snapshot.

#include "api/Snapshot.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSet>
#include <QtCore/QThread>
#include <QtCore/QVariant>
#include <QtTest/QTest>

#include <limits>
#include <memory>

using namespace qmasque;

namespace {

PoolSnapshot sample()
{
    PoolSnapshot snapshot;
    snapshot.takenAtMs = 1700000000123;
    ConnectionSnapshot connection;
    connection.id = 7;
    connection.transport = TransportKind::H3;
    connection.proxyHost = QStringLiteral("proxy.example");
    connection.proxyPort = 443;
    connection.fingerprint = QStringLiteral("h3 proxy.example:443 0a1b2c3d");
    connection.state = ConnectionState::Full;
    connection.streamsInUse = 2;
    connection.streamLimit = 2;
    connection.streamLimitSource = StreamLimitSource::Peer;
    connection.idleRemainingMs = -1;
    connection.ageMs = 1234;
    connection.datagramsRouted = 10;
    connection.datagramsUnknownStream = 1;
    connection.stats.alpn = QStringLiteral("h3");
    connection.stats.smoothedRttUs = 1500;
    connection.stats.congestionWindow = std::numeric_limits<quint64>::max();
    connection.stats.datagramDrops.queueFull = 3;
    connection.stats.datagramDrops.tooLarge = 2;
    StreamSnapshot udp;
    udp.streamId = 0;
    udp.protocol = TunnelProtocol::Udp;
    udp.target = QStringLiteral("dns \"quoted\" \\ back\nline\t\x01 caf\u00e9 \u2603");
    udp.localClient = QStringLiteral("socks5 127.0.0.1:5000");
    udp.state = StreamState::Open;
    udp.responseStatus = 200;
    udp.datagramPath = DatagramPath::QuicDatagram;
    udp.datagramsSent = 5;
    udp.datagramsReceived = 4;
    udp.datagramsDropped = 1;
    udp.ageMs = 99;
    StreamSnapshot tcp;
    tcp.streamId = 4;
    tcp.protocol = TunnelProtocol::Tcp;
    tcp.target = QStringLiteral("example.com:443");
    tcp.state = StreamState::Connecting;
    tcp.proxyStatus = QStringLiteral("qmasque; error=dns_timeout");
    tcp.bytesSent = 1000;
    tcp.bytesReceived = 2000;
    connection.streams = {udp, tcp};
    snapshot.connections = {connection};
    DialSnapshot dial;
    dial.fingerprint = QStringLiteral("h2 [::1]:8443 deadbeef");
    dial.transport = TransportKind::H2;
    dial.proxyHost = QStringLiteral("::1");
    dial.proxyPort = 8443;
    dial.dialing = true;
    dial.ownerId = 8;
    dial.ageMs = 12;
    dial.waiters = 3;
    snapshot.dials = {dial};
    snapshot.totals = {1, 2, 2, 1, 3};
    snapshot.counters.checkouts = 5;
    snapshot.counters.streamsOpened = 2;
    snapshot.counters.dialsStarted = 2;
    snapshot.counters.retries = 1;
    return snapshot;
}

QSet<QString> keysOf(const QJsonObject &object)
{
    const QStringList keys = object.keys();
    return QSet<QString>(keys.cbegin(), keys.cend());
}

QSet<QString> keySet(std::initializer_list<const char *> names)
{
    QSet<QString> set;
    for (const char *name : names)
        set.insert(QString::fromLatin1(name));
    return set;
}

// Emitter: carries a snapshot across threads through a queued signal, as the engine does.
class Emitter : public QObject
{
    Q_OBJECT

Q_SIGNALS:
    void published(const qmasque::PoolSnapshot &snapshot);
};

} // namespace

class tst_Snapshot : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void names();
    void jsonKeysAreTheDocumentedOnes();
    void jsonValues();
    void jsonEscapesStrings();
    void indentedEqualsCompact();
    void crossesThreadsByValue();
    void tenThousandStreamsAreCheap();
};

void tst_Snapshot::names()
{
    QCOMPARE(connectionStateName(ConnectionState::Dialing), "dialing");
    QCOMPARE(connectionStateName(ConnectionState::Ready), "ready");
    QCOMPARE(connectionStateName(ConnectionState::Full), "full");
    QCOMPARE(connectionStateName(ConnectionState::Draining), "draining");
    QCOMPARE(connectionStateName(ConnectionState::Closing), "closing");
    QCOMPARE(streamStateName(StreamState::Connecting), "connecting");
    QCOMPARE(streamStateName(StreamState::Open), "open");
    QCOMPARE(streamStateName(StreamState::Closing), "closing");
    QCOMPARE(datagramPathName(DatagramPath::None), "none");
    QCOMPARE(datagramPathName(DatagramPath::QuicDatagram), "quic_datagram");
    QCOMPARE(datagramPathName(DatagramPath::Capsule), "capsule");
    QCOMPARE(streamLimitSourceName(StreamLimitSource::Fixed), "fixed");
    QCOMPARE(streamLimitSourceName(StreamLimitSource::Peer), "peer");
    QCOMPARE(streamLimitSourceName(StreamLimitSource::Default), "default");
}

void tst_Snapshot::jsonKeysAreTheDocumentedOnes()
{
    // The contract of docs/snapshot-json.md: exactly these keys, nothing renamed silently.
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(snapshotToJson(sample()), &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    const QJsonObject root = document.object();
    QCOMPARE(keysOf(root), keySet({"taken_at_ms", "totals", "counters", "connections", "dials"}));
    QCOMPARE(keysOf(root[u"totals"].toObject()),
             keySet({"connections", "streams", "stream_limit", "dials", "waiters"}));
    QCOMPARE(keysOf(root[u"counters"].toObject()),
             keySet({"checkouts", "streams_opened", "dials_started", "dials_failed", "retries",
                     "checkout_timeouts", "connections_closed"}));
    const QJsonObject connection = root[u"connections"].toArray().at(0).toObject();
    QCOMPARE(
        keysOf(connection),
        keySet({"id", "transport", "proxy_host", "proxy_port", "fingerprint", "state",
                "streams_in_use", "stream_limit", "stream_limit_source", "idle_remaining_ms",
                "age_ms", "datagrams_routed", "datagrams_unknown_stream", "stats", "streams"}));
    QCOMPARE(keysOf(connection[u"stats"].toObject()), keySet({"alpn",
                                                              "quic_version",
                                                              "tls_version",
                                                              "tls_cipher",
                                                              "tls_group",
                                                              "peer_certificate",
                                                              "bytes_sent",
                                                              "bytes_received",
                                                              "frames_sent",
                                                              "frames_received",
                                                              "streams_open",
                                                              "smoothed_rtt_us",
                                                              "rtt_variance_us",
                                                              "min_rtt_us",
                                                              "congestion_window",
                                                              "bytes_in_flight",
                                                              "packets_lost",
                                                              "path_mtu",
                                                              "datagrams_sent",
                                                              "datagrams_received",
                                                              "datagram_drops"}));
    QCOMPARE(keysOf(connection[u"stats"][u"datagram_drops"].toObject()),
             keySet({"too_large", "queue_full", "unknown_stream", "malformed", "not_negotiated",
                     "total"}));
    QCOMPARE(keysOf(connection[u"streams"].toArray().at(0).toObject()),
             keySet({"stream_id", "protocol", "target", "local_client", "state", "response_status",
                     "proxy_status", "datagram_path", "bytes_sent", "bytes_received",
                     "datagrams_sent", "datagrams_received", "datagrams_dropped", "age_ms"}));
    QCOMPARE(keysOf(root[u"dials"].toArray().at(0).toObject()),
             keySet({"fingerprint", "transport", "proxy_host", "proxy_port", "dialing", "owner_id",
                     "age_ms", "waiters"}));
}

void tst_Snapshot::jsonValues()
{
    const QByteArray json = snapshotToJson(sample());
    const QJsonObject root = QJsonDocument::fromJson(json).object();
    QCOMPARE(root[u"taken_at_ms"].toInteger(), 1700000000123);
    QCOMPARE(root[u"totals"][u"waiters"].toInt(), 3);
    QCOMPARE(root[u"counters"][u"retries"].toInt(), 1);
    const QJsonObject connection = root[u"connections"][0].toObject();
    QCOMPARE(connection[u"id"].toInt(), 7);
    QCOMPARE(connection[u"transport"].toString(), QStringLiteral("h3"));
    QCOMPARE(connection[u"state"].toString(), QStringLiteral("full"));
    QCOMPARE(connection[u"stream_limit_source"].toString(), QStringLiteral("peer"));
    QCOMPARE(connection[u"idle_remaining_ms"].toInt(), -1);
    QCOMPARE(connection[u"stats"][u"smoothed_rtt_us"].toInt(), 1500);
    QCOMPARE(connection[u"stats"][u"datagram_drops"][u"total"].toInt(), 5);
    // 64-bit counters are written exactly (a double-based parser would round them).
    QVERIFY(json.contains("\"congestion_window\":18446744073709551615"));
    const QJsonArray streams = connection[u"streams"].toArray();
    QCOMPARE(streams.size(), 2);
    QCOMPARE(streams[0][u"protocol"].toString(), QStringLiteral("connect-udp"));
    QCOMPARE(streams[0][u"state"].toString(), QStringLiteral("open"));
    QCOMPARE(streams[0][u"datagram_path"].toString(), QStringLiteral("quic_datagram"));
    QCOMPARE(streams[0][u"datagrams_dropped"].toInt(), 1);
    QCOMPARE(streams[1][u"stream_id"].toInt(), 4);
    QCOMPARE(streams[1][u"protocol"].toString(), QStringLiteral("connect-tcp"));
    QCOMPARE(streams[1][u"state"].toString(), QStringLiteral("connecting"));
    QCOMPARE(streams[1][u"proxy_status"].toString(), QStringLiteral("qmasque; error=dns_timeout"));
    QCOMPARE(streams[1][u"bytes_received"].toInt(), 2000);
    const QJsonObject dial = root[u"dials"][0].toObject();
    QCOMPARE(dial[u"transport"].toString(), QStringLiteral("h2"));
    QCOMPARE(dial[u"dialing"].toBool(), true);
    QCOMPARE(dial[u"waiters"].toInt(), 3);

    const QJsonObject empty = QJsonDocument::fromJson(snapshotToJson(PoolSnapshot())).object();
    QVERIFY(empty[u"connections"].toArray().isEmpty());
    QVERIFY(empty[u"dials"].toArray().isEmpty());
}

void tst_Snapshot::jsonEscapesStrings()
{
    const PoolSnapshot snapshot = sample();
    const QByteArray json = snapshotToJson(snapshot);
    QVERIFY(json.contains("\\\"quoted\\\" \\\\ back\\nline\\t\\u0001"));
    const QJsonObject root = QJsonDocument::fromJson(json).object();
    QCOMPARE(root[u"connections"][0][u"streams"][0][u"target"].toString(),
             snapshot.connections.at(0).streams.at(0).target);
}

void tst_Snapshot::indentedEqualsCompact()
{
    const QByteArray compact = snapshotToJson(sample());
    const QByteArray indented = snapshotToJson(sample(), true);
    QVERIFY(!compact.contains('\n'));
    QVERIFY(indented.contains("\n  \"totals\": {\n    \"connections\": 1,"));
    QCOMPARE(QJsonDocument::fromJson(indented), QJsonDocument::fromJson(compact));
}

void tst_Snapshot::crossesThreadsByValue()
{
    registerSnapshotMetaTypes();
    const QVariant variant = QVariant::fromValue(sample());
    QCOMPARE(variant.value<PoolSnapshot>().connections.at(0).streams.at(1).target,
             QStringLiteral("example.com:443"));

    Emitter emitter;
    PoolSnapshot received;
    QThread *receivedOn = nullptr;
    connect(&emitter, &Emitter::published, this,
            [&received, &receivedOn](const PoolSnapshot &snapshot) {
                received = snapshot;
                receivedOn = QThread::currentThread();
            });
    // Published from another thread (the engine's): the connection is queued, the value copied.
    std::unique_ptr<QThread> engine(
        QThread::create([&emitter] { emit emitter.published(sample()); }));
    engine->start();
    QVERIFY(engine->wait(2000));
    QCOMPARE(receivedOn, nullptr); // not delivered on the emitting thread
    QTRY_VERIFY(receivedOn != nullptr);
    QCOMPARE(receivedOn, QThread::currentThread());
    QCOMPARE(received.dials.at(0).waiters, 3);
    QCOMPARE(received.connections.at(0).streams.size(), 2);
}

void tst_Snapshot::tenThousandStreamsAreCheap()
{
    PoolSnapshot snapshot = sample();
    ConnectionSnapshot &connection = snapshot.connections[0];
    const StreamSnapshot row = connection.streams.at(0);
    connection.streams.clear();
    connection.streams.reserve(10000);
    for (int i = 0; i < 10000; ++i) {
        StreamSnapshot &copy = connection.streams.emplace_back(row);
        copy.streamId = 4 * i;
        copy.bytesSent = static_cast<quint64>(i) * 1000;
    }
    QElapsedTimer clock;
    clock.start();
    const QByteArray json = snapshotToJson(snapshot);
    const qint64 jsonMs = clock.elapsed();
    clock.restart();
    const QVariant copied = QVariant::fromValue(snapshot); // what a queued signal costs
    const qint64 copyMs = clock.elapsed();
    qInfo("10000-stream snapshot: JSON %lld ms (%lld KiB), copy %lld ms", jsonMs,
          static_cast<qint64>(json.size() / 1024), copyMs);
    QCOMPARE(QJsonDocument::fromJson(json)[u"connections"][0][u"streams"].toArray().size(), 10000);
    QVERIFY2(jsonMs < 200, QByteArray::number(jsonMs));
    QVERIFY(copied.isValid());
}

QTEST_GUILESS_MAIN(tst_Snapshot)
#include "tst_snapshot.moc"
