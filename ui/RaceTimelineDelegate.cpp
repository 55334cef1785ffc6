#include "ui/RaceTimelineDelegate.h"

#include "ui/Format.h"
#include "ui/RaceModel.h"
#include "ui/Theme.h"

#include <QtGui/QPainter>
#include <QtWidgets/QApplication>

namespace qmasque::ui {

namespace {

constexpr int kMargin = 6;

int laneHeight(const QFontMetrics &metrics)
{
    return metrics.height() + 4;
}

} // namespace

RaceTimelineDelegate::RaceTimelineDelegate(QObject *parent)
    : QStyledItemDelegate(parent)
{}

std::pair<int, int> RaceTimelineDelegate::timelineSpan(int itemWidth, const QFontMetrics &metrics)
{
    const int labels = metrics.horizontalAdvance(QLatin1Char('x')) * 34;
    const int lane = metrics.horizontalAdvance(QStringLiteral("h3")) + kMargin;
    const int start = kMargin + labels + lane + kMargin;
    return {start, std::max(start + 40, itemWidth - kMargin - 1)};
}

QSize RaceTimelineDelegate::sizeHint(const QStyleOptionViewItem &option,
                                     const QModelIndex &index) const
{
    const RaceRecord race = index.data(RaceModel::RaceRole).value<RaceRecord>();
    const int lanes = std::max<int>(2, int(race.attempts.size()));
    return {400, kMargin * 2 + lanes * laneHeight(option.fontMetrics)};
}

void RaceTimelineDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option,
                                 const QModelIndex &index) const
{
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    opt.text.clear();
    const QWidget *widget = option.widget;
    QStyle *style = widget ? widget->style() : QApplication::style();
    style->drawPrimitive(QStyle::PE_PanelItemViewItem, &opt, painter, widget);

    const RaceRecord race = index.data(RaceModel::RaceRole).value<RaceRecord>();
    const bool dark = theme::isDark(option.palette);
    const bool selected = option.state & QStyle::State_Selected;
    const QColor text = option.palette.color(selected ? QPalette::HighlightedText : QPalette::Text);
    QColor muted = text;
    muted.setAlphaF(0.7);
    const QFontMetrics &metrics = option.fontMetrics;
    const int lane = laneHeight(metrics);
    const QRect rect = option.rect;

    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setClipRect(rect);

    // Left: when, where to, and how it ended.
    const auto [axisLeft, axisRight] = timelineSpan(rect.width(), metrics);
    const int labelWidth = axisLeft - 3 * kMargin - metrics.horizontalAdvance(QStringLiteral("h3"));
    QFont bold = option.font;
    bold.setBold(true);
    int y = rect.top() + kMargin;
    painter->setPen(text);
    painter->setFont(bold);
    const QString heading = formatClock(race.startedAtMs) + QStringLiteral("  ") + race.target;
    painter->drawText(QRect(rect.left() + kMargin, y, labelWidth, lane), Qt::AlignVCenter,
                      QFontMetrics(bold).elidedText(heading, Qt::ElideRight, labelWidth));
    painter->setFont(option.font);
    painter->setPen(race.winner ? theme::successColor(dark) : theme::errorColor(dark));
    if (selected)
        painter->setPen(text);
    painter->drawText(QRect(rect.left() + kMargin, y + lane, labelWidth, lane), Qt::AlignVCenter,
                      metrics.elidedText(RaceModel::raceSummary(race), Qt::ElideRight, labelWidth));

    // Right: the time axis grid, then one lane per attempt.
    const int left = rect.left() + axisLeft;
    const int right = rect.left() + axisRight;
    const double perMs = double(right - left) / double(m_scaleMs);
    QColor grid = text;
    grid.setAlphaF(dark ? 0.14 : 0.10);
    painter->setPen(QPen(grid, 1));
    painter->drawLine(left, rect.top() + 2, left, rect.bottom() - 2);
    painter->drawLine(right, rect.top() + 2, right, rect.bottom() - 2);
    for (const RaceAttempt &attempt : race.attempts) {
        const QRect laneRect(left, y, right - left, lane);
        painter->setPen(muted);
        painter->drawText(QRect(left - kMargin - metrics.horizontalAdvance(QStringLiteral("h3")), y,
                                metrics.horizontalAdvance(QStringLiteral("h3")), lane),
                          Qt::AlignRight | Qt::AlignVCenter,
                          QString::fromLatin1(transportKindName(attempt.transport)));
        const qint64 end = attempt.startOffsetMs + attempt.durationMs;
        const bool clipped = end > m_scaleMs;
        const double x0 = left + perMs * double(std::min(attempt.startOffsetMs, m_scaleMs));
        const double x1 = left + perMs * double(std::min(end, m_scaleMs));
        const QRectF bar(x0, laneRect.top() + 3, std::max(3.0, x1 - x0), lane - 6);
        const QColor colour = theme::raceResultColor(attempt.result, dark);
        painter->setPen(Qt::NoPen);
        painter->setBrush(colour);
        painter->drawRoundedRect(bar, 2, 2);
        if (clipped) { // an arrow head: the bar goes on beyond the axis
            const QPointF tip(bar.right() + 1, bar.center().y());
            painter->drawPolygon(
                QPolygonF({QPointF(bar.right() - 5, bar.top() - 2), QPointF(tip.x() - 1, tip.y()),
                           QPointF(bar.right() - 5, bar.bottom() + 2)}));
        }
        // The label goes after the bar, or inside its end when there is no room after it.
        const QString label =
            QStringLiteral("%1 ms %2").arg(attempt.durationMs).arg(attempt.result);
        const int labelPixels = metrics.horizontalAdvance(label);
        QRectF labelRect(bar.right() + 5, laneRect.top(), labelPixels, lane);
        QColor labelColour = text;
        if (labelRect.right() > right) {
            labelRect.moveRight(bar.right() - 5);
            labelColour = dark ? QColor(Qt::black) : QColor(Qt::white);
            if (labelRect.left() < bar.left()) { // neither fits: before the bar
                labelRect.moveRight(bar.left() - 4);
                labelColour = text;
            }
        }
        painter->setPen(labelColour);
        painter->drawText(labelRect, Qt::AlignVCenter, label);
        y += lane;
    }
    painter->restore();
}

} // namespace qmasque::ui
