#pragma once

#include "api/EngineEvents.h"

#include <QtCore/QAbstractListModel>
#include <QtCore/QList>

namespace qmasque::ui {

// RaceModel: the recent transport races (RaceRecord), newest first, bounded at `capacity`
// (default 200). RaceRole serves the whole record to RaceTimelineDelegate; scaleMs() is the
// common time axis (the end of 90% of the races shown, at least 300 ms) so bars of different races
// compare. GUI thread only.
class RaceModel final : public QAbstractListModel
{
    Q_OBJECT

public:
    enum Role
    {
        RaceRole = Qt::UserRole + 100, // QVariant<RaceRecord>
    };
    static constexpr int kDefaultCapacity = 200;

    explicit RaceModel(QObject *parent = nullptr);

    void setCapacity(int capacity);
    void append(const QList<RaceRecord> &races); // each batch in arrival order
    void clear();
    const RaceRecord &raceAt(int row) const { return m_rows.at(row); }
    qint64 scaleMs() const { return m_scaleMs; }

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

    // raceSummary: one line for a race ("h3 won in 42 ms", "every transport failed").
    static QString raceSummary(const RaceRecord &race);

Q_SIGNALS:
    void scaleChanged(qint64 scaleMs);

private:
    void updateScale();

    QList<RaceRecord> m_rows; // newest first
    int m_capacity = kDefaultCapacity;
    qint64 m_scaleMs = 300;
};

} // namespace qmasque::ui
