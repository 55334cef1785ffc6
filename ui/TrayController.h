#pragma once

#include "api/EngineEvents.h"

#include <QtCore/QObject>

class QAction;
class QMenu;
class QSystemTrayIcon;

namespace qmasque::ui {

// TrayController: the system tray icon: the application icon with the engine state as a badge,
// a tool tip with the state and upstream, and a menu (connect, disconnect, show dashboard,
// quit) made of the main window's actions (not owned). A left click shows the dashboard.
// Created only when a tray is to be used. GUI thread only.
class TrayController final : public QObject
{
    Q_OBJECT

public:
    TrayController(QAction *connectAction, QAction *disconnectAction, QAction *showAction,
                   QAction *quitAction, QObject *parent = nullptr);
    ~TrayController() override;

    void setState(EngineState state, const QString &detail);
    // notify: a balloon message (the one-time "still running" notice).
    void notify(const QString &title, const QString &message);

    QSystemTrayIcon *icon() const { return m_icon; }
    QMenu *menu() const { return m_menu; }

Q_SIGNALS:
    void showRequested();

private:
    QMenu *m_menu;           // owned (a QMenu has no QObject parent here)
    QSystemTrayIcon *m_icon; // child
};

} // namespace qmasque::ui
