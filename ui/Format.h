#pragma once

#include <QtCore/QString>

namespace qmasque::ui {

// Human-readable numbers for the dashboard. Binary units for sizes ("1.5 MiB"), decimal bits for
// rates ("12.4 Mbit/s"), compact durations ("2m 05s").
QString formatBytes(quint64 bytes);
QString formatBitRate(double bytesPerSecond);
QString formatDuration(qint64 milliseconds);
// formatRtt: microseconds as "0.42 ms" / "12.3 ms"; "–" when unknown (negative).
QString formatRtt(qint64 microseconds);
// formatCount: an integer with the locale's digit grouping ("12,345").
QString formatCount(quint64 count);
// formatClock: a wall-clock time (ms since the Unix epoch) as local "HH:mm:ss".
QString formatClock(qint64 epochMs);

} // namespace qmasque::ui
