#include "ui/RacePanel.h"

#include "ui/RaceModel.h"
#include "ui/RaceTimelineDelegate.h"
#include "ui/Theme.h"
#include "ui/TimeSeriesChart.h"

#include <QtGui/QPainter>
#include <QtWidgets/QLabel>
#include <QtWidgets/QListView>
#include <QtWidgets/QScrollBar>
#include <QtWidgets/QVBoxLayout>

namespace qmasque::ui {

// Axis: the legend and the time axis above the list, ticks aligned with the delegate's lanes.
class RacePanel::Axis final : public QWidget
{
public:
    Axis(QListView *view, RaceTimelineDelegate *delegate, QWidget *parent)
        : QWidget(parent)
        , m_view(view)
        , m_delegate(delegate)
    {
        setMinimumHeight(fontMetrics().height() * 2 + 8);
    }

protected:
    void paintEvent(QPaintEvent *) override
    {
        QPainter painter(this);
        painter.setRenderHint(QPainter::Antialiasing);
        const QPalette &pal = palette();
        const bool dark = theme::isDark(pal);
        const QColor text = pal.color(QPalette::WindowText);
        QColor muted = text;
        muted.setAlphaF(0.75);
        const QFontMetrics metrics = fontMetrics();

        // Legend, on the first line.
        int x = 6;
        const int baseline = 4 + metrics.ascent();
        const std::pair<const char *, QString> kinds[] = {
            {"won", tr("won")},
            {"cancelled", tr("cancelled (another transport won)")},
            {"error", tr("failed (error name)")}};
        for (const auto &[result, label] : kinds) {
            const int swatch = metrics.ascent() - 2;
            painter.fillRect(QRect(x, baseline - swatch, swatch * 2, swatch),
                             theme::raceResultColor(QLatin1StringView(result), dark));
            x += swatch * 2 + 4;
            painter.setPen(text);
            painter.drawText(x, baseline, label);
            x += metrics.horizontalAdvance(label) + 14;
        }

        // Axis, on the second line, where the delegate puts its lanes.
        // The list is a sibling: compare global positions.
        const QWidget *viewport = m_view->viewport();
        const int offset = viewport->mapToGlobal(QPoint(0, 0)).x() - mapToGlobal(QPoint(0, 0)).x();
        const auto [left, right] = RaceTimelineDelegate::timelineSpan(viewport->width(), metrics);
        const qint64 scale = m_delegate->scaleMs();
        const double step = TimeSeriesChart::niceStep(double(scale), 5);
        const int axisBaseline = height() - 4 - metrics.descent();
        painter.setPen(muted);
        painter.drawText(offset + 6, axisBaseline, tr("Race started at / target / outcome"));
        for (double ms = 0; ms <= double(scale) + step / 100; ms += step) {
            const int tick = offset + left + int(double(right - left) * ms / double(scale));
            const QString label = QStringLiteral("%1 ms").arg(qint64(ms));
            const int labelX = std::min(tick - metrics.horizontalAdvance(label) / 2,
                                        width() - metrics.horizontalAdvance(label) - 2);
            painter.drawText(std::max(offset + left, labelX), axisBaseline, label);
            painter.drawLine(tick, height() - 2, tick, height());
        }
    }

private:
    QListView *m_view;                // not owned (sibling)
    RaceTimelineDelegate *m_delegate; // not owned (sibling's)
};

RacePanel::RacePanel(RaceModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
    , m_view(new QListView(this))
    , m_delegate(new RaceTimelineDelegate(m_view))
    , m_axis(new Axis(m_view, m_delegate, this))
{
    m_view->setModel(model);
    m_view->setItemDelegate(m_delegate);
    m_view->setUniformItemSizes(false);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_delegate->setScaleMs(model->scaleMs());
    connect(model, &RaceModel::scaleChanged, this, [this](qint64 scale) {
        m_delegate->setScaleMs(scale);
        m_axis->update();
        m_view->viewport()->update();
    });

    auto *hint = new QLabel(
        tr("Each new upstream connection is raced: h3 first, h2 after its head start, h1 last; "
           "the first 2xx wins and the others are cancelled."),
        this);
    hint->setWordWrap(true);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(4);
    layout->addWidget(hint);
    layout->addWidget(m_axis);
    layout->addWidget(m_view, 1);
}

} // namespace qmasque::ui
