#include "ui/DashboardStatusBar.h"

#include "ui/DashboardController.h"
#include "ui/Format.h"
#include "ui/Icons.h"
#include "ui/Theme.h"

#include <QtCore/QEvent>
#include <QtWidgets/QLabel>

namespace qmasque::ui {

namespace {

QLabel *field(QWidget *parent, const QString &name)
{
    auto *label = new QLabel(parent);
    label->setObjectName(name);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

} // namespace

DashboardStatusBar::DashboardStatusBar(QWidget *parent)
    : QStatusBar(parent)
    , m_stateIcon(new QLabel(this))
    , m_stateText(field(this, QStringLiteral("statusState")))
    , m_upstream(field(this, QStringLiteral("statusUpstream")))
    , m_tunnels(field(this, QStringLiteral("statusTunnels")))
    , m_totals(field(this, QStringLiteral("statusTotals")))
    , m_speed(field(this, QStringLiteral("statusSpeed")))
    , m_paused(field(this, QStringLiteral("statusPaused")))
{
    setSizeGripEnabled(true);
    addWidget(m_stateIcon);
    addWidget(m_stateText);
    addWidget(m_upstream, 1);
    addPermanentWidget(m_paused);
    addPermanentWidget(m_tunnels);
    addPermanentWidget(m_totals);
    addPermanentWidget(m_speed);
    m_paused->setText(tr("Updates paused"));
    m_paused->setVisible(false);
    m_upstream->setToolTip(tr("Upstream proxy"));
    m_tunnels->setToolTip(tr("Active tunnels and upstream connections"));
    m_totals->setToolTip(tr("Tunnel payload since start: sent / received"));
    m_speed->setToolTip(tr("Current tunnel throughput, from the last two snapshots"));
    setEngineState(EngineState::Stopped, {});
    setSummary({});
}

void DashboardStatusBar::setEngineState(EngineState state, const Error &error)
{
    m_state = state;
    m_error = error;
    const int size = fontMetrics().height();
    m_stateIcon->setPixmap(icons::engineState(state).pixmap(size, size));
    QString text = QString::fromLatin1(engineStateName(state));
    text[0] = text[0].toUpper();
    if (state == EngineState::Failed)
        text += QStringLiteral(": ") + error.toString();
    m_stateText->setText(text);
    QPalette pal = m_stateText->palette();
    pal.setColor(QPalette::WindowText, theme::engineStateColor(state, theme::isDark(palette())));
    m_stateText->setPalette(pal);
}

void DashboardStatusBar::setSummary(const DashboardSummary &summary)
{
    m_upstream->setText(
        summary.proxy.isEmpty()
            ? tr("No upstream")
            : (summary.profileName.isEmpty()
                   ? summary.proxy
                   : tr("%1 (profile %2)").arg(summary.proxy, summary.profileName)));
    QString tunnels =
        (summary.activeTunnels == 1 ? tr("1 tunnel")
                                    : tr("%1 tunnels").arg(summary.activeTunnels)) +
        (summary.connections == 1 ? tr(" on 1 connection")
                                  : tr(" on %1 connections").arg(summary.connections));
    if (summary.directTunnels > 0)
        tunnels += tr(" + %1 direct h1").arg(summary.directTunnels);
    if (summary.dials > 0)
        tunnels += tr(", %1 dialing").arg(summary.dials);
    if (summary.waiters > 0)
        tunnels += tr(", %1 waiting").arg(summary.waiters);
    m_tunnels->setText(tunnels);
    m_totals->setText(tr("Total ↑ %1  ↓ %2")
                          .arg(formatBytes(summary.bytesSent), formatBytes(summary.bytesReceived)));
    m_speed->setText(summary.rates.valid ? tr("↑ %1  ↓ %2")
                                               .arg(formatBitRate(summary.rates.upBytesPerSecond),
                                                    formatBitRate(summary.rates.downBytesPerSecond))
                                         : tr("↑ –  ↓ –"));
}

void DashboardStatusBar::changeEvent(QEvent *event)
{
    QStatusBar::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) // the state colour follows light / dark
        setEngineState(m_state, m_error);
}

void DashboardStatusBar::setPaused(bool paused)
{
    m_paused->setVisible(paused);
}

} // namespace qmasque::ui
