#include "ui/TimeSeriesChart.h"

#include "ui/Format.h"

#include <QtCore/QEvent>
#include <QtGui/QPainter>
#include <QtGui/QPainterPath>

#include <cmath>

namespace qmasque::ui {

namespace {

constexpr double kGapMs = 5000; // a longer gap between samples breaks the line
constexpr int kPadding = 8;

// The axis counts in display units: bits for bit rates, so the steps are round in bit/s.
double displayFactor(TimeSeriesChart::Unit unit)
{
    return unit == TimeSeriesChart::Unit::BitRate ? 8.0 : 1.0;
}

} // namespace

TimeSeriesChart::TimeSeriesChart(const QString &title, Unit unit, QWidget *parent)
    : QWidget(parent)
    , m_title(title)
    , m_unit(unit)
    , m_placeholder(tr("No data yet"))
{
    setAttribute(Qt::WA_OpaquePaintEvent);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void TimeSeriesChart::setSeries(const QList<Series> &series, qint64 endMs)
{
    m_series = series;
    m_endMs = endMs;
    update();
}

void TimeSeriesChart::setWindow(qint64 windowMs)
{
    m_windowMs = std::max<qint64>(1000, windowMs);
    update();
}

void TimeSeriesChart::setTitle(const QString &title)
{
    m_title = title;
    update();
}

void TimeSeriesChart::setPlaceholder(const QString &text)
{
    m_placeholder = text;
    update();
}

QSize TimeSeriesChart::sizeHint() const
{
    return {520, 240};
}

QSize TimeSeriesChart::minimumSizeHint() const
{
    const QFontMetrics metrics = fontMetrics();
    return {metrics.horizontalAdvance(QLatin1Char('0')) * 36, metrics.height() * 8};
}

QString TimeSeriesChart::formatValue(double value, Unit unit)
{
    switch (unit) {
    case Unit::BitRate:
        return formatBitRate(value);
    case Unit::Milliseconds:
        return QStringLiteral("%1 ms").arg(value, 0, 'f', value < 10 && value != 0 ? 1 : 0);
    case Unit::Count:
        return QString::number(qint64(std::llround(value)));
    }
    return {};
}

QString TimeSeriesChart::formatTick(double value, Unit unit)
{
    QString text = formatValue(value, unit);
    // Axis ticks are round numbers: "150 Mbit/s", not "150.0 Mbit/s".
    text.replace(QStringLiteral(".0 "), QStringLiteral(" "));
    return text;
}

double TimeSeriesChart::niceStep(double maximum, int ticks)
{
    if (maximum <= 0 || ticks <= 0)
        return 1;
    const double raw = maximum / ticks;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double factor : {1.0, 2.0, 5.0, 10.0}) {
        if (raw <= factor * magnitude)
            return factor * magnitude;
    }
    return 10 * magnitude;
}

void TimeSeriesChart::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange)
        update();
    QWidget::changeEvent(event);
}

