// Dashboard models against generated and hand-made snapshots: keyed diffs (rows appear, change,
// vanish; never a reset), the changed roles, QAbstractItemModelTester in fatal mode over long
// generated sequences, sorting by RawValueRole, and the stream filters.

#include "support/SnapshotGenerator.h"
#include "ui/ConnectionModel.h"
#include "ui/StreamFilterProxy.h"
#include "ui/StreamModel.h"

#include <QtCore/QSet>
#include <QtTest/QAbstractItemModelTester>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::ui;
using qmasque::test::SnapshotGenerator;
using qmasque::test::SnapshotGeneratorConfig;

namespace {

StreamSnapshot stream(StreamId id, TunnelProtocol protocol, const QString &target)
{
    StreamSnapshot s;
    s.streamId = id;
    s.protocol = protocol;
    s.target = target;
    s.localClient = QStringLiteral("socks5 127.0.0.1:%1").arg(40000 + id);
    s.state = StreamState::Open;
    s.responseStatus = 200;
    s.datagramPath =
        protocol == TunnelProtocol::Tcp ? DatagramPath::None : DatagramPath::QuicDatagram;
    return s;
}

ConnectionSnapshot connection(quint64 id, TransportKind transport, QList<StreamSnapshot> streams)
{
    ConnectionSnapshot c;
    c.id = id;
    c.transport = transport;
    c.proxyHost = QStringLiteral("proxy.example");
    c.proxyPort = 443;
    c.state = ConnectionState::Ready;
    c.streamLimit = 100;
    c.streamsInUse = streams.size();
    c.stats.kind = transport;
    c.stats.alpn = transport == TransportKind::H3 ? QStringLiteral("h3") : QStringLiteral("h2");
    c.streams = std::move(streams);
    return c;
}

// The model's rows, as a set of keys.
QSet<StreamKey> streamKeys(const StreamModel &model)
{
    QSet<StreamKey> keys;
    for (int row = 0; row < model.rowCount(); ++row)
        keys.insert(model.rowAt(row).key());
    return keys;
}

QSet<StreamKey> streamKeys(const EngineSnapshot &snapshot)
{
    QSet<StreamKey> keys;
    for (const auto *list : {&snapshot.pool.connections, &snapshot.directConnections}) {
        for (const ConnectionSnapshot &c : *list) {
            for (const StreamSnapshot &s : c.streams)
                keys.insert({c.id, s.streamId});
        }
    }
    return keys;
}

// streamOf: the snapshot's stream for `key`, or nullptr.
const StreamSnapshot *streamOf(const EngineSnapshot &snapshot, const StreamKey &key)
{
    for (const auto *list : {&snapshot.pool.connections, &snapshot.directConnections}) {
        for (const ConnectionSnapshot &c : *list) {
            if (c.id != key.connectionId)
                continue;
            for (const StreamSnapshot &s : c.streams) {
                if (s.streamId == key.streamId)
                    return &s;
            }
        }
    }
    return nullptr;
}

} // namespace

class TestDashboardModels : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void generatedSequencesKeepModelsConsistent();
    void rowsAppearChangeAndVanish();
    void removalsGoHighestRangeFirst();
    void changedRowsCarryOnlyTheirColumnsAndRoles();
    void mostRowsChangedGivesOneWholeRangeSignal();
    void directTunnelsAreRowsOfTheirOwn();
    void duplicateKeysKeepTheFirstRow();
    void sortingUsesRawValues();
    void filtersNarrowStreams();
    void paletteChangeRepaintsOnlyColouredCells();
};

