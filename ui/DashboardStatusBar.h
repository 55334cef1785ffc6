#pragma once

#include "api/EngineEvents.h"
#include "api/Error.h"

#include <QtWidgets/QStatusBar>

class QLabel;

namespace qmasque::ui {

struct DashboardSummary;

// DashboardStatusBar: the engine state (icon and name, with the error when it failed), the
// upstream proxy, the active tunnels and connections, the byte totals and the current up/down
// speed (from successive snapshots), and a "paused" marker. GUI thread only.
class DashboardStatusBar final : public QStatusBar
{
    Q_OBJECT

public:
    explicit DashboardStatusBar(QWidget *parent = nullptr);

    void setEngineState(EngineState state, const Error &error);
    void setSummary(const DashboardSummary &summary);
    void setPaused(bool paused);

    QLabel *stateLabel() const { return m_stateText; }
    QLabel *upstreamLabel() const { return m_upstream; }
    QLabel *tunnelsLabel() const { return m_tunnels; }
    QLabel *totalsLabel() const { return m_totals; }
    QLabel *speedLabel() const { return m_speed; }

protected:
    void changeEvent(QEvent *event) override;

private:
    QLabel *m_stateIcon; // child
    QLabel *m_stateText; // child
    QLabel *m_upstream;  // child
    QLabel *m_tunnels;   // child
    QLabel *m_totals;    // child
    QLabel *m_speed;     // child
    QLabel *m_paused;    // child
    EngineState m_state = EngineState::Stopped;
    Error m_error;
};

} // namespace qmasque::ui