void TimeSeriesChart::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    const QPalette &pal = palette();
    const bool dark = theme::isDark(pal);
    const QColor text = pal.color(QPalette::Text);
    QColor muted = text;
    muted.setAlphaF(0.7);
    QColor grid = text;
    grid.setAlphaF(dark ? 0.16 : 0.12);

    painter.fillRect(rect(), pal.color(QPalette::Base));
    painter.setPen(QPen(pal.color(QPalette::Mid), 1));
    painter.drawRect(QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5));

    // Title, and the legend on the same line: a swatch, the name and the current value.
    const QFontMetrics metrics = fontMetrics();
    QFont bold = font();
    bold.setBold(true);
    painter.setFont(bold);
    painter.setPen(text);
    const int lineHeight = metrics.height();
    int x = kPadding;
    const int titleBaseline = kPadding + metrics.ascent();
    painter.drawText(x, titleBaseline, m_title);
    x += QFontMetrics(bold).horizontalAdvance(m_title) + 2 * kPadding;
    painter.setFont(font());
    double maximum = 0;
    bool anyPoint = false;
    const double left = double(m_endMs - m_windowMs);
    for (const Series &series : std::as_const(m_series)) {
        const QColor colour = theme::seriesColor(series.colour, dark);
        const QString current = series.points.isEmpty()
                                    ? QStringLiteral("–")
                                    : formatValue(series.points.constLast().y(), m_unit);
        const QString label = series.name + QStringLiteral(" ") + current;
        const int swatch = metrics.ascent() - 2;
        painter.fillRect(QRect(x, titleBaseline - swatch, swatch, swatch), colour);
        x += swatch + 4;
        painter.setPen(text);
        painter.drawText(x, titleBaseline, label);
        x += metrics.horizontalAdvance(label) + 2 * kPadding;
        for (const QPointF &point : series.points) {
            if (point.x() >= left) {
                maximum = std::max(maximum, point.y());
                anyPoint = true;
            }
        }
    }

    // The value axis: 0 .. a nice maximum, 4 steps.
    const double factor = displayFactor(m_unit);
    double step = niceStep(std::max(maximum * factor * 1.1, m_unit == Unit::Count ? 4.0 : 1.0), 4);
    if (m_unit == Unit::Count)
        step = std::max(1.0, std::ceil(step));
    const double top = step * std::max(1.0, std::ceil(maximum * factor * 1.05 / step));
    int labelWidth = 0;
    for (double value = 0; value <= top + step / 2; value += step)
        labelWidth =
            std::max(labelWidth, metrics.horizontalAdvance(formatTick(value / factor, m_unit)));
    const QRectF plot(kPadding + labelWidth + 6, kPadding + lineHeight + 6,
                      width() - (2 * kPadding + labelWidth + 6),
                      height() - (2 * kPadding + 2 * lineHeight + 10));
    if (plot.width() < 20 || plot.height() < 20)
        return;

    painter.setFont(font());
    for (double value = 0; value <= top + step / 2; value += step) {
        const double y = plot.bottom() - plot.height() * value / top;
        painter.setPen(QPen(grid, 1));
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
        painter.setPen(muted);
        const QString label = formatTick(value / factor, m_unit);
        painter.drawText(QRectF(kPadding, y - lineHeight / 2.0, labelWidth, lineHeight),
                         Qt::AlignRight | Qt::AlignVCenter, label);
    }

    // The time axis: a tick per minute (per 10 s for short windows), labelled back from now.
    const qint64 tickMs = m_windowMs > 2 * 60 * 1000 ? 60 * 1000 : 10 * 1000;
    for (qint64 back = 0; back <= m_windowMs; back += tickMs) {
        const double xPos = plot.right() - plot.width() * double(back) / double(m_windowMs);
        painter.setPen(QPen(grid, 1));
        painter.drawLine(QPointF(xPos, plot.top()), QPointF(xPos, plot.bottom()));
        const QString label = back == 0             ? tr("now")
                              : tickMs >= 60 * 1000 ? QStringLiteral("-%1m").arg(back / 60000)
                                                    : QStringLiteral("-%1s").arg(back / 1000);
        painter.setPen(muted);
        const int labelX =
            std::clamp(int(xPos - metrics.horizontalAdvance(label) / 2.0), int(plot.left()),
                       width() - kPadding - metrics.horizontalAdvance(label));
        painter.drawText(labelX, int(plot.bottom()) + 4 + metrics.ascent(), label);
    }

    if (!anyPoint) {
        painter.setPen(muted);
        painter.drawText(plot, Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
        return;
    }

    // The series: polylines broken at gaps, optionally shaded down to the axis.
    painter.save();
    painter.setClipRect(plot.adjusted(-1, -1, 1, 1));
    const auto toPoint = [&](const QPointF &point) {
        return QPointF(plot.right() -
                           plot.width() * (double(m_endMs) - point.x()) / double(m_windowMs),
                       plot.bottom() - plot.height() * point.y() * factor / top);
    };
    for (const Series &series : std::as_const(m_series)) {
        const QColor colour = theme::seriesColor(series.colour, dark);
        QList<QPolygonF> runs(1);
        double previousX = -1;
        for (const QPointF &point : series.points) {
            if (point.x() < left - kGapMs)
                continue;
            if (previousX >= 0 && point.x() - previousX > kGapMs && !runs.last().isEmpty())
                runs.append(QPolygonF());
            runs.last() << toPoint(point);
            previousX = point.x();
        }
        for (const QPolygonF &run : std::as_const(runs)) {
            if (run.isEmpty())
                continue;
            if (series.filled && run.size() > 1) {
                QPainterPath area;
                area.moveTo(run.first().x(), plot.bottom());
                for (const QPointF &point : run)
                    area.lineTo(point);
                area.lineTo(run.last().x(), plot.bottom());
                area.closeSubpath();
                QColor shade = colour;
                shade.setAlphaF(dark ? 0.22 : 0.16);
                painter.fillPath(area, shade);
            }
            painter.setPen(QPen(colour, 1.6, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
            if (run.size() == 1)
                painter.drawPoint(run.first());
            else
                painter.drawPolyline(run);
        }
    }
    painter.restore();
}

} // namespace qmasque::ui
