#include "ui/Format.h"

#include <QtCore/QDateTime>
#include <QtCore/QLocale>

#include <array>

namespace qmasque::ui {

QString formatBytes(quint64 bytes)
{
    static constexpr std::array kUnits = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024)
        return QStringLiteral("%1 B").arg(bytes);
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < kUnits.size()) {
        value /= 1024.0;
        ++unit;
    }
    return QStringLiteral("%1 %2")
        .arg(value, 0, 'f', value < 10.0 ? 2 : 1)
        .arg(QLatin1StringView(kUnits[unit]));
}

QString formatBitRate(double bytesPerSecond)
{
    static constexpr std::array kUnits = {"bit/s", "kbit/s", "Mbit/s", "Gbit/s"};
    double value = bytesPerSecond * 8.0;
    std::size_t unit = 0;
    while (value >= 1000.0 && unit + 1 < kUnits.size()) {
        value /= 1000.0;
        ++unit;
    }
    return QStringLiteral("%1 %2")
        .arg(value, 0, 'f', unit == 0 ? 0 : 1)
        .arg(QLatin1StringView(kUnits[unit]));
}

QString formatDuration(qint64 milliseconds)
{
    if (milliseconds < 0)
        return QStringLiteral("–");
    if (milliseconds < 1000)
        return QStringLiteral("%1 ms").arg(milliseconds);
    const qint64 seconds = milliseconds / 1000;
    if (seconds < 60)
        return QStringLiteral("%1s").arg(seconds);
    const qint64 minutes = seconds / 60;
    if (minutes < 60)
        return QStringLiteral("%1m %2s").arg(minutes).arg(seconds % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1h %2m").arg(minutes / 60).arg(minutes % 60, 2, 10, QLatin1Char('0'));
}

QString formatRtt(qint64 microseconds)
{
    if (microseconds < 0)
        return QStringLiteral("–");
    const double ms = static_cast<double>(microseconds) / 1000.0;
    return QStringLiteral("%1 ms").arg(ms, 0, 'f', ms < 10.0 ? 2 : 1);
}

QString formatCount(quint64 count)
{
    return QLocale().toString(count);
}

QString formatClock(qint64 epochMs)
{
    return QDateTime::fromMSecsSinceEpoch(epochMs).toString(QStringLiteral("HH:mm:ss"));
}

} // namespace qmasque::ui
