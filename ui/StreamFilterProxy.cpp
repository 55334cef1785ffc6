#include "ui/StreamFilterProxy.h"

namespace qmasque::ui {

StreamFilterProxy::StreamFilterProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(RawValueRole);
    setDynamicSortFilter(true);
}

void StreamFilterProxy::setStreamModel(StreamModel *model)
{
    m_model = model;
    setSourceModel(model);
}

void StreamFilterProxy::setConnections(const QSet<quint64> &connectionIds)
{
    if (connectionIds == m_connections)
        return;
    m_connections = connectionIds;
    invalidateFilter();
}

void StreamFilterProxy::setText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_text)
        return;
    m_text = trimmed;
    invalidateFilter();
}

void StreamFilterProxy::setProtocol(std::optional<TunnelProtocol> protocol)
{
    if (protocol == m_protocol)
        return;
    m_protocol = protocol;
    invalidateFilter();
}

void StreamFilterProxy::setState(std::optional<StreamState> state)
{
    if (state == m_state)
        return;
    m_state = state;
    invalidateFilter();
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

} // namespace qmasque::ui
