#include "ui/StreamFilterProxy.h"

#include <compare>

namespace qmasque::ui {

namespace {

using Mask = KeyedTableModel::ColumnMask;

constexpr Mask bit(int column)
{
    return Mask(1) << column;
}

// order: compares one column of two rows by its raw value.
std::strong_ordering order(const StreamModel::Row &a, const StreamModel::Row &b, int column)
{
    const StreamSnapshot &x = a.stream;
    const StreamSnapshot &y = b.stream;
    switch (column) {
    case StreamModel::Connection:
        return a.connectionId <=> b.connectionId;
    case StreamModel::Stream:
        return x.streamId <=> y.streamId;
    case StreamModel::Protocol:
        return StreamModel::protocolText(x.protocol)
                   .compare(StreamModel::protocolText(y.protocol)) <=> 0;
    case StreamModel::Target:
        return x.target.compare(y.target, Qt::CaseInsensitive) <=> 0;
    case StreamModel::LocalClient:
        return x.localClient.compare(y.localClient, Qt::CaseInsensitive) <=> 0;
    case StreamModel::State:
        return x.state <=> y.state;
    case StreamModel::Status:
        return x.responseStatus <=> y.responseStatus;
    case StreamModel::ProxyStatus:
        return x.proxyStatus.compare(y.proxyStatus) <=> 0;
    case StreamModel::DatagramPath:
        return x.datagramPath <=> y.datagramPath;
    case StreamModel::BytesOut:
        return x.bytesSent <=> y.bytesSent;
    case StreamModel::BytesIn:
        return x.bytesReceived <=> y.bytesReceived;
    case StreamModel::DatagramsOut:
        return x.datagramsSent <=> y.datagramsSent;
    case StreamModel::DatagramsIn:
        return x.datagramsReceived <=> y.datagramsReceived;
    case StreamModel::Dropped:
        return x.datagramsDropped <=> y.datagramsDropped;
    case StreamModel::Age:
        return x.ageMs <=> y.ageMs;
    default:
        return std::strong_ordering::equal;
    }
}

} // namespace

StreamFilterProxy::StreamFilterProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(RawValueRole);
    setDynamicSortFilter(false);
}

void StreamFilterProxy::setStreamModel(StreamModel *model)
{
    disconnect(m_appliedConnection);
    m_model = model;
    setSourceModel(model);
    if (model)
        m_appliedConnection =
            connect(model, &KeyedTableModel::applied, this, &StreamFilterProxy::handleApplied);
}

void StreamFilterProxy::setConnections(const QSet<quint64> &connectionIds)
{
    if (connectionIds == m_connections)
        return;
    m_connections = connectionIds;
    refilter();
}

void StreamFilterProxy::setText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_text)
        return;
    m_text = trimmed;
    refilter();
}

void StreamFilterProxy::setProtocol(std::optional<TunnelProtocol> protocol)
{
    if (protocol == m_protocol)
        return;
    m_protocol = protocol;
    refilter();
}

void StreamFilterProxy::setState(std::optional<StreamState> state)
{
    if (state == m_state)
        return;
    m_state = state;
    refilter();
}

bool StreamFilterProxy::isFiltering() const
{
    return !m_text.isEmpty() || m_protocol || m_state;
}

QList<StreamKey> StreamFilterProxy::visibleKeys() const
{
    QList<StreamKey> keys;
    if (!m_model)
        return keys;
    keys.reserve(rowCount());
    for (int row = 0; row < rowCount(); ++row)
        keys << m_model->rowAt(mapToSource(index(row, 0)).row()).key();
    return keys;
}

void StreamFilterProxy::sort(int column, Qt::SortOrder order)
{
    QSortFilterProxyModel::sort(column, order);
}

void StreamFilterProxy::handleApplied(quint64 changedColumns, bool rowsInserted, bool)
{
    // Rows whose filtered values changed may enter or leave the view; the connection filter
    // depends only on the key, which never changes.
    const Mask filtered =
        (!m_text.isEmpty() ? bit(StreamModel::Target) | bit(StreamModel::LocalClient) : 0) |
        (m_protocol ? bit(StreamModel::Protocol) : 0) | (m_state ? bit(StreamModel::State) : 0);
    if (changedColumns & filtered) {
        refilter();
        return;
    }
    // New rows were placed by source order, changed values may have moved rows.
    if (sortColumn() >= 0 && (rowsInserted || (changedColumns & bit(sortColumn()))))
        resort();
}

void StreamFilterProxy::refilter()
{
    invalidateFilter();
    resort(); // rows the filter lets in again were placed by source order
}

void StreamFilterProxy::resort()
{
    if (sortColumn() >= 0)
        QSortFilterProxyModel::sort(sortColumn(), sortOrder());
}

bool StreamFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (!m_model || sourceParent.isValid())
        return false;
    const StreamModel::Row &row = m_model->rowAt(sourceRow);
    if (!m_connections.isEmpty() && !m_connections.contains(row.connectionId))
        return false;
    if (m_protocol && row.stream.protocol != *m_protocol)
        return false;
    if (m_state && row.stream.state != *m_state)
        return false;
    if (!m_text.isEmpty() && !row.stream.target.contains(m_text, Qt::CaseInsensitive) &&
        !row.stream.localClient.contains(m_text, Qt::CaseInsensitive))
        return false;
    return true;
}

bool StreamFilterProxy::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    if (!m_model)
        return QSortFilterProxyModel::lessThan(left, right);
    const StreamModel::Row &a = m_model->rowAt(left.row());
    const StreamModel::Row &b = m_model->rowAt(right.row());
    const std::strong_ordering byColumn = order(a, b, left.column());
    if (byColumn != std::strong_ordering::equal)
        return byColumn == std::strong_ordering::less;
    // Ties keep a stable, meaningful order: by connection, then stream.
    return a.key().connectionId != b.key().connectionId ? a.connectionId < b.connectionId
                                                        : a.stream.streamId < b.stream.streamId;
}

} // namespace qmasque::ui
