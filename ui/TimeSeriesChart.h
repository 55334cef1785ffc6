#pragma once

#include "ui/Theme.h"

#include <QtCore/QList>
#include <QtCore/QPointF>
#include <QtWidgets/QWidget>

namespace qmasque::ui {

// TimeSeriesChart: a small line chart painted with QPainter (no Qt Charts): the last `window`
// of one or more series against wall-clock time, with a labelled value axis (nice 1-2-5 steps),
// a time axis counting back from the newest sample ("-4m" ... "now"), a legend with each
// series' current value, and a placeholder text when there is nothing to draw. Colours come from
// the palette (background, grid, text) and from theme::seriesColor, so light and dark palettes
// both read. Gaps longer than 5 s (the engine was stopped) break the line. GUI thread only.
class TimeSeriesChart final : public QWidget
{
    Q_OBJECT

public:
    enum class Unit
    {
        BitRate,      // values in bytes per second, shown as bit/s
        Milliseconds, // values in ms
        Count,        // integers
    };

    struct Series
    {
        QString name;
        theme::Series colour = theme::Series::Download;
        QList<QPointF> points; // x: ms since the Unix epoch, ascending; y: value in `unit`
        bool filled = false;   // shade the area under the line
    };

    explicit TimeSeriesChart(const QString &title, Unit unit, QWidget *parent = nullptr);

    // setSeries: the data to draw; `endMs` is the right edge of the time axis (the newest
    // snapshot time).
    void setSeries(const QList<Series> &series, qint64 endMs);
    void setWindow(qint64 windowMs);
    void setTitle(const QString &title);
    void setPlaceholder(const QString &text); // shown while no series has a point
    const QList<Series> &series() const { return m_series; }
    QString title() const { return m_title; }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

    // formatValue: `value` in `unit` as the axis and the legend print it.
    static QString formatValue(double value, Unit unit);
    // formatTick: an axis label (no needless ".0").
    static QString formatTick(double value, Unit unit);
    // niceStep: a 1-2-5 x 10^n step giving about `ticks` ticks up to `maximum`.
    static double niceStep(double maximum, int ticks);

protected:
    void paintEvent(QPaintEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    QString m_title;
    Unit m_unit;
    QList<Series> m_series;
    qint64 m_endMs = 0;
    qint64 m_windowMs = 5 * 60 * 1000;
    QString m_placeholder;
};

} // namespace qmasque::ui
