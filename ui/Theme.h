#pragma once

#include "api/EngineEvents.h"

#include <QtGui/QColor>

class QPalette;

namespace qmasque::ui {

// Colours of the dashboard, derived from the widget palette so that light and dark themes both
// read well. Every state colour has a darker variant for light backgrounds and a lighter one for
// dark backgrounds; the hue carries the meaning (green works, amber is at its limit, blue is on its
// way, orange is finishing, red failed, grey is gone).
namespace theme {

// isDark: the palette's window is darker than its text.
bool isDark(const QPalette &palette);

QColor connectionStateColor(ConnectionState state, bool dark);
QColor streamStateColor(StreamState state, bool dark);
QColor engineStateColor(EngineState state, bool dark);
// refusalColor: an HTTP status that is not 2xx, a failed race attempt, an error log line.
QColor errorColor(bool dark);
QColor warningColor(bool dark);
QColor mutedColor(bool dark);
QColor successColor(bool dark);

// Chart series: distinct hues readable on the palette's base colour.
enum class Series
{
    Upload,
    Download,
    Rtt,
    MinRtt,
    Tunnels,
};
QColor seriesColor(Series series, bool dark);

// raceResultColor: "won", "cancelled", or an error name.
QColor raceResultColor(const QString &result, bool dark);
QColor logLevelColor(QtMsgType level, bool dark);

} // namespace theme
} // namespace qmasque::ui
