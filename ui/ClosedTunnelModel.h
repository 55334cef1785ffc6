#pragma once

#include "api/EngineEvents.h"

#include <QtCore/QAbstractTableModel>
#include <QtCore/QList>

namespace qmasque::ui {

// ClosedTunnelModel: the most recent closed tunnels (TunnelRecord), oldest first, bounded at
// `capacity` (default 1000): appending beyond it removes the oldest rows first. Serves
// RawValueRole (ModelRole) for sorting. GUI thread only.
class ClosedTunnelModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        Closed,
        Duration,
        Protocol,
        Transport,
        Target,
        LocalClient,
        Stream,
        Status,
        ProxyStatus,
        Reason,
        OpenLatency,
        BytesOut,
        BytesIn,
        Datagrams,
        Dropped,
        ColumnCount
    };

    static constexpr int kDefaultCapacity = 1000;

    explicit ClosedTunnelModel(QObject *parent = nullptr);

    void setCapacity(int capacity);
    int capacity() const { return m_capacity; }
    // append: one batch of records (one removal and one insertion at most).
    void append(const QList<TunnelRecord> &records);
    void clear();
    const TunnelRecord &recordAt(int row) const { return m_rows.at(row); }
    // totalAppended: every record ever appended, including those pushed out by the bound.
    quint64 totalAppended() const { return m_total; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    void setDarkPalette(bool dark) { m_dark = dark; }

private:
    QVariant display(const TunnelRecord &record, int column) const;
    QVariant raw(const TunnelRecord &record, int column) const;

    QList<TunnelRecord> m_rows;
    int m_capacity = kDefaultCapacity;
    quint64 m_total = 0;
    bool m_dark = false;
};

} // namespace qmasque::ui
