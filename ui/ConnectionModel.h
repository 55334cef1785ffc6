#pragma once

#include "api/EngineEvents.h"
#include "ui/KeyedTableModel.h"

namespace qmasque::ui {

// ConnectionModel: one row per upstream connection: the pooled h2/h3 connections of the snapshot
// and the direct h1 tunnels (EngineSnapshot::directConnections), keyed by connection id. Applies
// each snapshot as a keyed diff (KeyedTableModel); rows keep no pointers into the engine.
// GUI thread only.
class ConnectionModel final : public KeyedTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        Id,
        Proxy,
        Transport,
        Alpn,
        QuicVersion,
        State,
        Streams,
        Idle,
        Age,
        Rtt,
        MinRtt,
        Loss,
        CongestionWindow,
        PathMtu,
        TlsCipher,
        TlsGroup,
        BytesIn,
        BytesOut,
        DatagramsIn,
        DatagramsOut,
        DatagramsDropped,
        ColumnCount
    };

    // Row: the connection without its streams (StreamModel holds those).
    struct Row
    {
        ConnectionSnapshot connection;
        bool direct = false; // an h1 tunnel: not pooled, exactly one stream
    };

    explicit ConnectionModel(QObject *parent = nullptr);

    // apply: the snapshot's pooled and direct connections become the rows.
    void apply(const EngineSnapshot &snapshot);
    // clear: every row vanishes (as removals, not a reset).
    void clear();

    // row: the row's values; `row` must be in range.
    const Row &rowAt(int row) const { return m_rows.at(row); }
    // rowOf: the row of a connection id, -1 when absent.
    int rowOf(quint64 connectionId) const { return m_index.value(connectionId, -1); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    // diffColumns: the columns whose values differ between two versions of a row.
    static ColumnMask diffColumns(const Row &a, const Row &b);

protected:
    ColumnMask colouredColumns() const override { return ColumnMask(1) << State; }

private:
    QVariant display(const Row &row, int column) const;
    QVariant raw(const Row &row, int column) const;
    QVariant toolTip(const Row &row, int column) const;

    QList<Row> m_rows;
    QHash<quint64, int> m_index;
};

} // namespace qmasque::ui

// Rows hold only implicitly shared Qt values and plain numbers: QList may move them with memmove
// (the removal of a range shifts 10 000 rows without running their move constructors).
Q_DECLARE_TYPEINFO(qmasque::ui::ConnectionModel::Row, Q_RELOCATABLE_TYPE);
