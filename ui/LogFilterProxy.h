#pragma once

#include "ui/LogModel.h"

#include <QtCore/QSortFilterProxyModel>

namespace qmasque::ui {

// LogFilterProxy: the log panel's view: lines at or above a minimum severity whose message or
// category contains the search text (case-insensitive).
class LogFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit LogFilterProxy(QObject *parent = nullptr);

    void setLogModel(LogModel *model); // not owned
    void setMinimumLevel(QtMsgType level);
    void setSearchText(const QString &text);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    LogModel *m_model = nullptr; // not owned
    int m_minimumSeverity = 0;
    QString m_text;
};

} // namespace qmasque::ui
