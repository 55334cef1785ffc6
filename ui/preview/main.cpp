// qmasque-dashboard-preview: the dashboard (MainWindow) fed with generated traffic. A FakeEngine
// on its own "engine" thread publishes SnapshotGenerator snapshots at the snapshot rate, exactly
// as the real engine will: the window talks to it only through queued calls.
//
//   qmasque-dashboard-preview                       an interactive window
//   qmasque-dashboard-preview --screenshots DIR     renders every view to DIR/*.png and exits
//   qmasque-dashboard-preview --latency 20 --connections 100 --streams 100
//                                                   measures event-loop latency at 4 Hz
//
// Profiles and window settings live in a temporary directory: the user's configuration is never
// touched.

#include "support/FakeEngine.h"
#include "support/SnapshotGenerator.h"
#include "ui/ClosedPanel.h"
#include "ui/ConnectionModel.h"
#include "ui/DashboardController.h"
#include "ui/Icons.h"
#include "ui/KeyedTableModel.h"
#include "ui/MainWindow.h"
#include "ui/PoolPanel.h"
#include "ui/ProfileForm.h"
#include "ui/ProfileStore.h"
#include "ui/SettingsDialog.h"
#include "ui/StreamModel.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QDateTime>
#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QSortFilterProxyModel>
#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtWidgets/QApplication>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QListWidget>
#include <QtWidgets/QStyleFactory>
#include <QtWidgets/QTabWidget>
#include <QtWidgets/QTableView>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace qmasque;
using namespace qmasque::ui;
using qmasque::test::FakeEngine;
using qmasque::test::SnapshotGenerator;
using qmasque::test::SnapshotGeneratorConfig;

namespace {

QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x20, 0x22, 0x25);
    const QColor base(0x17, 0x19, 0x1c);
    const QColor text(0xe6, 0xe6, 0xe6);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x1f, 0x22, 0x26));
    p.setColor(QPalette::ToolTipBase, window);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x8b, 0x94, 0x9e));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x2b, 0x2e, 0x33));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::red);
    p.setColor(QPalette::Highlight, QColor(0x2f, 0x5f, 0xa8));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Mid, QColor(0x3a, 0x3e, 0x44));
    p.setColor(QPalette::Dark, QColor(0x10, 0x12, 0x14));
    p.setColor(QPalette::Light, QColor(0x3a, 0x3e, 0x44));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x6e, 0x76, 0x81));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x6e, 0x76, 0x81));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x6e, 0x76, 0x81));
    return p;
}

// writeProfiles: a few realistic profiles for the selector and the settings dialog.
bool writeProfiles(const QString &directory)
{
    const ProfileStore store(directory);
    Profile demo;
    demo.name = QStringLiteral("Demo");
    demo.demo = true;
    demo.socks = QStringLiteral("127.0.0.1:1080");
    demo.httpProxy = QStringLiteral("127.0.0.1:8080");
    demo.udpForwards = {*parseForward(u"127.0.0.1:5353=dns.google:53")};

    Profile work;
    work.name = QStringLiteral("Work");
    work.proxy = QStringLiteral("https://proxy.example.net:443");
    work.transports = {TransportKind::H3, TransportKind::H2};
    work.pinSha256 = {QStringLiteral("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=")};
    work.proxyAuth = QStringLiteral("bearer:token-from-the-admin");
    work.socks = QStringLiteral("127.0.0.1:1080");
    work.udpForwards = {*parseForward(u"127.0.0.1:5353=dns.google:53")};
    work.tcpForwards = {*parseForward(u"2222=git.example.org:22")};
    work.poolMaxStreams = 100;

    Profile lab;
    lab.name = QStringLiteral("Lab (h2 only)");
    lab.proxy = QStringLiteral("https://masque.lab.example:8443");
    lab.transports = {TransportKind::H2};
    lab.tcpMode = TcpMode::Template;
    lab.httpProxy = QStringLiteral("127.0.0.1:3128");
    for (const Profile &profile : {demo, work, lab}) {
        if (auto saved = store.save(profile); !saved) {
            std::fprintf(stderr, "profile %s: %s\n", qPrintable(profile.name),
                         qPrintable(saved.error().detail));
            return false;
        }
    }
    return true;
}

// warmUp: `ticks` generator ticks pushed through the window before it is shown, ending now, so
// the charts hold five minutes of history and the closed, race and log tabs have content.
void warmUp(FakeEngine &engine, int ticks)
{
    for (int i = 0; i < ticks; ++i) {
        engine.step();
        // The snapshot and its acknowledgement are queued: let both run.
        while (engine.snapshotInFlight())
            QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    }
    QCoreApplication::processEvents();
}

