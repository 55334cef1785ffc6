// The dashboard window against a FakeEngine: every snapshot is applied and acknowledged, pausing
// freezes the tables but still acknowledges, the user's actions send the right EngineControl
// commands (close stream with connection and stream id, close connection, close filtered, close
// all, start with the selected profile, stop), the status bar computes speed from successive
// snapshots, the layout persists, and closing the window follows the tray rules.

#include "support/FakeEngine.h"
#include "ui/ClosedTunnelModel.h"
#include "ui/ConnectionModel.h"
#include "ui/DashboardController.h"
#include "ui/DashboardStatusBar.h"
#include "ui/MainWindow.h"
#include "ui/PoolPanel.h"
#include "ui/ProfileStore.h"
#include "ui/StreamFilterProxy.h"
#include "ui/StreamModel.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSettings>
#include <QtCore/QTemporaryDir>
#include <QtGui/QAction>
#include <QtGui/QClipboard>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <QtWidgets/QApplication>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QTableView>

#include <memory>

using namespace qmasque;
using namespace qmasque::ui;
using qmasque::test::FakeEngine;
using Command = FakeEngine::Command;

namespace {

StreamSnapshot stream(StreamId id, TunnelProtocol protocol, const QString &target)
{
    StreamSnapshot s;
    s.streamId = id;
    s.protocol = protocol;
    s.target = target;
    s.localClient = QStringLiteral("socks5 127.0.0.1:%1").arg(41000 + id);
    s.state = StreamState::Open;
    s.responseStatus = 200;
    return s;
}

// snapshot: two pooled connections (h3 #1 with streams 0, 4, 8; h2 #2 with streams 1, 3) and a
// direct h1 tunnel #7, taken at `takenAtMs` with `received` payload bytes so far.
EngineSnapshot snapshot(qint64 takenAtMs = 1'700'000'000'000, quint64 received = 0)
{
    EngineSnapshot s;
    s.state = EngineState::Running;
    s.profileName = QStringLiteral("work");
    s.proxy = QStringLiteral("https://proxy.example:443");
    s.pool.takenAtMs = takenAtMs;
    ConnectionSnapshot h3;
    h3.id = 1;
    h3.transport = TransportKind::H3;
    h3.proxyHost = QStringLiteral("proxy.example");
    h3.proxyPort = 443;
    h3.state = ConnectionState::Ready;
    h3.streamLimit = 100;
    h3.streams = {stream(0, TunnelProtocol::Udp, QStringLiteral("dns.google:53")),
                  stream(4, TunnelProtocol::Tcp, QStringLiteral("example.com:443")),
                  stream(8, TunnelProtocol::Udp, QStringLiteral("1.1.1.1:53"))};
    h3.streamsInUse = h3.streams.size();
    ConnectionSnapshot h2 = h3;
    h2.id = 2;
    h2.transport = TransportKind::H2;
    h2.streams = {stream(1, TunnelProtocol::Tcp, QStringLiteral("github.com:443")),
                  stream(3, TunnelProtocol::Ip, QStringLiteral("10.0.0.0/8"))};
    h2.streamsInUse = h2.streams.size();
    ConnectionSnapshot h1 = h3;
    h1.id = 7;
    h1.transport = TransportKind::H1;
    h1.streamLimit = 1;
    h1.streams = {stream(1, TunnelProtocol::Tcp, QStringLiteral("mail.example:993"))};
    h1.streamsInUse = 1;
    s.pool.connections = {h3, h2};
    s.directConnections = {h1};
    s.pool.totals.connections = 2;
    s.pool.totals.streams = 5;
    s.bytesReceived = received;
    return s;
}

// profile: a profile from its JSON form (the file format the selector reads).
Profile profile(const char *json)
{
    return *Profile::fromJson(QJsonDocument::fromJson(json).object());
}

// Fixture: a window on a FakeEngine in this thread, with its own profile directory and settings.
struct Dashboard
{
    explicit Dashboard(MainWindowOptions::Tray tray = MainWindowOptions::Tray::Disabled,
                       const QString &directory = {})
    {
        const QString dir = directory.isEmpty() ? scratch.path() : directory;
        const Profile work = profile(R"({"name": "work", "proxy": "https://proxy.example:443"})");
        const Profile lab = profile(
            R"({"name": "lab", "proxy": "https://lab.example:8443", "transports": ["h2"]})");
        const ProfileStore store(dir);
        if (!store.find(work.name))
            QVERIFY(store.save(work));
        if (!store.find(lab.name))
            QVERIFY(store.save(lab));
        MainWindowOptions options;
        options.profileDirectory = dir;
        options.settingsPath = QDir(dir).filePath(QStringLiteral("settings.ini"));
        options.tray = tray;
        options.quitApplication = false;
        window = std::make_unique<MainWindow>(&engine, options);
        window->resize(1200, 800);
    }

    // publish: one snapshot through the queued link; returns once it was applied and acked.
    bool publish(const EngineSnapshot &s)
    {
        const int acks = engine.acknowledgements();
        engine.publish(s);
        return QTest::qWaitFor([&] { return engine.acknowledgements() == acks + 1; }, 5000);
    }

    DashboardController &controller() { return *window->controller(); }
    PoolPanel &pool() { return *window->poolPanel(); }

    QTemporaryDir scratch;
    FakeEngine engine;
    std::unique_ptr<MainWindow> window;
};

// selectStream: selects the streams view row of `key`.
void selectStream(PoolPanel &pool, const StreamKey &key)
{
    QTableView *view = pool.streamsView();
    const StreamFilterProxy *proxy = pool.streamProxy();
    for (int row = 0; row < proxy->rowCount(); ++row) {
        if (proxy->streamModel()->rowAt(proxy->mapToSource(proxy->index(row, 0)).row()).key() ==
            key) {
            view->selectRow(row);
            return;
        }
    }
    QFAIL("stream not in the view");
}

void selectConnection(PoolPanel &pool, quint64 id)
{
    QTableView *view = pool.connectionsView();
    for (int row = 0; row < view->model()->rowCount(); ++row) {
        if (view->model()->index(row, 0).data(KeyRole).toULongLong() == id) {
            view->selectRow(row);
            return;
        }
    }
    QFAIL("connection not in the view");
}

} // namespace

class TestDashboardWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void snapshotsAreAppliedAndAcknowledged();
    void speedComesFromSuccessiveSnapshots();
    void pauseFreezesTablesButAcknowledges();
    void closeStreamNamesConnectionAndStream();
    void closeConnectionNamesTheConnection();
    void closeFilteredClosesWhatTheFilterShows();
    void closeAllClosesEveryTunnel();
    void connectStartsTheSelectedProfileAndDisconnectStops();
    void stoppedEngineEmptiesTheLiveTables();
    void copyRowAsJson();
    void selectingAConnectionNarrowsTheStreams();
    void columnLayoutPersists();
    void closingWithoutTrayQuits();
    void closingWithTrayHidesWithOneNotice();
    void engineDestroyedFirstIsHarmless();
};

void TestDashboardWindow::snapshotsAreAppliedAndAcknowledged()
{
    Dashboard d;
    for (int i = 0; i < 5; ++i) {
        EngineSnapshot s = snapshot(1'700'000'000'000 + i * 250);
        s.pool.connections[0].streams[0].bytesReceived = quint64(i) * 1000;
        QVERIFY(d.publish(s));
    }
    QCOMPARE(d.engine.acknowledgements(), 5);
    QVERIFY(!d.engine.snapshotInFlight());
    QCOMPARE(d.controller().snapshotsApplied(), 5u);
    QCOMPARE(d.controller().connectionModel()->rowCount(), 3);
    QCOMPARE(d.controller().streamModel()->rowCount(), 6);
    const StreamModel *streams = d.controller().streamModel();
    QCOMPARE(streams->rowAt(streams->rowOf({1, 0})).stream.bytesReceived, 4000u);
    QCOMPARE(d.window->dashboardStatusBar()->upstreamLabel()->text(),
             QStringLiteral("https://proxy.example:443 (profile work)"));
    QVERIFY(d.window->dashboardStatusBar()->tunnelsLabel()->text().startsWith(
        QStringLiteral("6 tunnels on 2 connections")));
}

void TestDashboardWindow::speedComesFromSuccessiveSnapshots()
{
    Dashboard d;
    QLabel *speed = d.window->dashboardStatusBar()->speedLabel();
    QVERIFY(d.publish(snapshot(1'700'000'000'000, 0)));
    QVERIFY(speed->text().contains(QStringLiteral("–"))); // one snapshot: no rate yet
    // 125 000 bytes in one second: 1 Mbit/s down, nothing up.
    QVERIFY(d.publish(snapshot(1'700'000'001'000, 125'000)));
    QCOMPARE(speed->text(), QStringLiteral("↑ 0 bit/s  ↓ 1.0 Mbit/s"));
    QVERIFY(d.window->dashboardStatusBar()->totalsLabel()->text().contains(
        QStringLiteral("↓ 122.1 KiB")));
}

void TestDashboardWindow::pauseFreezesTablesButAcknowledges()
{
    Dashboard d;
    QVERIFY(d.publish(snapshot()));
    d.window->pauseAction()->setChecked(true);
    QVERIFY(d.controller().isPaused());

    EngineSnapshot changed = snapshot(1'700'000'000'250);
    changed.pool.connections.removeLast(); // connection 2 and its streams vanish
    TunnelRecord closed;
    closed.tunnelId = 77;
    closed.target = QStringLiteral("github.com:443");
    d.engine.emitTunnelClosed(closed);
    QVERIFY(d.publish(changed));
    QVERIFY(d.publish(changed));
    QCOMPARE(d.engine.acknowledgements(), 3); // acknowledged while paused
    QCOMPARE(d.controller().connectionModel()->rowCount(), 3);
    QCOMPARE(d.controller().streamModel()->rowCount(), 6);
    QTest::qWait(300); // the event batch timer fires, and still nothing is applied
    QCOMPARE(d.controller().closedModel()->rowCount(), 0);

    d.window->pauseAction()->setChecked(false);
    QCOMPARE(d.controller().closedModel()->rowCount(), 1); // the waiting record
    QVERIFY(d.publish(changed));
    QCOMPARE(d.controller().connectionModel()->rowCount(), 2);
    QCOMPARE(d.controller().streamModel()->rowCount(), 4);
}

void TestDashboardWindow::closeStreamNamesConnectionAndStream()
{
    Dashboard d;
    d.window->show();
    QVERIFY(d.publish(snapshot()));
    selectStream(d.pool(), {2, 3});
    d.pool().streamsView()->setFocus();
    QTest::keyClick(d.pool().streamsView(), Qt::Key_Delete);
    QTRY_COMPARE(d.engine.commands(Command::CloseStream).size(), 1);
    const Command command = d.engine.commands(Command::CloseStream).first();
    QCOMPARE(command.connectionId, 2u);
    QCOMPARE(command.streamId, 3);

    // The direct h1 tunnel is closed the same way, with its own ids.
    selectStream(d.pool(), {7, 1});
    d.pool().closeSelectedStreams();
    QTRY_COMPARE(d.engine.commands(Command::CloseStream).size(), 2);
    QCOMPARE(d.engine.commands(Command::CloseStream).last().connectionId, 7u);
    QCOMPARE(d.engine.commands(Command::CloseStream).last().streamId, 1);
    QVERIFY(d.engine.commands(Command::CloseConnection).isEmpty());
}

void TestDashboardWindow::closeConnectionNamesTheConnection()
{
    Dashboard d;
    d.window->show();
    QVERIFY(d.publish(snapshot()));
    selectConnection(d.pool(), 2);
    d.pool().connectionsView()->setFocus();
    QTest::keyClick(d.pool().connectionsView(), Qt::Key_Delete);
    QTRY_COMPARE(d.engine.commands(Command::CloseConnection).size(), 1);
    QCOMPARE(d.engine.commands(Command::CloseConnection).first().connectionId, 2u);
    QVERIFY(d.engine.commands(Command::CloseStream).isEmpty());
}

void TestDashboardWindow::closeFilteredClosesWhatTheFilterShows()
{
    Dashboard d;
    d.window->show();
    QVERIFY(d.publish(snapshot()));
    QPushButton *button = d.pool().closeFilteredButton();
    QVERIFY(!button->isEnabled()); // no filter: nothing to close "filtered"
    QTest::keyClicks(d.pool().filterEdit(), QStringLiteral(":53"));
    QCOMPARE(d.pool().streamProxy()->rowCount(), 2);
    QVERIFY(button->isEnabled());
    QCOMPARE(button->text(), QStringLiteral("Close filtered (2)"));
    QTest::mouseClick(button, Qt::LeftButton);
    QTRY_COMPARE(d.engine.commands(Command::CloseStream).size(), 2);
    QSet<QPair<quint64, qint64>> closed;
    for (const Command &command : d.engine.commands(Command::CloseStream))
        closed.insert({command.connectionId, command.streamId});
    QCOMPARE(closed, (QSet<QPair<quint64, qint64>>{{1, 0}, {1, 8}}));

    // Protocol and state filters combine with the text.
    d.engine.clearCommands();
    d.pool().filterEdit()->clear();
    d.pool().protocolFilter()->setCurrentIndex(
        d.pool().protocolFilter()->findData(int(TunnelProtocol::Tcp)));
    QCOMPARE(d.pool().streamProxy()->rowCount(), 3); // 1/4, 2/1 and the h1 tunnel 7/1
    d.pool().closeFiltered();
    QTRY_COMPARE(d.engine.commands(Command::CloseStream).size(), 3);
}

void TestDashboardWindow::closeAllClosesEveryTunnel()
{
    Dashboard d;
    d.engine.emitState(EngineState::Running);
    QVERIFY(d.publish(snapshot()));
    QTRY_VERIFY(d.window->closeAllAction()->isEnabled());
    d.window->closeAllAction()->trigger();
    QTRY_COMPARE(d.engine.commands(Command::CloseStream).size(), 6);
    QSet<QPair<quint64, qint64>> closed;
    for (const Command &command : d.engine.commands(Command::CloseStream))
        closed.insert({command.connectionId, command.streamId});
    QCOMPARE(closed,
             (QSet<QPair<quint64, qint64>>{{1, 0}, {1, 4}, {1, 8}, {2, 1}, {2, 3}, {7, 1}}));
}

void TestDashboardWindow::connectStartsTheSelectedProfileAndDisconnectStops()
{
    Dashboard d;
    QComboBox *profiles = d.window->profileSelector();
    QCOMPARE(profiles->count(), 2);
    profiles->setCurrentIndex(profiles->findText(QStringLiteral("lab")));
    QVERIFY(d.window->connectAction()->isEnabled());
    QVERIFY(!d.window->disconnectAction()->isEnabled());
    d.window->connectAction()->trigger();
    QTRY_COMPARE(d.engine.commands(Command::Start).size(), 1);
    const Command start = d.engine.commands(Command::Start).first();
    QVERIFY(start.profile);
    QCOMPARE(start.profile->name, QStringLiteral("lab"));
    QCOMPARE(start.profile->proxy, QStringLiteral("https://lab.example:8443"));
    QCOMPARE(start.profile->transports, QList<TransportKind>{TransportKind::H2});

    // FakeEngine goes Starting, then Running; the actions follow the state.
    QTRY_COMPARE(d.controller().state(), EngineState::Running);
    QVERIFY(!d.window->connectAction()->isEnabled());
    QVERIFY(d.window->disconnectAction()->isEnabled());
    QVERIFY(!profiles->isEnabled());
    d.window->disconnectAction()->trigger();
    QTRY_COMPARE(d.engine.commands(Command::Stop).size(), 1);
    QTRY_COMPARE(d.controller().state(), EngineState::Stopped);
    QVERIFY(d.window->connectAction()->isEnabled());
}

void TestDashboardWindow::stoppedEngineEmptiesTheLiveTables()
{
    Dashboard d;
    d.engine.emitState(EngineState::Running);
    QVERIFY(d.publish(snapshot()));
    QCOMPARE(d.controller().streamModel()->rowCount(), 6);
    QSignalSpy resets(d.controller().streamModel(), &QAbstractItemModel::modelReset);
    d.engine.emitState(EngineState::Failed,
                       Error(ErrorCode::AddressInUse, QStringLiteral("127.0.0.1:1080")));
    QTRY_COMPARE(d.controller().streamModel()->rowCount(), 0);
    QCOMPARE(d.controller().connectionModel()->rowCount(), 0);
    QCOMPARE(resets.count(), 0); // rows removed, never a reset
    QVERIFY(d.window->dashboardStatusBar()->stateLabel()->text().contains(
        QStringLiteral("address_in_use")));
}

void TestDashboardWindow::copyRowAsJson()
{
    Dashboard d;
    d.window->show();
    QVERIFY(d.publish(snapshot()));
    selectStream(d.pool(), {1, 4});
    d.pool().streamsView()->setFocus();
    d.pool().copySelectionAsJson();
    const QJsonObject stream =
        QJsonDocument::fromJson(QGuiApplication::clipboard()->text().toUtf8()).object();
    QCOMPARE(stream.value(QStringLiteral("connection_id")).toInteger(), 1);
    QCOMPARE(stream.value(QStringLiteral("stream_id")).toInteger(), 4);
    QCOMPARE(stream.value(QStringLiteral("protocol")).toString(), QStringLiteral("connect-tcp"));
    QCOMPARE(stream.value(QStringLiteral("target")).toString(), QStringLiteral("example.com:443"));
    QCOMPARE(stream.value(QStringLiteral("transport")).toString(), QStringLiteral("h3"));

    d.pool().streamsView()->clearSelection();
    selectConnection(d.pool(), 2);
    d.pool().connectionsView()->setFocus();
    d.pool().copySelectionAsJson();
    const QJsonObject connection =
        QJsonDocument::fromJson(QGuiApplication::clipboard()->text().toUtf8()).object();
    QCOMPARE(connection.value(QStringLiteral("id")).toInteger(), 2);
    QCOMPARE(connection.value(QStringLiteral("state")).toString(), QStringLiteral("ready"));
    QVERIFY(connection.value(QStringLiteral("stats")).isObject());
}

void TestDashboardWindow::selectingAConnectionNarrowsTheStreams()
{
    Dashboard d;
    d.window->show();
    QVERIFY(d.publish(snapshot()));
    QCOMPARE(d.pool().streamProxy()->rowCount(), 6);
    selectConnection(d.pool(), 1);
    QCOMPARE(d.pool().streamProxy()->rowCount(), 3);
    // The selection survives the next snapshot (a keyed diff keeps rows in place).
    EngineSnapshot next = snapshot(1'700'000'000'250);
    next.pool.connections[0].streams << stream(12, TunnelProtocol::Udp, QStringLiteral("new:1"));
    QVERIFY(d.publish(next));
    QCOMPARE(d.pool().selectedConnections(), QList<quint64>{1});
    QCOMPARE(d.pool().streamProxy()->rowCount(), 4);
}

void TestDashboardWindow::columnLayoutPersists()
{
    QTemporaryDir dir;
    {
        Dashboard d(MainWindowOptions::Tray::Disabled, dir.path());
        QHeaderView *header = d.pool().streamsView()->horizontalHeader();
        header->setSectionHidden(StreamModel::ProxyStatus, true);
        header->moveSection(header->visualIndex(StreamModel::Target), 0);
        header->resizeSection(StreamModel::LocalClient, 333);
        d.pool().streamsView()->sortByColumn(StreamModel::BytesIn, Qt::DescendingOrder);
        d.window->saveLayout();
    }
    Dashboard again(MainWindowOptions::Tray::Disabled, dir.path());
    QHeaderView *header = again.pool().streamsView()->horizontalHeader();
    QVERIFY(header->isSectionHidden(StreamModel::ProxyStatus));
    QCOMPARE(header->visualIndex(StreamModel::Target), 0);
    QCOMPARE(header->sectionSize(StreamModel::LocalClient), 333);
    QCOMPARE(header->sortIndicatorSection(), int(StreamModel::BytesIn));
    QCOMPARE(header->sortIndicatorOrder(), Qt::DescendingOrder);
}

void TestDashboardWindow::closingWithoutTrayQuits()
{
    Dashboard d(MainWindowOptions::Tray::Disabled);
    QVERIFY(!d.window->tray());
    d.window->show();
    QSignalSpy quit(d.window.get(), &MainWindow::quitRequested);
    QSignalSpy hidden(d.window.get(), &MainWindow::hiddenToTray);
    QVERIFY(d.window->close());
    QCOMPARE(quit.count(), 1);
    QCOMPARE(hidden.count(), 0);
    QVERIFY(!d.window->isVisible());
}

void TestDashboardWindow::closingWithTrayHidesWithOneNotice()
{
    Dashboard d(MainWindowOptions::Tray::Enabled);
    QVERIFY(d.window->tray());
    QVERIFY(!QApplication::quitOnLastWindowClosed());
    d.window->show();
    QSignalSpy quit(d.window.get(), &MainWindow::quitRequested);
    QSignalSpy hidden(d.window.get(), &MainWindow::hiddenToTray);

    QVERIFY(!d.window->close()); // refused: the window hides, the tunnels keep running
    QVERIFY(!d.window->isVisible());
    QCOMPARE(hidden.count(), 1);
    QCOMPARE(hidden.at(0).at(0).toBool(), true); // the one-time notice
    QCOMPARE(quit.count(), 0);

    d.window->showAction()->trigger();
    QVERIFY(d.window->isVisible());
    QVERIFY(!d.window->close());
    QCOMPARE(hidden.count(), 2);
    QCOMPARE(hidden.at(1).at(0).toBool(), false); // not again
    QCOMPARE(quit.count(), 0);

    // The notice stays shown-once across runs (the settings file remembers it).
    {
        QSettings settings(QDir(d.scratch.path()).filePath(QStringLiteral("settings.ini")),
                           QSettings::IniFormat);
        QVERIFY(settings.value(QStringLiteral("tray/closeNoticeShown")).toBool());
    }

    d.window->quitAction()->trigger(); // Quit from the tray menu ends it
    QCOMPARE(quit.count(), 1);
    QApplication::setQuitOnLastWindowClosed(true);
}

void TestDashboardWindow::engineDestroyedFirstIsHarmless()
{
    auto engine = std::make_unique<FakeEngine>();
    QTemporaryDir dir;
    MainWindowOptions options;
    options.profileDirectory = dir.path();
    options.settingsPath = dir.filePath(QStringLiteral("settings.ini"));
    options.tray = MainWindowOptions::Tray::Disabled;
    options.quitApplication = false;
    MainWindow window(engine.get(), options);
    engine->publish(snapshot());
    engine.reset(); // the snapshot still arrives; its acknowledgement meets no engine
    QTRY_COMPARE(window.controller()->streamModel()->rowCount(), 6);
    window.controller()->closeAll(); // every command is dropped, nothing waits or crashes
    window.controller()->closeConnection(1);
    window.controller()->start(profile(R"({"name": "x", "demo": true})"));
    QTest::qWait(20);
    QCOMPARE(window.controller()->snapshotsApplied(), 1u);
}

QTEST_MAIN(TestDashboardWindow)
#include "tst_dashboard_window.moc"
