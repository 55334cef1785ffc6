#pragma once

#include <QtWidgets/QWidget>

class QListView;

namespace qmasque::ui {

class RaceModel;
class RaceTimelineDelegate;

// RacePanel: the race timeline tab: a legend and a time axis over a list of recent races, each
// painted by RaceTimelineDelegate on the common scale of RaceModel::scaleMs(). The model is not
// owned. GUI thread only.
class RacePanel final : public QWidget
{
    Q_OBJECT

public:
    explicit RacePanel(RaceModel *model, QWidget *parent = nullptr);

    QListView *view() const { return m_view; }

private:
    class Axis;

    RaceModel *m_model;               // not owned
    QListView *m_view;                // child
    RaceTimelineDelegate *m_delegate; // child
    Axis *m_axis;                     // child
};

} // namespace qmasque::ui
