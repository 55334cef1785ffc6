#include "ui/MainWindow.h"

#include "ui/ChartsPanel.h"
#include "ui/ClosedPanel.h"
#include "ui/ClosedTunnelModel.h"
#include "ui/DashboardController.h"
#include "ui/DashboardStatusBar.h"
#include "ui/Icons.h"
#include "ui/LogPanel.h"
#include "ui/PoolPanel.h"
#include "ui/ProfileStore.h"
#include "ui/RacePanel.h"
#include "ui/SettingsDialog.h"
#include "ui/Theme.h"
#include "ui/TrayController.h"

#include <QtCore/QSettings>
#include <QtGui/QCloseEvent>
#include <QtWidgets/QApplication>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QLabel>
#include <QtWidgets/QSystemTrayIcon>
#include <QtWidgets/QTabWidget>
#include <QtWidgets/QToolBar>

namespace qmasque::ui {

namespace {

const QString kGeometryKey = QStringLiteral("window/geometry");
const QString kStateKey = QStringLiteral("window/state");
const QString kTabKey = QStringLiteral("window/tab");
const QString kProfileKey = QStringLiteral("profile/selected");
const QString kRateKey = QStringLiteral("snapshot/intervalMs");
const QString kNoticeKey = QStringLiteral("tray/closeNoticeShown");

} // namespace

MainWindow::MainWindow(EngineControl *engine, MainWindowOptions options, QWidget *parent)
    : QMainWindow(parent)
    , m_options(std::move(options))
    , m_settingsStore(
          m_options.settingsPath.isEmpty()
              ? std::make_unique<QSettings>()
              : std::make_unique<QSettings>(m_options.settingsPath, QSettings::IniFormat))
    , m_controller(new DashboardController(engine, this))
{
    icons::initResources();
    if (m_options.profileDirectory.isEmpty())
        m_options.profileDirectory = ProfileStore::defaultDirectory();
    setWindowTitle(tr("QMasque"));
    setWindowIcon(icons::application());
    setObjectName(QStringLiteral("mainWindow"));

    m_tabs = new QTabWidget(this);
    m_tabs->setDocumentMode(true);
    m_pool = new PoolPanel(m_controller, m_tabs);
    m_charts = new ChartsPanel(m_tabs);
    m_races = new RacePanel(m_controller->raceModel(), m_tabs);
    m_closed = new ClosedPanel(m_controller->closedModel(), m_tabs);
    m_log = new LogPanel(m_controller->logModel(), m_tabs);
    m_tabs->addTab(m_pool, tr("Pool"));
    m_tabs->addTab(m_charts, tr("Charts"));
    m_tabs->addTab(m_races, tr("Races"));
    m_tabs->addTab(m_closed, tr("Closed"));
    m_tabs->addTab(m_log, tr("Log"));
    setCentralWidget(m_tabs);
    m_status = new DashboardStatusBar(this);
    setStatusBar(m_status);

    buildActions();
    buildToolBar();

    const bool trayWanted = m_options.tray == MainWindowOptions::Tray::Enabled ||
                            (m_options.tray == MainWindowOptions::Tray::Auto &&
                             QSystemTrayIcon::isSystemTrayAvailable());
    if (trayWanted) {
        m_tray = std::make_unique<TrayController>(m_connect, m_disconnect, m_show, m_quit);
        connect(m_tray.get(), &TrayController::showRequested, m_show, &QAction::trigger);
        // The window may hide while the tunnels run: only Quit ends the application.
        QApplication::setQuitOnLastWindowClosed(false);
    }

    connect(m_controller, &DashboardController::stateChanged, this,
            &MainWindow::handleStateChanged);
    connect(m_controller, &DashboardController::snapshotProcessed, this,
            &MainWindow::handleSnapshot);
    connect(m_controller, &DashboardController::pausedChanged, m_status,
            &DashboardStatusBar::setPaused);
    connect(m_pool, &PoolPanel::connectionFocused, this,
            [this](std::optional<quint64> id, const QString &label) {
                m_charts->setSelectedConnection(id, label);
                m_charts->refresh(m_controller->history());
            });
    connect(m_controller->closedModel(), &QAbstractItemModel::rowsInserted, this, [this] {
        m_tabs->setTabText(m_tabs->indexOf(m_closed),
                           tr("Closed (%1)").arg(m_controller->closedModel()->rowCount()));
    });

    m_controller->setDarkPalette(theme::isDark(palette()));
    reloadProfiles(m_settingsStore->value(kProfileKey).toString());
    restoreLayout();
    handleStateChanged(m_controller->state(), m_controller->lastError());
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions()
{
    m_connect = new QAction(tr("&Connect"), this);
    m_connect->setObjectName(QStringLiteral("connectAction"));
    m_connect->setToolTip(tr("Start the tunnels with the selected profile"));
    connect(m_connect, &QAction::triggered, this, &MainWindow::connectSelected);

    m_disconnect = new QAction(tr("&Disconnect"), this);
    m_disconnect->setObjectName(QStringLiteral("disconnectAction"));
    m_disconnect->setToolTip(tr("Close every tunnel gracefully and stop"));
    connect(m_disconnect, &QAction::triggered, m_controller, &DashboardController::stop);

    m_pause = new QAction(tr("&Pause updates"), this);
    m_pause->setObjectName(QStringLiteral("pauseAction"));
    m_pause->setCheckable(true);
    m_pause->setToolTip(tr("Freeze the tables (the engine keeps running; charts keep going)"));
    connect(m_pause, &QAction::toggled, m_controller, &DashboardController::setPaused);

    m_closeAll = new QAction(tr("Close &all"), this);
    m_closeAll->setObjectName(QStringLiteral("closeAllAction"));
    m_closeAll->setToolTip(tr("Close every tunnel (the engine keeps running)"));
    connect(m_closeAll, &QAction::triggered, m_controller, &DashboardController::closeAll);

    m_settings = new QAction(tr("&Profiles…"), this);
    m_settings->setObjectName(QStringLiteral("settingsAction"));
    m_settings->setShortcut(QKeySequence::Preferences);
    m_settings->setToolTip(tr("Edit the connection profiles"));
    connect(m_settings, &QAction::triggered, this, &MainWindow::openSettings);

    m_show = new QAction(tr("&Show dashboard"), this);
    connect(m_show, &QAction::triggered, this, [this] {
        showNormal();
        raise();
        activateWindow();
    });
    m_quit = new QAction(tr("&Quit"), this);
    m_quit->setShortcut(QKeySequence::Quit);
    connect(m_quit, &QAction::triggered, this, &MainWindow::requestQuit);
    addAction(m_quit);
    refreshIcons();
}

void MainWindow::buildToolBar()
{
    QToolBar *bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->addAction(m_connect);
    bar->addAction(m_disconnect);
    bar->addSeparator();
    bar->addWidget(new QLabel(tr(" Profile "), bar));
    m_profiles = new QComboBox(bar);
    m_profiles->setObjectName(QStringLiteral("profileSelector"));
    m_profiles->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_profiles->setMinimumContentsLength(14);
    m_profiles->setToolTip(tr("Profiles in %1").arg(m_options.profileDirectory));
    connect(m_profiles, &QComboBox::currentIndexChanged, this, [this] {
        m_settingsStore->setValue(kProfileKey, m_profiles->currentText());
        updateActions();
    });
    bar->addWidget(m_profiles);
    bar->addAction(m_settings);
    bar->addSeparator();
    bar->addAction(m_pause);
    bar->addAction(m_closeAll);
    bar->addSeparator();
    bar->addWidget(new QLabel(tr(" Refresh "), bar));
    m_rate = new QComboBox(bar);
    m_rate->setObjectName(QStringLiteral("snapshotRate"));
    m_rate->setToolTip(tr("How often the engine sends a snapshot"));
    for (int ms : {250, 500, 1000, 2000})
        m_rate->addItem(ms < 1000 ? tr("%1 Hz").arg(1000 / ms) : tr("every %1 s").arg(ms / 1000),
                        ms);
    connect(m_rate, &QComboBox::activated, this, [this] {
        const int ms = m_rate->currentData().toInt();
        m_settingsStore->setValue(kRateKey, ms);
        m_controller->setSnapshotInterval(ms);
    });
    bar->addWidget(m_rate);
}

void MainWindow::refreshIcons()
{
    const QPalette &pal = palette();
    m_connect->setIcon(icons::action(QStringLiteral("connect"), pal));
    m_disconnect->setIcon(icons::action(QStringLiteral("disconnect"), pal));
    m_pause->setIcon(icons::action(QStringLiteral("pause"), pal));
    m_closeAll->setIcon(icons::action(QStringLiteral("close-all"), pal));
    m_settings->setIcon(icons::action(QStringLiteral("settings"), pal));
    m_show->setIcon(icons::action(QStringLiteral("show"), pal));
    m_quit->setIcon(icons::action(QStringLiteral("quit"), pal));
    if (m_pool)
        m_pool->refreshIcons();
}

void MainWindow::reloadProfiles(const QString &select)
{
    const QString keep = select.isEmpty() ? m_profiles->currentText() : select;
    const QList<Profile> profiles = ProfileStore(m_options.profileDirectory).profiles();
    {
        const QSignalBlocker blocker(m_profiles);
        m_profiles->clear();
        for (const Profile &profile : profiles)
            m_profiles->addItem(profile.name);
        const int index = m_profiles->findText(keep);
        m_profiles->setCurrentIndex(index >= 0 ? index : (profiles.isEmpty() ? -1 : 0));
    }
    m_profiles->setPlaceholderText(tr("No profile yet"));
    updateActions();
}

std::optional<Profile> MainWindow::selectedProfile() const
{
    if (m_profiles->currentIndex() < 0)
        return std::nullopt;
    return ProfileStore(m_options.profileDirectory).find(m_profiles->currentText());
}

void MainWindow::connectSelected()
{
    const std::optional<Profile> profile = selectedProfile();
    if (!profile) {
        m_status->showMessage(tr("Create a profile first"), 5000);
        openSettings();
        return;
    }
    if (auto valid = profile->validate(); !valid) {
        m_status->showMessage(tr("Profile %1: %2").arg(profile->name, valid.error().detail), 10000);
        openSettings();
        m_settingsDialog->selectProfile(profile->name);
        return;
    }
    m_controller->start(*profile);
}

void MainWindow::openSettings()
{
    if (!m_settingsDialog) {
        m_settingsDialog = new SettingsDialog(m_options.profileDirectory, this);
        connect(m_settingsDialog, &SettingsDialog::profilesChanged, this,
                [this](const QString &current) { reloadProfiles(current); });
    }
    if (m_profiles->currentIndex() >= 0)
        m_settingsDialog->selectProfile(m_profiles->currentText());
    m_settingsDialog->open();
}

void MainWindow::handleStateChanged(EngineState state, const Error &error)
{
    m_status->setEngineState(state, error);
    if (m_tray)
        m_tray->setState(state, m_controller->summary().proxy);
    setWindowTitle(state == EngineState::Stopped
                       ? tr("QMasque")
                       : tr("QMasque — %1").arg(QLatin1StringView(engineStateName(state))));
    if (state == EngineState::Failed)
        m_status->showMessage(error.toString(), 15000);
    updateActions();
}

void MainWindow::handleSnapshot()
{
    m_status->setSummary(m_controller->summary());
    m_charts->refresh(m_controller->history());
    updateActions();
}

void MainWindow::updateActions()
{
    const EngineState state = m_controller->state();
    const bool idle = state == EngineState::Stopped || state == EngineState::Failed;
    m_connect->setEnabled(idle && m_profiles->currentIndex() >= 0);
    m_disconnect->setEnabled(state == EngineState::Starting || state == EngineState::Running);
    m_profiles->setEnabled(idle);
    m_closeAll->setEnabled(state == EngineState::Running &&
                           m_controller->summary().activeTunnels > 0);
}

void MainWindow::restoreLayout()
{
    QSettings &s = *m_settingsStore;
    if (!restoreGeometry(s.value(kGeometryKey).toByteArray()))
        resize(1360, 860);
    restoreState(s.value(kStateKey).toByteArray());
    m_tabs->setCurrentIndex(std::clamp(s.value(kTabKey, 0).toInt(), 0, m_tabs->count() - 1));
    m_pool->restoreLayout(s);
    m_closed->restoreLayout(s);
    m_log->restoreLayout(s);
    const int rate = m_rate->findData(s.value(kRateKey, 250).toInt());
    m_rate->setCurrentIndex(rate >= 0 ? rate : 0);
    if (m_rate->currentData().toInt() != 250)
        m_controller->setSnapshotInterval(m_rate->currentData().toInt());
}

void MainWindow::saveLayout()
{
    QSettings &s = *m_settingsStore;
    s.setValue(kGeometryKey, saveGeometry());
    s.setValue(kStateKey, saveState());
    s.setValue(kTabKey, m_tabs->currentIndex());
    m_pool->saveLayout(s);
    m_closed->saveLayout(s);
    m_log->saveLayout(s);
    s.sync();
}

void MainWindow::requestQuit()
{
    m_quitting = true;
    saveLayout();
    close();
    Q_EMIT quitRequested();
    if (m_options.quitApplication)
        QMetaObject::invokeMethod(qApp, &QCoreApplication::quit, Qt::QueuedConnection);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveLayout();
    if (m_quitting || !m_tray) {
        event->accept();
        if (!m_quitting) { // no tray: closing the window is quitting
            m_quitting = true;
            Q_EMIT quitRequested();
            if (m_options.quitApplication)
                QMetaObject::invokeMethod(qApp, &QCoreApplication::quit, Qt::QueuedConnection);
        }
        return;
    }
    // With a tray the tunnels outlive the window; say so once.
    event->ignore();
    hide();
    const bool notice = !m_settingsStore->value(kNoticeKey, false).toBool();
    if (notice) {
        m_tray->notify(tr("QMasque is still running"),
                       tr("The tunnels keep running. Use the tray icon to show the dashboard, "
                          "or Quit from its menu."));
        m_settingsStore->setValue(kNoticeKey, true);
        m_settingsStore->sync();
    }
    Q_EMIT hiddenToTray(notice);
}

void MainWindow::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::PaletteChange) {
        m_controller->setDarkPalette(theme::isDark(palette()));
        if (m_connect) // after buildActions()
            refreshIcons();
    }
    QMainWindow::changeEvent(event);
}

} // namespace qmasque::ui
