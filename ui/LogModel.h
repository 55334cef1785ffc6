#pragma once

#include "api/EngineEvents.h"

#include <QtCore/QAbstractTableModel>
#include <QtCore/QList>

namespace qmasque::ui {

// LogModel: the engine's log lines (LogEntry), oldest first, bounded at `capacity` (default
// 5000): appending beyond it drops the oldest. GUI thread only.
class LogModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        Time,
        Level,
        Category,
        Message,
        ColumnCount
    };
    static constexpr int kDefaultCapacity = 5000;

    explicit LogModel(QObject *parent = nullptr);

    void setCapacity(int capacity);
    int capacity() const { return m_capacity; }
    void append(const QList<LogEntry> &entries);
    void clear();
    const LogEntry &entryAt(int row) const { return m_rows.at(row); }

    // severity: QtMsgType in increasing order of importance (debug 0, info 1, warning 2,
    // critical 3, fatal 4); QtMsgType's own values are not ordered.
    static int severity(QtMsgType level);
    static QString levelName(QtMsgType level);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    void setDarkPalette(bool dark) { m_dark = dark; }

private:
    QList<LogEntry> m_rows;
    int m_capacity = kDefaultCapacity;
    bool m_dark = false;
};

} // namespace qmasque::ui
