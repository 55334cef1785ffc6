#include "ui/LogFilterProxy.h"

namespace qmasque::ui {

LogFilterProxy::LogFilterProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{}

void LogFilterProxy::setLogModel(LogModel *model)
{
    m_model = model;
    setSourceModel(model);
}

void LogFilterProxy::setMinimumLevel(QtMsgType level)
{
    const int severity = LogModel::severity(level);
    if (severity == m_minimumSeverity)
        return;
    m_minimumSeverity = severity;
    invalidateFilter();
}

void LogFilterProxy::setSearchText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_text)
        return;
    m_text = trimmed;
    invalidateFilter();
}

bool LogFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (!m_model || sourceParent.isValid())
        return false;
    const LogEntry &entry = m_model->entryAt(sourceRow);
    if (LogModel::severity(entry.level) < m_minimumSeverity)
        return false;
    return m_text.isEmpty() || entry.message.contains(m_text, Qt::CaseInsensitive) ||
           entry.category.contains(m_text, Qt::CaseInsensitive);
}

} // namespace qmasque::ui