void TestDashboardModels::generatedSequencesKeepModelsConsistent()
{
    SnapshotGeneratorConfig config;
    config.connections = 5;
    config.streamsPerConnection = 20;
    config.directConnections = 3;
    config.streamChurn = 0.08; // lots of churn: every kind of change in a few hundred ticks
    config.connectionChurn = 0.03;
    config.seed = 7;
    SnapshotGenerator generator(config);

    ConnectionModel connections;
    StreamModel streams;
    StreamFilterProxy proxy;
    proxy.setStreamModel(&streams);
    proxy.sort(StreamModel::BytesIn, Qt::DescendingOrder);
    QAbstractItemModelTester connectionTester(
        &connections, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QAbstractItemModelTester streamTester(&streams,
                                          QAbstractItemModelTester::FailureReportingMode::Fatal);
    QAbstractItemModelTester proxyTester(&proxy,
                                         QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSignalSpy connectionResets(&connections, &QAbstractItemModel::modelReset);
    QSignalSpy streamResets(&streams, &QAbstractItemModel::modelReset);

    QSet<ConnectionState> statesSeen;
    int inserted = 0;
    int removed = 0;
    int changed = 0;
    for (int tick = 0; tick < 200; ++tick) {
        const EngineSnapshot snapshot = generator.next();
        connections.apply(snapshot);
        streams.apply(snapshot);
        inserted += streams.lastDiff().inserted;
        removed += streams.lastDiff().removed;
        changed += streams.lastDiff().changed;

        // The rows are exactly the snapshot's, with its values.
        QCOMPARE(connections.rowCount(),
                 snapshot.pool.connections.size() + snapshot.directConnections.size());
        for (const ConnectionSnapshot &c : snapshot.pool.connections) {
            const int row = connections.rowOf(c.id);
            QVERIFY(row >= 0);
            QCOMPARE(connections.rowAt(row).connection.state, c.state);
            QCOMPARE(connections.rowAt(row).connection.stats.bytesSent, c.stats.bytesSent);
            QVERIFY(!connections.rowAt(row).direct);
            statesSeen.insert(c.state);
        }
        QCOMPARE(streamKeys(streams), streamKeys(snapshot));
        for (int row = 0; row < streams.rowCount(); ++row) {
            const StreamModel::Row &r = streams.rowAt(row);
            const StreamSnapshot *s = streamOf(snapshot, r.key());
            QVERIFY(s);
            QCOMPARE(r.stream.bytesReceived, s->bytesReceived);
            QCOMPARE(r.stream.state, s->state);
            QCOMPARE(r.stream.ageMs, s->ageMs);
        }
        // The sorted proxy stays sorted by the raw value.
        for (int row = 1; row < proxy.rowCount(); ++row) {
            QVERIFY(proxy.index(row - 1, StreamModel::BytesIn).data(RawValueRole).toULongLong() >=
                    proxy.index(row, StreamModel::BytesIn).data(RawValueRole).toULongLong());
        }
    }
    QCOMPARE(connectionResets.count(), 0);
    QCOMPARE(streamResets.count(), 0);
    QVERIFY(inserted > 100);
    QVERIFY(removed > 100);
    QVERIFY(changed > 100);
    // Every connection state went through the model.
    QCOMPARE(statesSeen.size(), 5);
}

void TestDashboardModels::rowsAppearChangeAndVanish()
{
    StreamModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

    EngineSnapshot snapshot;
    snapshot.pool.connections = {
        connection(1, TransportKind::H3,
                   {stream(0, TunnelProtocol::Udp, QStringLiteral("a:53")),
                    stream(4, TunnelProtocol::Tcp, QStringLiteral("b:443"))})};
    model.apply(snapshot);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(inserted.count(), 1); // one batch
    QCOMPARE(inserted.at(0).at(1).toInt(), 0);
    QCOMPARE(inserted.at(0).at(2).toInt(), 1);
    QCOMPARE(model.index(0, StreamModel::Target).data().toString(), QStringLiteral("a:53"));
    QCOMPARE(model.index(1, StreamModel::Protocol).data().toString(),
             QStringLiteral("connect-tcp"));
    QCOMPARE(model.index(0, StreamModel::DatagramPath).data().toString(),
             QStringLiteral("QUIC DATAGRAM"));

    // Change one: stream 4 gets bytes; stream 8 appears; nothing vanishes.
    snapshot.pool.connections[0].streams[1].bytesReceived = 5000;
    snapshot.pool.connections[0].streams << stream(8, TunnelProtocol::Ip, QStringLiteral("10/8"));
    inserted.clear();
    changed.clear();
    model.apply(snapshot);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.lastDiff().changed, 1);
    QCOMPARE(model.lastDiff().inserted, 1);
    QCOMPARE(model.index(1, StreamModel::BytesIn).data().toString(), QStringLiteral("4.88 KiB"));
    QCOMPARE(model.index(1, StreamModel::BytesIn).data(RawValueRole).toULongLong(), 5000u);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 2);

    // Vanish: stream 0 closes; the others keep their data, now one row up.
    snapshot.pool.connections[0].streams.removeFirst();
    model.apply(snapshot);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(removed.at(0).at(1).toInt(), 0);
    QCOMPARE(model.rowOf({1, 4}), 0);
    QCOMPARE(model.rowOf({1, 8}), 1);
    QCOMPARE(model.rowOf({1, 0}), -1);
    QCOMPARE(model.index(0, StreamModel::BytesIn).data(RawValueRole).toULongLong(), 5000u);

    // An empty snapshot removes everything, as removals.
    model.apply(EngineSnapshot{});
    QCOMPARE(model.rowCount(), 0);
}

