#include "ui/Theme.h"

#include <QtGui/QPalette>

namespace qmasque::ui::theme {

namespace {

// One hue, two lightnesses: ~4.5:1 contrast against white (light) and against #202020 (dark).
QColor tone(const char *light, const char *dark, bool isDarkPalette)
{
    return QColor(QLatin1StringView(isDarkPalette ? dark : light));
}

} // namespace

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() <
           palette.color(QPalette::WindowText).lightness();
}

QColor successColor(bool dark)
{
    return tone("#1a7f37", "#3fb950", dark);
}

QColor errorColor(bool dark)
{
    return tone("#cf222e", "#ff7b72", dark);
}

QColor warningColor(bool dark)
{
    return tone("#9a6700", "#d29922", dark);
}

QColor mutedColor(bool dark)
{
    return tone("#57606a", "#8b949e", dark);
}

QColor connectionStateColor(ConnectionState state, bool dark)
{
    switch (state) {
    case ConnectionState::Dialing:
        return tone("#0969da", "#58a6ff", dark);
    case ConnectionState::Ready:
        return successColor(dark);
    case ConnectionState::Full:
        return warningColor(dark);
    case ConnectionState::Draining:
        return tone("#bc4c00", "#f0883e", dark);
    case ConnectionState::Closing:
        return mutedColor(dark);
    }
    return mutedColor(dark);
}

QColor streamStateColor(StreamState state, bool dark)
{
    switch (state) {
    case StreamState::Connecting:
        return connectionStateColor(ConnectionState::Dialing, dark);
    case StreamState::Open:
        return successColor(dark);
    case StreamState::Closing:
        return mutedColor(dark);
    }
    return mutedColor(dark);
}

QColor engineStateColor(EngineState state, bool dark)
{
    switch (state) {
    case EngineState::Stopped:
        return mutedColor(dark);
    case EngineState::Starting:
        return connectionStateColor(ConnectionState::Dialing, dark);
    case EngineState::Running:
        return successColor(dark);
    case EngineState::Stopping:
        return connectionStateColor(ConnectionState::Draining, dark);
    case EngineState::Failed:
        return errorColor(dark);
    }
    return mutedColor(dark);
}

QColor seriesColor(Series series, bool dark)
{
    switch (series) {
    case Series::Upload:
        return tone("#8250df", "#bc8cff", dark);
    case Series::Download:
        return tone("#0969da", "#58a6ff", dark);
    case Series::Rtt:
        return tone("#bc4c00", "#f0883e", dark);
    case Series::MinRtt:
        return tone("#1a7f37", "#3fb950", dark);
    case Series::Tunnels:
        return tone("#1b7c83", "#39c5cf", dark);
    }
    return mutedColor(dark);
}

QColor raceResultColor(const QString &result, bool dark)
{
    if (result == u"won")
        return successColor(dark);
    if (result == u"cancelled")
        return mutedColor(dark);
    return errorColor(dark);
}

QColor logLevelColor(QtMsgType level, bool dark)
{
    switch (level) {
    case QtDebugMsg:
        return mutedColor(dark);
    case QtInfoMsg:
        return {};
    case QtWarningMsg:
        return warningColor(dark);
    case QtCriticalMsg:
    case QtFatalMsg:
        return errorColor(dark);
    }
    return {};
}

} // namespace qmasque::ui::theme
