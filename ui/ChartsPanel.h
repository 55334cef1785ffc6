#pragma once

#include <QtWidgets/QWidget>

#include <optional>

namespace qmasque::ui {

class TimeSeriesChart;
class TrafficHistory;

// ChartsPanel: the dashboard's charts over the last five minutes: pool throughput (tunnel
// payload), the selected connection's throughput (on the wire), the selected connection's RTT
// (smoothed and minimum) and the number of active tunnels. Fed from TrafficHistory after each
// snapshot. GUI thread only.
class ChartsPanel final : public QWidget
{
    Q_OBJECT

public:
    explicit ChartsPanel(QWidget *parent = nullptr);

    // setSelectedConnection: whose throughput and RTT the lower charts show; `label` names it
    // ("#12 h3 proxy.example:443").
    void setSelectedConnection(std::optional<quint64> connectionId, const QString &label);
    // refresh: redraws every chart from `history`.
    void refresh(const TrafficHistory &history);

    TimeSeriesChart *poolChart() const { return m_pool; }
    TimeSeriesChart *connectionChart() const { return m_connection; }
    TimeSeriesChart *rttChart() const { return m_rtt; }
    TimeSeriesChart *tunnelsChart() const { return m_tunnels; }

private:
    TimeSeriesChart *m_pool;       // child
    TimeSeriesChart *m_connection; // child
    TimeSeriesChart *m_rtt;        // child
    TimeSeriesChart *m_tunnels;    // child
    std::optional<quint64> m_selected;
    QString m_selectedLabel;
};

} // namespace qmasque::ui