bool save(QWidget *widget, const QString &directory, const QString &name)
{
    QCoreApplication::processEvents();
    const QString path = QDir(directory).filePath(name + QStringLiteral(".png"));
    const bool ok = widget->grab().save(path);
    std::printf("%s %s\n", ok ? "wrote" : "FAILED", qPrintable(QDir::toNativeSeparators(path)));
    return ok;
}

// selectConnection: selects the pooled h3 connection with the most streams (the streams
// table and the lower charts follow it).
void selectConnection(MainWindow &window)
{
    QTableView *view = window.poolPanel()->connectionsView();
    const QAbstractItemModel *model = view->model();
    int best = 0;
    qint64 most = -1;
    for (int row = 0; row < model->rowCount(); ++row) {
        const qint64 streams =
            model->index(row, ConnectionModel::Streams).data(RawValueRole).toLongLong();
        if (model->index(row, ConnectionModel::Transport).data(RawValueRole).toInt() ==
                int(TransportKind::H3) &&
            streams > most) {
            best = row;
            most = streams;
        }
    }
    view->selectRow(best);
}

int takeScreenshots(FakeEngine &engine, MainWindow &window, const QString &directory)
{
    QDir().mkpath(directory);
    bool ok = true;
    // The engine stays on this thread and silent: the pictures show the warmed-up state.
    engine.emitState(EngineState::Running);
    window.resize(1600, 940);
    window.show();
    selectConnection(window);
    QCoreApplication::processEvents();

    const std::pair<int, const char *> tabs[] = {
        {0, "pool"}, {1, "charts"}, {2, "races"}, {3, "closed"}, {4, "log"}};
    for (const auto &[tab, name] : tabs) {
        window.tabs()->setCurrentIndex(tab);
        ok = save(&window, directory, QString::fromLatin1(name)) && ok;
    }

    window.openSettings();
    SettingsDialog *dialog = window.settingsDialog();
    dialog->resize(980, 640);
    dialog->selectProfile(QStringLiteral("Work"));
    dialog->form()->pages()->setCurrentIndex(1); // trust and authentication
    ok = save(dialog, directory, QStringLiteral("settings")) && ok;
    dialog->form()->pages()->setCurrentIndex(4); // pool and racing
    ok = save(dialog, directory, QStringLiteral("settings-pool")) && ok;
    dialog->form()->pages()->setCurrentIndex(0);
    // An invalid value: the message appears right under the field it names.
    qobject_cast<QLineEdit *>(dialog->form()->editor(QStringLiteral("proxy")))
        ->setText(QStringLiteral("http://proxy.example.net"));
    ok = save(dialog, directory, QStringLiteral("settings-error")) && ok;
    dialog->close();

    // The dark palette: the same views, colours derived from it.
    QApplication::setPalette(darkPalette());
    QCoreApplication::processEvents();
    for (const auto &[tab, name] :
         {std::pair{0, "pool"}, std::pair{1, "charts"}, std::pair{2, "races"}}) {
        window.tabs()->setCurrentIndex(tab);
        ok = save(&window, directory, QStringLiteral("dark-") + QString::fromLatin1(name)) && ok;
    }
    dialog->show(); // still showing the invalid proxy URL
    ok = save(dialog, directory, QStringLiteral("dark-settings-error")) && ok;
    dialog->close();
    return ok ? 0 : 1;
}

