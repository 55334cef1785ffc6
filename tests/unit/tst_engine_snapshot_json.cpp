// The --snapshot file: pool keys at the top level, plus "engine" and "direct_connections".

#include "api/EngineEvents.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QTest>

using namespace qmasque;

class tst_EngineSnapshotJson : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void poolKeysEngineAndDirectConnections();
};

void tst_EngineSnapshotJson::poolKeysEngineAndDirectConnections()
{
    EngineSnapshot snapshot;
    snapshot.state = EngineState::Running;
    snapshot.profileName = QStringLiteral("demo \"quoted\"");
    snapshot.proxy = QStringLiteral("https://127.0.0.1:8443");
    snapshot.tunnelsOpened = 12;
    snapshot.tunnelsFailed = 1;
    snapshot.bytesSent = quint64(1) << 40;
    snapshot.listeners = {QStringLiteral("socks5 127.0.0.1:1080")};
    ConnectionSnapshot pooled;
    pooled.id = 3;
    pooled.transport = TransportKind::H3;
    pooled.state = ConnectionState::Ready;
    snapshot.pool.connections = {pooled};
    snapshot.pool.totals.connections = 1;
    ConnectionSnapshot direct;
    direct.id = 9;
    direct.transport = TransportKind::H1;
    StreamSnapshot stream;
    stream.streamId = 1;
    stream.protocol = TunnelProtocol::Tcp;
    stream.target = QStringLiteral("example.com:443");
    direct.streams = {stream};
    snapshot.directConnections = {direct};

    for (bool indented : {false, true}) {
        QJsonParseError error;
        const QJsonDocument document =
            QJsonDocument::fromJson(engineSnapshotToJson(snapshot, indented), &error);
        QCOMPARE(error.error, QJsonParseError::NoError);
        const QJsonObject root = document.object();
        QCOMPARE(root.value(QStringLiteral("totals"))
                     .toObject()
                     .value(QStringLiteral("connections"))
                     .toInt(),
                 1);
        QCOMPARE(root.value(QStringLiteral("connections")).toArray().size(), 1);
        const QJsonObject engine = root.value(QStringLiteral("engine")).toObject();
        QCOMPARE(engine.value(QStringLiteral("state")).toString(), QStringLiteral("running"));
        QCOMPARE(engine.value(QStringLiteral("profile")).toString(), snapshot.profileName);
        QCOMPARE(engine.value(QStringLiteral("tunnels_opened")).toInt(), 12);
        QCOMPARE(engine.value(QStringLiteral("bytes_sent")).toDouble(), double(quint64(1) << 40));
        QCOMPARE(engine.value(QStringLiteral("listeners")).toArray().first().toString(),
                 QStringLiteral("socks5 127.0.0.1:1080"));
        const QJsonArray directs = root.value(QStringLiteral("direct_connections")).toArray();
        QCOMPARE(directs.size(), 1);
        const QJsonObject h1 = directs.first().toObject();
        QCOMPARE(h1.value(QStringLiteral("transport")).toString(), QStringLiteral("h1"));
        QCOMPARE(h1.value(QStringLiteral("streams"))
                     .toArray()
                     .first()
                     .toObject()
                     .value(QStringLiteral("target"))
                     .toString(),
                 QStringLiteral("example.com:443"));
    }
}

QTEST_APPLESS_MAIN(tst_EngineSnapshotJson)
#include "tst_engine_snapshot_json.moc"