void TestDashboardModels::removalsGoHighestRangeFirst()
{
    StreamModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    EngineSnapshot snapshot;
    QList<StreamSnapshot> streams;
    for (int i = 0; i < 10; ++i)
        streams << stream(i * 4, TunnelProtocol::Tcp, QStringLiteral("t%1:1").arg(i));
    snapshot.pool.connections = {connection(3, TransportKind::H3, streams)};
    model.apply(snapshot);

    // Remove rows 1-2, 5 and 8-9: three ranges, announced from the bottom up.
    QList<StreamSnapshot> kept;
    for (int i : {0, 3, 4, 6, 7})
        kept << streams.at(i);
    snapshot.pool.connections[0].streams = kept;
    QSignalSpy removing(&model, &QAbstractItemModel::rowsAboutToBeRemoved);
    model.apply(snapshot);
    QCOMPARE(removing.count(), 3);
    QCOMPARE(removing.at(0).at(1).toInt(), 8);
    QCOMPARE(removing.at(0).at(2).toInt(), 9);
    QCOMPARE(removing.at(1).at(1).toInt(), 5);
    QCOMPARE(removing.at(1).at(2).toInt(), 5);
    QCOMPARE(removing.at(2).at(1).toInt(), 1);
    QCOMPARE(removing.at(2).at(2).toInt(), 2);
    QCOMPARE(model.lastDiff().removed, 5);
    for (int i = 0; i < kept.size(); ++i)
        QCOMPARE(model.rowAt(i).stream.streamId, kept.at(i).streamId);
}

void TestDashboardModels::changedRowsCarryOnlyTheirColumnsAndRoles()
{
    ConnectionModel model;
    EngineSnapshot snapshot;
    for (quint64 id = 1; id <= 6; ++id)
        snapshot.pool.connections << connection(id, TransportKind::H3, {});
    model.apply(snapshot);

    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    // Row 1: bytes only. Row 4: state. Everything ages (tick column only).
    snapshot.pool.connections[1].stats.bytesSent = 1234;
    snapshot.pool.connections[4].state = ConnectionState::Draining;
    for (ConnectionSnapshot &c : snapshot.pool.connections)
        c.ageMs += 250;
    model.apply(snapshot);

    QCOMPARE(model.lastDiff().changed, 2);
    QCOMPARE(model.lastDiff().changeSignals, 2);
    QVERIFY(!model.lastDiff().wholeRange);
    QCOMPARE(changed.count(), 3); // two rows + the age column
    const auto topLeft = [&](int i) {
        return changed.at(i).at(0).toModelIndex();
    };
    const auto bottomRight = [&](int i) {
        return changed.at(i).at(1).toModelIndex();
    };
    const auto roles = [&](int i) {
        return changed.at(i).at(2).value<QList<int>>();
    };

    QCOMPARE(topLeft(0).row(), 1);
    QCOMPARE(topLeft(0).column(), int(ConnectionModel::BytesOut));
    QCOMPARE(bottomRight(0).column(), int(ConnectionModel::BytesOut));
    QVERIFY(roles(0).contains(Qt::DisplayRole));
    QVERIFY(roles(0).contains(RawValueRole));
    QVERIFY(!roles(0).contains(Qt::DecorationRole));

    QCOMPARE(topLeft(1).row(), 4);
    QCOMPARE(topLeft(1).column(), int(ConnectionModel::State));
    QVERIFY(roles(1).contains(Qt::DecorationRole));
    QVERIFY(roles(1).contains(Qt::ForegroundRole));
    QCOMPARE(model.index(4, ConnectionModel::State).data().toString(), QStringLiteral("draining"));

    QCOMPARE(topLeft(2).row(), 0);
    QCOMPARE(bottomRight(2).row(), 5);
    QCOMPARE(topLeft(2).column(), int(ConnectionModel::Age));
    QCOMPARE(bottomRight(2).column(), int(ConnectionModel::Age));

    // Adjacent rows with the same change merge into one signal.
    changed.clear();
    for (int i : {1, 2, 3})
        snapshot.pool.connections[i].stats.bytesSent += 10;
    model.apply(snapshot);
    QCOMPARE(model.lastDiff().changeSignals, 1);
    QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 1);
    QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 3);
}