// measureLatency: a 10 ms precise timer on the GUI thread while the engine thread publishes at
// the snapshot rate; lateness = how much later than 10 ms each timeout came.
int measureLatency(MainWindow &window, FakeEngine &engine, double seconds)
{
    window.resize(1600, 940);
    window.show();
    window.tabs()->setCurrentIndex(0);
    std::vector<double> lateness;
    QElapsedTimer clock;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(10);
    qint64 last = 0;
    QObject::connect(&probe, &QTimer::timeout, &window, [&] {
        const qint64 now = clock.nsecsElapsed();
        if (last > 0)
            lateness.push_back(std::max(0.0, double(now - last) / 1e6 - 10.0));
        last = now;
    });
    std::vector<double> handling; // ms per snapshot on the GUI thread
    QObject::connect(window.controller(), &DashboardController::snapshotProcessed, &window, [&] {
        handling.push_back(double(window.controller()->lastSnapshotNs()) / 1e6);
    });
    const quint64 appliedBefore = window.controller()->snapshotsApplied();
    const int skippedBefore = engine.ticksSkipped();
    QEventLoop loop;
    QTimer::singleShot(int(seconds * 1000), &loop, &QEventLoop::quit);
    clock.start();
    probe.start();
    loop.exec();
    probe.stop();
    if (lateness.empty())
        return 1;
    std::sort(lateness.begin(), lateness.end());
    const auto at = [&](double q) {
        return lateness[size_t(q * double(lateness.size() - 1))];
    };
    const quint64 applied = window.controller()->snapshotsApplied() - appliedBefore;
    std::printf("event-loop latency over %.0f s with %lld streams on %lld connections, "
                "snapshot every %d ms:\n",
                seconds, qlonglong(window.controller()->summary().activeTunnels),
                qlonglong(window.controller()->summary().connections), engine.snapshotIntervalMs());
    std::printf("  10 ms timer lateness: median %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms "
                "(%zu samples)\n",
                at(0.5), at(0.9), at(0.99), lateness.back(), lateness.size());
    if (!handling.empty()) {
        std::sort(handling.begin(), handling.end());
        std::printf("  snapshot handling on the GUI thread (models, proxies, history): median "
                    "%.2f ms, max %.2f ms\n",
                    handling[handling.size() / 2], handling.back());
    }
    std::printf("  snapshots applied: %llu (%.2f per second), engine ticks skipped while one was "
                "in flight: %d\n",
                qulonglong(applied), double(applied) / seconds,
                engine.ticksSkipped() - skippedBefore);
    return 0;
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("qmasque-dashboard-preview"));
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    icons::initResources();
    QApplication::setWindowIcon(icons::application());

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("The QMasque dashboard fed with generated traffic."));
    parser.addHelpOption();
    const auto option = [&parser](const char *name, const char *help, const char *value,
                                  const char *fallback) {
        parser.addOption({QString::fromLatin1(name), QString::fromLatin1(help),
                          QString::fromLatin1(value), QString::fromLatin1(fallback)});
    };
    option("connections", "Pooled connections.", "N", "8");
    option("streams", "Streams per pooled connection.", "M", "24");
    option("direct", "Direct h1 tunnels.", "K", "3");
    option("interval", "Snapshot interval in ms.", "MS", "250");
    option("warmup", "Seconds of generated history before the window shows.", "S", "300");
    option("screenshots", "Render the views to DIR/*.png and exit.", "DIR", "");
    option("latency", "Measure event-loop latency for S seconds and exit.", "S", "0");
    parser.addOption({QStringLiteral("dark"), QStringLiteral("Use a dark palette.")});
    parser.process(app);

    SnapshotGeneratorConfig config;
    config.connections = parser.value(QStringLiteral("connections")).toInt();
    config.streamsPerConnection = parser.value(QStringLiteral("streams")).toInt();
    config.directConnections = parser.value(QStringLiteral("direct")).toInt();
    config.intervalMs = std::max(50, parser.value(QStringLiteral("interval")).toInt());
    const int warmupTicks =
        int(parser.value(QStringLiteral("warmup")).toDouble() * 1000 / double(config.intervalMs));
    const QString screenshots = parser.value(QStringLiteral("screenshots"));
    const double latency = parser.value(QStringLiteral("latency")).toDouble();
    if (latency > 0) {
        // The measurement's steady state: every connection keeps its streams; ~10% of the
        // streams move per tick and a few close and reopen.
        config.connectionChurn = 0;
        config.idleChance = 0;
        config.streamChurn = 0.002;
    }
    if (parser.isSet(QStringLiteral("dark")))
        QApplication::setPalette(darkPalette());

    QTemporaryDir scratch;
    if (!writeProfiles(scratch.path()))
        return 1;
    MainWindowOptions options;
    options.profileDirectory = scratch.path();
    options.settingsPath = scratch.filePath(QStringLiteral("settings.ini"));
    options.tray = screenshots.isEmpty() && latency <= 0 ? MainWindowOptions::Tray::Auto
                                                         : MainWindowOptions::Tray::Disabled;

    // The generator starts in the past so the warm-up ends now; then it follows the wall clock.
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    auto engine = std::make_unique<FakeEngine>();
    engine->setGenerator(
        std::make_unique<SnapshotGenerator>(config, now - qint64(warmupTicks) * config.intervalMs));
    engine->setSnapshotInterval(config.intervalMs);
    MainWindow window(engine.get(), options);
    window.profileSelector()->setCurrentIndex(
        window.profileSelector()->findText(QStringLiteral("Demo")));
    warmUp(*engine, warmupTicks);

    if (!screenshots.isEmpty())
        return takeScreenshots(*engine, window, screenshots);

    engine->setWallClock(true);
    QThread engineThread;
    engineThread.setObjectName(QStringLiteral("engine"));
    FakeEngine *fake = engine.release(); // from now on deleted on its own thread, with its timer
    fake->moveToThread(&engineThread);
    QObject::connect(&engineThread, &QThread::finished, fake, &QObject::deleteLater);
    engineThread.start();
    window.connectAction()->trigger(); // start with the Demo profile, through the queued link

    int result = 0;
    if (latency > 0) {
        result = measureLatency(window, *fake, latency);
    } else {
        window.show();
        result = app.exec();
    }
    engineThread.quit();
    engineThread.wait();
    return result;
}
