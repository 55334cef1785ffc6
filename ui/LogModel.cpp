#include "ui/LogModel.h"

#include "ui/Format.h"
#include "ui/KeyedTableModel.h"
#include "ui/Theme.h"

#include <QtCore/QDateTime>

namespace qmasque::ui {

LogModel::LogModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

void LogModel::setCapacity(int capacity)
{
    m_capacity = std::max(1, capacity);
    const int excess = int(m_rows.size()) - m_capacity;
    if (excess > 0) {
        beginRemoveRows({}, 0, excess - 1);
        m_rows.remove(0, excess);
        endRemoveRows();
    }
}

void LogModel::append(const QList<LogEntry> &entries)
{
    if (entries.isEmpty())
        return;
    const qsizetype skip = std::max<qsizetype>(0, entries.size() - m_capacity);
    const qsizetype adding = entries.size() - skip;
    const qsizetype excess = m_rows.size() + adding - m_capacity;
    if (excess > 0) {
        beginRemoveRows({}, 0, int(excess) - 1);
        m_rows.remove(0, excess);
        endRemoveRows();
    }
    beginInsertRows({}, int(m_rows.size()), int(m_rows.size() + adding) - 1);
    m_rows.append(entries.sliced(skip));
    endInsertRows();
}

void LogModel::clear()
{
    if (m_rows.isEmpty())
        return;
    beginRemoveRows({}, 0, int(m_rows.size()) - 1);
    m_rows.clear();
    endRemoveRows();
}

int LogModel::severity(QtMsgType level)
{
    switch (level) {
    case QtDebugMsg:
        return 0;
    case QtInfoMsg:
        return 1;
    case QtWarningMsg:
        return 2;
    case QtCriticalMsg:
        return 3;
    case QtFatalMsg:
        return 4;
    }
    return 1;
}

QString LogModel::levelName(QtMsgType level)
{
    switch (level) {
    case QtDebugMsg:
        return tr("debug");
    case QtInfoMsg:
        return tr("info");
    case QtWarningMsg:
        return tr("warning");
    case QtCriticalMsg:
        return tr("error");
    case QtFatalMsg:
        return tr("fatal");
    }
    return {};
}

int LogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int LogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const LogEntry &entry = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Time:
            return QDateTime::fromMSecsSinceEpoch(entry.timeMs)
                .toString(QStringLiteral("HH:mm:ss.zzz"));
        case Level:
            return levelName(entry.level);
        case Category:
            return entry.category;
        case Message:
            return entry.message;
        default:
            return {};
        }
    case RawValueRole:
        switch (index.column()) {
        case Time:
            return entry.timeMs;
        case Level:
            return severity(entry.level);
        case Category:
            return entry.category;
        case Message:
            return entry.message;
        default:
            return {};
        }
    case Qt::ForegroundRole:
        if (index.column() == Level || index.column() == Message) {
            const QColor colour = theme::logLevelColor(entry.level, m_dark);
            return colour.isValid() ? QVariant(colour) : QVariant();
        }
        return {};
    case Qt::ToolTipRole:
        return index.column() == Message ? QVariant(entry.message) : QVariant();
    default:
        return {};
    }
}

QVariant LogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Time:
        return tr("Time");
    case Level:
        return tr("Level");
    case Category:
        return tr("Category");
    case Message:
        return tr("Message");
    default:
        return {};
    }
}

} // namespace qmasque::ui