void TestDashboardModels::mostRowsChangedGivesOneWholeRangeSignal()
{
    StreamModel model;
    EngineSnapshot snapshot;
    QList<StreamSnapshot> streams;
    for (int i = 0; i < 100; ++i)
        streams << stream(i * 4, TunnelProtocol::Udp, QStringLiteral("t:1"));
    snapshot.pool.connections = {connection(1, TransportKind::H3, streams)};
    model.apply(snapshot);

    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    for (int i = 0; i < 60; ++i)
        snapshot.pool.connections[0].streams[i * 5 / 3].datagramsSent += 1;
    model.apply(snapshot);
    QVERIFY(model.lastDiff().changed > 50);
    QVERIFY(model.lastDiff().wholeRange);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).toModelIndex(), model.index(0, 0));
    QCOMPARE(changed.at(0).at(1).toModelIndex(), model.index(99, StreamModel::ColumnCount - 1));
}

void TestDashboardModels::directTunnelsAreRowsOfTheirOwn()
{
    EngineSnapshot snapshot;
    snapshot.pool.connections = {
        connection(1, TransportKind::H2, {stream(1, TunnelProtocol::Udp, QStringLiteral("a:1"))})};
    ConnectionSnapshot direct = connection(
        9, TransportKind::H1, {stream(1, TunnelProtocol::Tcp, QStringLiteral("h1:443"))});
    direct.streamLimit = 1;
    snapshot.directConnections = {direct};

    ConnectionModel connections;
    StreamModel streams;
    connections.apply(snapshot);
    streams.apply(snapshot);
    QCOMPARE(connections.rowCount(), 2);
    QVERIFY(connections.rowAt(connections.rowOf(9)).direct);
    QCOMPARE(connections.index(connections.rowOf(9), ConnectionModel::Transport).data().toString(),
             QStringLiteral("h1 direct"));
    QCOMPARE(streams.rowCount(), 2);
    const int row = streams.rowOf({9, 1});
    QVERIFY(row >= 0);
    QVERIFY(streams.rowAt(row).direct);
    QCOMPARE(streams.index(row, StreamModel::Connection).data().toString(),
             QStringLiteral("9 · h1"));
    // The two stream id 1 rows are distinct (different connections).
    QVERIFY(streams.rowOf({1, 1}) >= 0);
    QVERIFY(streams.rowOf({1, 1}) != row);
}

void TestDashboardModels::duplicateKeysKeepTheFirstRow()
{
    StreamModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    EngineSnapshot snapshot;
    snapshot.pool.connections = {
        connection(1, TransportKind::H3,
                   {stream(0, TunnelProtocol::Udp, QStringLiteral("first")),
                    stream(0, TunnelProtocol::Udp, QStringLiteral("second"))})};
    model.apply(snapshot);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.rowAt(0).stream.target, QStringLiteral("first"));
    model.apply(snapshot); // the duplicate is ignored again, without a change
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.lastDiff().changed, 0);
}

