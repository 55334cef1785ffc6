#pragma once

#include "api/EngineEvents.h"
#include "ui/KeyedTableModel.h"

namespace qmasque::ui {

// StreamKey: a tunnel stream as commands name it: its connection's id and its stream id.
struct StreamKey
{
    quint64 connectionId = 0;
    StreamId streamId = -1;

    friend bool operator==(const StreamKey &, const StreamKey &) = default;
};
size_t qHash(const StreamKey &key, size_t seed = 0) noexcept;

// StreamModel: every tunnel stream of the snapshot in one flat table: the streams of every pooled
// connection and the one stream of each direct h1 tunnel, keyed by (connection id, stream id).
// StreamFilterProxy narrows it to the selected connections and the filter box. Applies each
// snapshot as a keyed diff; 10 000 streams are its design load. GUI thread only.
class StreamModel final : public KeyedTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        Connection,
        Stream,
        Protocol,
        Target,
        LocalClient,
        State,
        Status,
        ProxyStatus,
        DatagramPath,
        BytesOut,
        BytesIn,
        DatagramsOut,
        DatagramsIn,
        Dropped,
        Age,
        ColumnCount
    };

    struct Row
    {
        quint64 connectionId = 0;
        TransportKind transport = TransportKind::H3;
        bool direct = false;
        StreamSnapshot stream;

        StreamKey key() const { return {connectionId, stream.streamId}; }
    };

    explicit StreamModel(QObject *parent = nullptr);

    void apply(const EngineSnapshot &snapshot);
    void clear();

    const Row &rowAt(int row) const { return m_rows.at(row); }
    int rowOf(const StreamKey &key) const { return m_index.value(key, -1); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    static ColumnMask diffColumns(const Row &a, const Row &b);
    // cellData: what data() serves for one cell of `row` (also used by the benchmark's
    // reset-model baseline, so both serve the same values).
    static QVariant cellData(const Row &row, int column, int role, bool dark);
    // protocolText: "connect-udp", "connect-tcp", "connect-ip".
    static QString protocolText(TunnelProtocol protocol);
    static QString datagramPathText(qmasque::DatagramPath path);

protected:
    ColumnMask colouredColumns() const override
    {
        return (ColumnMask(1) << State) | (ColumnMask(1) << Status);
    }

private:
    static QVariant display(const Row &row, int column);
    static QVariant raw(const Row &row, int column);
    static QVariant toolTip(const Row &row, int column);

    QList<Row> m_rows;
    QHash<StreamKey, int> m_index;
};

} // namespace qmasque::ui

// Rows hold only implicitly shared Qt values and plain numbers: QList may move them with memmove
// (the removal of a range shifts 10 000 rows without running their move constructors).
Q_DECLARE_TYPEINFO(qmasque::ui::StreamModel::Row, Q_RELOCATABLE_TYPE);
