#include "ui/ChartsPanel.h"

#include "ui/TimeSeriesChart.h"
#include "ui/TrafficHistory.h"

#include <QtWidgets/QGridLayout>

namespace qmasque::ui {

ChartsPanel::ChartsPanel(QWidget *parent)
    : QWidget(parent)
    , m_pool(new TimeSeriesChart(tr("Pool throughput"), TimeSeriesChart::Unit::BitRate, this))
    , m_connection(
          new TimeSeriesChart(tr("Selected connection"), TimeSeriesChart::Unit::BitRate, this))
    , m_rtt(new TimeSeriesChart(tr("RTT"), TimeSeriesChart::Unit::Milliseconds, this))
    , m_tunnels(new TimeSeriesChart(tr("Active tunnels"), TimeSeriesChart::Unit::Count, this))
{
    auto *layout = new QGridLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(6);
    layout->addWidget(m_pool, 0, 0);
    layout->addWidget(m_tunnels, 0, 1);
    layout->addWidget(m_connection, 1, 0);
    layout->addWidget(m_rtt, 1, 1);
    m_pool->setPlaceholder(tr("Waiting for snapshots"));
    m_tunnels->setPlaceholder(tr("Waiting for snapshots"));
    setSelectedConnection(std::nullopt, {});
}

void ChartsPanel::setSelectedConnection(std::optional<quint64> connectionId, const QString &label)
{
    m_selected = connectionId;
    m_selectedLabel = label;
    if (!connectionId) {
        m_connection->setTitle(tr("Selected connection"));
        m_rtt->setTitle(tr("RTT"));
        m_connection->setPlaceholder(tr("Select a connection in the Pool tab"));
        m_rtt->setPlaceholder(tr("Select a connection in the Pool tab"));
        m_connection->setSeries({}, 0);
        m_rtt->setSeries({}, 0);
        return;
    }
    m_connection->setTitle(tr("Connection %1 (wire)").arg(label));
    m_rtt->setTitle(tr("RTT %1").arg(label));
    m_connection->setPlaceholder(tr("Waiting for two snapshots of this connection"));
    m_rtt->setPlaceholder(tr("This connection measures no RTT (HTTP/1.1)"));
}

void ChartsPanel::refresh(const TrafficHistory &history)
{
    const qint64 end = history.latestMs();
    for (TimeSeriesChart *chart : {m_pool, m_connection, m_rtt, m_tunnels})
        chart->setWindow(history.windowMs());
    m_pool->setSeries({{tr("up"), theme::Series::Upload, history.poolUp(), true},
                       {tr("down"), theme::Series::Download, history.poolDown(), true}},
                      end);
    m_tunnels->setSeries({{tr("tunnels"), theme::Series::Tunnels, history.activeTunnels(), true}},
                         end);
    const TrafficHistory::ConnectionSeries *series =
        m_selected ? history.connection(*m_selected) : nullptr;
    if (!series) {
        m_connection->setSeries({}, end);
        m_rtt->setSeries({}, end);
        return;
    }
    m_connection->setSeries({{tr("up"), theme::Series::Upload, series->up, true},
                             {tr("down"), theme::Series::Download, series->down, true}},
                            end);
    m_rtt->setSeries({{tr("smoothed"), theme::Series::Rtt, series->rttMs, false},
                      {tr("min"), theme::Series::MinRtt, series->minRttMs, false}},
                     end);
}

} // namespace qmasque::ui
