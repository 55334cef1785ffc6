// The dashboard's bounded event lists and derived data: the closed-tunnel history keeps the last
// 1000 (1001 records -> 1000, the oldest dropped, also through the engine link), the log is
// bounded and filters by level and text, races are newest first and bounded, and the traffic
// history computes rates from successive snapshots without spikes when counters restart.

#include "support/FakeEngine.h"
#include "ui/ClosedTunnelModel.h"
#include "ui/DashboardController.h"
#include "ui/LogFilterProxy.h"
#include "ui/LogModel.h"
#include "ui/RaceModel.h"
#include "ui/TrafficHistory.h"

#include <QtTest/QAbstractItemModelTester>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::ui;
using qmasque::test::FakeEngine;

namespace {

TunnelRecord record(quint64 id)
{
    TunnelRecord r;
    r.tunnelId = id;
    r.target = QStringLiteral("host%1.example:443").arg(id);
    r.closeReason = id % 2 ? QStringLiteral("peer_fin") : QStringLiteral("handshake_rejected");
    r.openedAtMs = 1'700'000'000'000 + qint64(id) * 10;
    r.closedAtMs = r.openedAtMs + 1500;
    return r;
}

LogEntry entry(QtMsgType level, const QString &category, const QString &message)
{
    return {1'700'000'000'000, level, category, message};
}

EngineSnapshot counters(qint64 takenAtMs, quint64 sent, quint64 received)
{
    EngineSnapshot s;
    s.pool.takenAtMs = takenAtMs;
    s.bytesSent = sent;
    s.bytesReceived = received;
    return s;
}

} // namespace

class TestDashboardEvents : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void closedHistoryIsBoundedAtOneThousand();
    void closedHistoryIsBoundedThroughTheEngine();
    void logIsBoundedAndFiltered();
    void racesAreNewestFirstAndBounded();
    void trafficRatesFromSuccessiveSnapshots();
};

void TestDashboardEvents::closedHistoryIsBoundedAtOneThousand()
{
    ClosedTunnelModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QCOMPARE(model.capacity(), 1000);
    QList<TunnelRecord> batch;
    for (quint64 id = 1; id <= 1000; ++id)
        batch << record(id);
    model.append(batch);
    QCOMPARE(model.rowCount(), 1000);

    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    model.append({record(1001)});
    QCOMPARE(model.rowCount(), 1000);
    QCOMPARE(model.recordAt(0).tunnelId, 2u);      // the oldest went
    QCOMPARE(model.recordAt(999).tunnelId, 1001u); // the newest is in
    QCOMPARE(model.totalAppended(), 1001u);
    QCOMPARE(removed.count(), 1);

    // A batch larger than the bound keeps only its newest records.
    QList<TunnelRecord> flood;
    for (quint64 id = 2000; id < 3500; ++id)
        flood << record(id);
    model.append(flood);
    QCOMPARE(model.rowCount(), 1000);
    QCOMPARE(model.recordAt(0).tunnelId, 2500u);
    QCOMPARE(model.recordAt(999).tunnelId, 3499u);
    QCOMPARE(model.index(0, ClosedTunnelModel::Reason).data().toString(),
             QStringLiteral("handshake_rejected"));
    QCOMPARE(model.index(0, ClosedTunnelModel::Duration).data().toString(), QStringLiteral("1s"));
}

void TestDashboardEvents::closedHistoryIsBoundedThroughTheEngine()
{
    FakeEngine engine;
    DashboardController controller(&engine);
    for (quint64 id = 1; id <= 1001; ++id)
        engine.emitTunnelClosed(record(id));
    QTRY_COMPARE(controller.closedModel()->rowCount(), 1000);
    QCOMPARE(controller.closedModel()->recordAt(0).tunnelId, 2u);
    QCOMPARE(controller.closedModel()->recordAt(999).tunnelId, 1001u);
}

