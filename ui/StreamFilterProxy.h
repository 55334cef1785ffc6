#pragma once

#include "ui/StreamModel.h"

#include <QtCore/QSet>
#include <QtCore/QSortFilterProxyModel>

#include <optional>

namespace qmasque::ui {

// StreamFilterProxy: the streams table's view of StreamModel: the streams of the selected
// connections (all when none is selected), narrowed by the filter box (text in the target or the
// local client, protocol, state), sorted by the raw values.
//
// Sorting and filtering settle once per snapshot, not once per changed row: dynamic sorting is off
// and the proxy re-sorts (one layoutChanged) and re-filters when StreamModel::applied() says the
// snapshot touched the sort column or a filtered column. A QSortFilterProxyModel re-sorting on
// each of a tick's ~1000 dataChanged signals costs several times more, and each of its
// layoutChanged makes the view lay out 10 000 rows again. Rows are compared and filtered straight
// from StreamModel's rows (no QVariant per comparison). GUI thread only.
class StreamFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit StreamFilterProxy(QObject *parent = nullptr);

    // setStreamModel: the source; not owned, must outlive the proxy or be replaced first.
    void setStreamModel(StreamModel *model);
    StreamModel *streamModel() const { return m_model; }

    void setConnections(const QSet<quint64> &connectionIds); // empty: every connection
    void setText(const QString &text);
    void setProtocol(std::optional<TunnelProtocol> protocol);
    void setState(std::optional<StreamState> state);

    // isFiltering: the filter box narrows the rows (the connection selection does not count).
    bool isFiltering() const;
    // visibleKeys: the streams the view shows now, in view order ("close filtered").
    QList<StreamKey> visibleKeys() const;

    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    void handleApplied(quint64 changedColumns, bool rowsInserted, bool rowsRemoved);
    void refilter();
    void resort();

    StreamModel *m_model = nullptr; // not owned
    QSet<quint64> m_connections;
    QString m_text;
    std::optional<TunnelProtocol> m_protocol;
    std::optional<StreamState> m_state;
    QMetaObject::Connection m_appliedConnection;
};

} // namespace qmasque::ui
