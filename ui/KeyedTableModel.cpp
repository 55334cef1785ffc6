#include "ui/KeyedTableModel.h"

#include <bit>

namespace qmasque::ui {

void KeyedTableModel::setDarkPalette(bool dark)
{
    if (dark == m_dark)
        return;
    m_dark = dark;
    const ColumnMask coloured = colouredColumns();
    if (coloured == 0 || rowCount() == 0)
        return;
    Q_EMIT dataChanged(index(0, firstColumn(coloured)),
                       index(rowCount() - 1, lastColumnOf(coloured)),
                       {Qt::ForegroundRole, Qt::DecorationRole});
}

QList<int> KeyedTableModel::rolesFor(ColumnMask columns) const
{
    QList<int> roles = {Qt::DisplayRole, RawValueRole, Qt::ToolTipRole};
    if (columns & colouredColumns())
        roles << Qt::ForegroundRole << Qt::DecorationRole << StateRole;
    return roles;
}

void KeyedTableModel::removeRanges(const std::vector<char> &keep,
                                   const std::function<void(int, int)> &erase)
{
    // Highest range first: the row numbers of the ranges still to remove stay valid.
    int row = int(keep.size()) - 1;
    while (row >= 0) {
        if (keep[size_t(row)]) {
            --row;
            continue;
        }
        const int last = row;
        while (row >= 0 && !keep[size_t(row)])
            --row;
        const int first = row + 1;
        beginRemoveRows({}, first, last);
        erase(first, last - first + 1);
        endRemoveRows();
    }
}

int KeyedTableModel::firstColumn(ColumnMask columns)
{
    return std::countr_zero(columns);
}

int KeyedTableModel::lastColumnOf(ColumnMask columns)
{
    return 63 - std::countl_zero(columns);
}

void KeyedTableModel::publishTick(ColumnMask tickColumns, int rowCount)
{
    if (rowCount == 0)
        return;
    for (int column = 0; tickColumns != 0; ++column, tickColumns >>= 1) {
        if (tickColumns & 1)
            Q_EMIT dataChanged(index(0, column), index(rowCount - 1, column),
                               {Qt::DisplayRole, RawValueRole, Qt::ToolTipRole});
    }
}

} // namespace qmasque::ui
