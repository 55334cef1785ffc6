#pragma once

#include <QtWidgets/QStyledItemDelegate>

namespace qmasque::ui {

// RaceTimelineDelegate: paints one transport race (RaceModel::RaceRole) as a small timeline: on
// the left the time, the target and the outcome; on the right one lane per attempt with a bar
// from its start offset for its duration, coloured by result (won: green, cancelled: grey,
// failed: red) and labelled with its duration and result. Every row shares the time axis
// `scaleMs` (RaceModel::scaleMs) so bars compare across races; bars beyond it are clipped and
// marked. GUI thread only.
class RaceTimelineDelegate final : public QStyledItemDelegate
{
    Q_OBJECT

public:
    explicit RaceTimelineDelegate(QObject *parent = nullptr);

    void setScaleMs(qint64 scaleMs) { m_scaleMs = std::max<qint64>(1, scaleMs); }
    qint64 scaleMs() const { return m_scaleMs; }

    // timelineSpan: where the time axis starts and ends inside an item of `itemWidth` pixels
    // (the panel's axis header draws its ticks at the same places).
    static std::pair<int, int> timelineSpan(int itemWidth, const QFontMetrics &metrics);

    void paint(QPainter *painter, const QStyleOptionViewItem &option,
               const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;

private:
    qint64 m_scaleMs = 300;
};

} // namespace qmasque::ui
