#include "ui/TrayController.h"

#include "ui/Icons.h"

#include <QtWidgets/QMenu>
#include <QtWidgets/QSystemTrayIcon>

namespace qmasque::ui {

TrayController::TrayController(QAction *connectAction, QAction *disconnectAction,
                               QAction *showAction, QAction *quitAction, QObject *parent)
    : QObject(parent)
    , m_menu(new QMenu)
    , m_icon(new QSystemTrayIcon(this))
{
    m_menu->addAction(showAction);
    m_menu->addSeparator();
    m_menu->addAction(connectAction);
    m_menu->addAction(disconnectAction);
    m_menu->addSeparator();
    m_menu->addAction(quitAction);
    m_icon->setContextMenu(m_menu);
    connect(m_icon, &QSystemTrayIcon::activated, this,
            [this](QSystemTrayIcon::ActivationReason reason) {
                if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick)
                    Q_EMIT showRequested();
            });
    setState(EngineState::Stopped, {});
    m_icon->show();
}

TrayController::~TrayController()
{
    delete m_icon; // before the menu it shows
    delete m_menu;
}

void TrayController::setState(EngineState state, const QString &detail)
{
    m_icon->setIcon(icons::trayIcon(state));
    QString tip = tr("QMasque: %1").arg(QLatin1StringView(engineStateName(state)));
    if (!detail.isEmpty())
        tip += QLatin1Char('\n') + detail;
    m_icon->setToolTip(tip);
}

void TrayController::notify(const QString &title, const QString &message)
{
    m_icon->showMessage(title, message, icons::application(), 8000);
}

} // namespace qmasque::ui