void TestDashboardEvents::logIsBoundedAndFiltered()
{
    LogModel model;
    model.setCapacity(100);
    LogFilterProxy proxy;
    proxy.setLogModel(&model);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QList<LogEntry> entries;
    for (int i = 0; i < 150; ++i) {
        const QtMsgType level = i % 10 == 0 ? QtWarningMsg : i % 3 == 0 ? QtDebugMsg : QtInfoMsg;
        entries << entry(level,
                         i % 2 ? QStringLiteral("qmasque.pool") : QStringLiteral("qmasque.h3"),
                         QStringLiteral("line %1").arg(i));
    }
    model.append(entries);
    QCOMPARE(model.rowCount(), 100);
    QCOMPARE(model.entryAt(0).message, QStringLiteral("line 50"));
    QCOMPARE(model.entryAt(99).message, QStringLiteral("line 149"));

    proxy.setMinimumLevel(QtDebugMsg);
    QCOMPARE(proxy.rowCount(), 100);
    proxy.setMinimumLevel(QtWarningMsg); // lines 50, 60, ..., 140
    QCOMPARE(proxy.rowCount(), 10);
    proxy.setMinimumLevel(QtInfoMsg); // everything but debug
    int debug = 0;
    for (int i = 50; i < 150; ++i)
        debug += (i % 10 != 0 && i % 3 == 0) ? 1 : 0;
    QCOMPARE(proxy.rowCount(), 100 - debug);

    proxy.setSearchText(QStringLiteral("LINE 14")); // case-insensitive: 140..149, minus debug
    QCOMPARE(proxy.rowCount(), 7);
    proxy.setSearchText(QStringLiteral("qmasque.h3")); // categories match too
    proxy.setMinimumLevel(QtDebugMsg);
    QCOMPARE(proxy.rowCount(), 50);

    // Errors are ranked above warnings (QtMsgType's values are not ordered).
    model.append({entry(QtCriticalMsg, QStringLiteral("qmasque.h3"), QStringLiteral("boom"))});
    proxy.setMinimumLevel(QtWarningMsg);
    proxy.setSearchText(QStringLiteral("boom"));
    QCOMPARE(proxy.rowCount(), 1);
    QCOMPARE(model.rowCount(), 100);
}

void TestDashboardEvents::racesAreNewestFirstAndBounded()
{
    RaceModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setCapacity(3);
    QList<RaceRecord> races;
    for (quint64 id = 1; id <= 4; ++id) {
        RaceRecord race;
        race.tunnelId = id;
        race.attempts = {{TransportKind::H3, 0, qint64(100 * id), QStringLiteral("won")}};
        race.winner = TransportKind::H3;
        races << race;
    }
    model.append(races.first(2));
    QCOMPARE(model.raceAt(0).tunnelId, 2u);
    model.append(races.sliced(2));
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.raceAt(0).tunnelId, 4u);
    QCOMPARE(model.raceAt(2).tunnelId, 2u);
    QCOMPARE(RaceModel::raceSummary(model.raceAt(0)), QStringLiteral("h3 won in 400 ms"));
    QVERIFY(model.scaleMs() >= 300);

    RaceRecord failed;
    failed.error = QStringLiteral("race_timeout");
    failed.attempts = {{TransportKind::H3, 0, 5000, QStringLiteral("handshake_timeout")}};
    QCOMPARE(RaceModel::raceSummary(failed), QStringLiteral("failed: race_timeout"));
}

void TestDashboardEvents::trafficRatesFromSuccessiveSnapshots()
{
    TrafficHistory history(60'000);
    history.add(counters(1'000'000, 0, 0), 0);
    QVERIFY(!history.poolRates().valid);
    history.add(counters(1'000'250, 2'500, 25'000), 0);
    QVERIFY(history.poolRates().valid);
    QCOMPARE(history.poolRates().upBytesPerSecond, 10'000.0);
    QCOMPARE(history.poolRates().downBytesPerSecond, 100'000.0);
    // Over the last second: four ticks of 250 ms.
    history.add(counters(1'000'500, 2'500, 50'000), 0);
    history.add(counters(1'000'750, 2'500, 75'000), 0);
    history.add(counters(1'001'000, 2'500, 100'000), 0);
    QCOMPARE(history.poolRates().downBytesPerSecond, 100'000.0);
    QCOMPARE(history.poolRates().upBytesPerSecond, 2'500.0);
    QCOMPARE(history.poolDown().size(), 4);
    // A repeated snapshot adds nothing; restarted counters restart the rate, no spike.
    history.add(counters(1'001'000, 2'500, 100'000), 0);
    QCOMPARE(history.poolDown().size(), 4);
    history.add(counters(1'001'250, 0, 10), 0);
    QVERIFY(!history.poolRates().valid);
    history.add(counters(1'001'500, 0, 2'510), 0);
    QCOMPARE(history.poolRates().downBytesPerSecond, 10'000.0);
    // Points older than the window go.
    history.add(counters(1'070'000, 0, 3'000), 0);
    QCOMPARE(history.poolDown().first().x(), 1'070'000.0);
}

QTEST_MAIN(TestDashboardEvents)
#include "tst_dashboard_events.moc"