void TestDashboardModels::sortingUsesRawValues()
{
    StreamModel model;
    StreamFilterProxy proxy;
    proxy.setStreamModel(&model);
    EngineSnapshot snapshot;
    QList<StreamSnapshot> streams;
    // Lexicographic order of the formatted text would put "9.00 KiB" after "10.0 KiB".
    const quint64 sizes[] = {9 * 1024, 10 * 1024, 900, 2 * 1024 * 1024};
    for (int i = 0; i < 4; ++i) {
        streams << stream(i * 4, TunnelProtocol::Tcp, QStringLiteral("t%1").arg(i));
        streams.last().bytesReceived = sizes[i];
    }
    snapshot.pool.connections = {connection(1, TransportKind::H3, streams)};
    model.apply(snapshot);
    proxy.sort(StreamModel::BytesIn, Qt::AscendingOrder);
    QStringList order;
    for (int row = 0; row < proxy.rowCount(); ++row)
        order << proxy.index(row, StreamModel::Target).data().toString();
    QCOMPARE(order, QStringList({QStringLiteral("t2"), QStringLiteral("t0"), QStringLiteral("t1"),
                                 QStringLiteral("t3")}));

    // A change re-sorts dynamically.
    snapshot.pool.connections[0].streams[2].bytesReceived = 3 * 1024 * 1024;
    model.apply(snapshot);
    QCOMPARE(proxy.index(3, StreamModel::Target).data().toString(), QStringLiteral("t2"));
}

void TestDashboardModels::filtersNarrowStreams()
{
    StreamModel model;
    StreamFilterProxy proxy;
    proxy.setStreamModel(&model);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
    EngineSnapshot snapshot;
    StreamSnapshot connecting = stream(8, TunnelProtocol::Tcp, QStringLiteral("github.com:443"));
    connecting.state = StreamState::Connecting;
    snapshot.pool.connections = {
        connection(1, TransportKind::H3,
                   {stream(0, TunnelProtocol::Udp, QStringLiteral("dns.google:53")),
                    stream(4, TunnelProtocol::Tcp, QStringLiteral("example.com:443")), connecting}),
        connection(2, TransportKind::H2,
                   {stream(1, TunnelProtocol::Ip, QStringLiteral("10.0.0.0/8")),
                    stream(3, TunnelProtocol::Udp, QStringLiteral("1.1.1.1:53"))})};
    model.apply(snapshot);
    QCOMPARE(proxy.rowCount(), 5);
    QVERIFY(!proxy.isFiltering());

    proxy.setConnections({2});
    QCOMPARE(proxy.rowCount(), 2);
    proxy.setConnections({});

    proxy.setText(QStringLiteral(":53"));
    QCOMPARE(proxy.rowCount(), 2);
    QVERIFY(proxy.isFiltering());
    proxy.setText(QStringLiteral("SOCKS5 127.0.0.1:40004")); // the local client, any case
    QCOMPARE(proxy.rowCount(), 1);
    QCOMPARE(proxy.visibleKeys(), QList<StreamKey>({StreamKey{1, 4}}));
    proxy.setText({});

    proxy.setProtocol(TunnelProtocol::Tcp);
    QCOMPARE(proxy.rowCount(), 2);
    proxy.setState(StreamState::Connecting);
    QCOMPARE(proxy.visibleKeys(), QList<StreamKey>({StreamKey{1, 8}}));
    proxy.setProtocol(std::nullopt);
    proxy.setState(std::nullopt);
    QCOMPARE(proxy.rowCount(), 5);

    // A filtered row leaves the view when its data stops matching.
    proxy.setState(StreamState::Open);
    QCOMPARE(proxy.rowCount(), 4);
    snapshot.pool.connections[0].streams[0].state = StreamState::Closing;
    model.apply(snapshot);
    QCOMPARE(proxy.rowCount(), 3);
}

void TestDashboardModels::paletteChangeRepaintsOnlyColouredCells()
{
    StreamModel model;
    EngineSnapshot snapshot;
    snapshot.pool.connections = {
        connection(1, TransportKind::H3, {stream(0, TunnelProtocol::Udp, QStringLiteral("a"))})};
    model.apply(snapshot);
    const QColor light =
        model.index(0, StreamModel::State).data(Qt::ForegroundRole).value<QColor>();
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setDarkPalette(true);
    QCOMPARE(changed.count(), 1);
    const auto roles = changed.at(0).at(2).value<QList<int>>();
    QCOMPARE(roles, QList<int>({Qt::ForegroundRole, Qt::DecorationRole}));
    const QColor dark = model.index(0, StreamModel::State).data(Qt::ForegroundRole).value<QColor>();
    QVERIFY(dark.lightness() > light.lightness());
}

QTEST_MAIN(TestDashboardModels)
#include "tst_dashboard_models.moc"
