#pragma once

#include "api/EngineControl.h"

#include <QtWidgets/QMainWindow>

#include <memory>
#include <optional>

class QAction;
class QComboBox;
class QSettings;
class QTabWidget;

namespace qmasque::ui {

class ChartsPanel;
class ClosedPanel;
class DashboardController;
class DashboardStatusBar;
class LogPanel;
class PoolPanel;
class RacePanel;
class SettingsDialog;
class TrayController;

// MainWindowOptions: how the application embeds the dashboard.
struct MainWindowOptions
{
    // The profile directory the selector lists and the settings dialog edits; empty: the
    // directory of Profile::defaultPath() (ProfileStore::defaultDirectory()).
    QString profileDirectory;
    // The window layout (geometry, columns, tab) is kept in this INI file; empty: the default
    // QSettings of the application (organisation and application name).
    QString settingsPath;
    // The system tray: Auto uses it when QSystemTrayIcon::isSystemTrayAvailable().
    enum class Tray
    {
        Auto,
        Enabled,
        Disabled,
    };
    Tray tray = Tray::Auto;
    // After quitRequested(), also call QCoreApplication::quit() (queued). Tests turn it off.
    bool quitApplication = true;
};

// MainWindow: the QMasque dashboard, the GUI's single entry point. Give it the engine (an
// EngineControl on its own thread; not owned, must outlive the window or be destroyed after
// it) and show it:
//
//   qmasque::ui::MainWindow window(&engine);
//   window.show();
//
// The toolbar connects and disconnects with the selected profile, pauses updates, closes every
// tunnel and opens the profile editor; the tabs show the pool (connections and their streams),
// charts, the race timeline, the closed tunnels and the log; the status bar the state, upstream,
// tunnels, totals and speed. Every command to the engine is queued (EngineLink): the window never
// waits for the engine and holds no pointer into it.
//
// With a system tray, closing the window hides it and the tunnels keep running (a one-time
// notice says so); "Quit" in the tray menu quits. Without a tray, closing the window quits.
// Quitting emits quitRequested(): the application stops the engine (e.g. on aboutToQuit).
class MainWindow final : public QMainWindow
{
    Q_OBJECT

public:
    explicit MainWindow(EngineControl *engine, MainWindowOptions options = {},
                        QWidget *parent = nullptr);
    ~MainWindow() override;

    DashboardController *controller() const { return m_controller; }
    PoolPanel *poolPanel() const { return m_pool; }
    ChartsPanel *chartsPanel() const { return m_charts; }
    RacePanel *racePanel() const { return m_races; }
    ClosedPanel *closedPanel() const { return m_closed; }
    LogPanel *logPanel() const { return m_log; }
    DashboardStatusBar *dashboardStatusBar() const { return m_status; }
    QTabWidget *tabs() const { return m_tabs; }
    QComboBox *profileSelector() const { return m_profiles; }
    TrayController *tray() const { return m_tray.get(); }
    // settingsDialog: the profile editor, once opened (nullptr before).
    SettingsDialog *settingsDialog() const { return m_settingsDialog; }

    QAction *connectAction() const { return m_connect; }
    QAction *disconnectAction() const { return m_disconnect; }
    QAction *pauseAction() const { return m_pause; }
    QAction *closeAllAction() const { return m_closeAll; }
    QAction *settingsAction() const { return m_settings; }
    QAction *showAction() const { return m_show; }
    QAction *quitAction() const { return m_quit; }

    // selectedProfile: the profile the selector names, loaded from its file.
    std::optional<Profile> selectedProfile() const;
    // reloadProfiles: re-reads the profile directory into the selector (keeps the selection).
    void reloadProfiles(const QString &select = {});
    void openSettings();
    void saveLayout();

Q_SIGNALS:
    // quitRequested: the user quit (tray menu, or closed the window without a tray).
    void quitRequested();
    // hiddenToTray: the window was closed into the tray; `noticeShown` for the first time.
    void hiddenToTray(bool noticeShown);

protected:
    void closeEvent(QCloseEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void buildActions();
    void buildToolBar();
    void restoreLayout();
    void handleStateChanged(EngineState state, const Error &error);
    void handleSnapshot();
    void connectSelected();
    void updateActions();
    void refreshIcons();
    void requestQuit();

    MainWindowOptions m_options;
    std::unique_ptr<QSettings> m_settingsStore;
    DashboardController *m_controller; // child
    PoolPanel *m_pool = nullptr;       // child of m_tabs
    ChartsPanel *m_charts = nullptr;
    RacePanel *m_races = nullptr;
    ClosedPanel *m_closed = nullptr;
    LogPanel *m_log = nullptr;
    QTabWidget *m_tabs = nullptr;
    DashboardStatusBar *m_status = nullptr;
    QComboBox *m_profiles = nullptr;
    QComboBox *m_rate = nullptr;
    SettingsDialog *m_settingsDialog = nullptr; // child, created on first use
    std::unique_ptr<TrayController> m_tray;
    QAction *m_connect = nullptr;
    QAction *m_disconnect = nullptr;
    QAction *m_pause = nullptr;
    QAction *m_closeAll = nullptr;
    QAction *m_settings = nullptr;
    QAction *m_show = nullptr;
    QAction *m_quit = nullptr;
    bool m_quitting = false;
};

} // namespace qmasque::ui
