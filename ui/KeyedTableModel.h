#pragma once

#include <QtCore/QAbstractTableModel>
#include <QtCore/QHash>
#include <QtCore/QList>

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

namespace qmasque::ui {

// Roles every dashboard model serves besides the Qt ones.
enum ModelRole
{
    RawValueRole = Qt::UserRole + 1, // the unformatted value (number, string) for sorting/filters
    StateRole,                       // the row's state enum, as int
    KeyRole,                         // the row's key (connection id, "connection/stream", ...)
};

// KeyedTableModel: the base of the live tables. Rows are identified by a key; each snapshot is
// applied as a keyed diff, never as a reset (aesthetics guideline 4):
//   1. rows whose key vanished are removed as contiguous ranges, highest range first;
//   2. rows still present are updated in place; a dataChanged is emitted for each run of adjacent
//      changed rows, covering only the changed columns and with the roles those columns serve;
//      when more than half the rows changed, one whole-range dataChanged replaces them;
//   3. "tick" columns (ages: they change every snapshot for every row) are left out of the row
//      diff and refreshed by one column-wide dataChanged when any of them changed;
//   4. new keys are appended in one beginInsertRows batch.
// GUI thread only.
class KeyedTableModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    using ColumnMask = quint64; // bit n = column n (tables have fewer than 64 columns)

    // DiffStats: what the last apply did (tests, the benchmark).
    struct DiffStats
    {
        int removed = 0;
        int inserted = 0;
        int changed = 0;
        int changeSignals = 0; // dataChanged emissions for changed rows (tick columns excluded)
        bool wholeRange = false;
    };

    using QAbstractTableModel::QAbstractTableModel;

    DiffStats lastDiff() const { return m_lastDiff; }

    // setDarkPalette: state colours are chosen for a dark or light background; a change repaints
    // the coloured cells (dataChanged with ForegroundRole and DecorationRole only).
    void setDarkPalette(bool dark);
    bool darkPalette() const { return m_dark; }

Q_SIGNALS:
    // applied: one snapshot was applied (after every other signal of it). `changedColumns`: the
    // columns that changed in any row (tick columns included); proxies that sort or filter once
    // per snapshot (StreamFilterProxy) settle here.
    void applied(quint64 changedColumns, bool rowsInserted, bool rowsRemoved);

protected:
    // The roles a change in `columns` affects. Default: display, raw value and tool tip, plus
    // decoration and foreground when a coloured column changed.
    virtual QList<int> rolesFor(ColumnMask columns) const;
    // Columns whose text carries a state colour or icon (palette changes repaint them).
    virtual ColumnMask colouredColumns() const { return 0; }

    // applyRows: the keyed diff described above. `keyOf(row)` gives a row's key,
    // `diffColumns(old, incoming)` the mask of columns whose values differ. `incoming` is consumed.
    // Duplicate keys in `incoming` keep the first row.
    template<typename Row, typename Key, typename KeyOf, typename DiffColumns>
    void applyRows(QList<Row> &rows, QHash<Key, int> &rowIndex, QList<Row> &incoming, KeyOf keyOf,
                   DiffColumns diffColumns, ColumnMask tickColumns);

private:
    static int firstColumn(ColumnMask columns);
    static int lastColumnOf(ColumnMask columns);
    void publishTick(ColumnMask tickColumns, int rowCount);
    void removeRanges(const std::vector<char> &keep, const std::function<void(int, int)> &erase);

    DiffStats m_lastDiff;
    bool m_dark = false;
};

template<typename Row, typename Key, typename KeyOf, typename DiffColumns>
void KeyedTableModel::applyRows(QList<Row> &rows, QHash<Key, int> &rowIndex, QList<Row> &incoming,
                                KeyOf keyOf, DiffColumns diffColumns, ColumnMask tickColumns)
{
    m_lastDiff = {};
    const int oldCount = int(rows.size());

    // 1. Match the incoming rows to the current ones. -1: a new key; -2: a duplicate, ignored.
    std::vector<int> match(size_t(incoming.size()), -1);
    std::vector<char> keep(size_t(oldCount), 0);
    QHash<Key, int> fresh;
    for (qsizetype i = 0; i < incoming.size(); ++i) {
        const Key key = keyOf(incoming.at(i));
        const auto it = rowIndex.constFind(key);
        if (it != rowIndex.constEnd()) {
            match[size_t(i)] = keep[size_t(*it)] ? -2 : *it;
            keep[size_t(*it)] = 1;
        } else if (fresh.contains(key)) {
            match[size_t(i)] = -2;
        } else {
            fresh.insert(key, int(i));
        }
    }

    // 2. Remove the vanished rows, then renumber the survivors.
    std::vector<int> renumber;
    if (std::find(keep.begin(), keep.end(), 0) != keep.end()) {
        removeRanges(keep, [&rows](int first, int count) { rows.remove(first, count); });
        renumber.resize(size_t(oldCount), -1);
        int next = 0;
        for (int row = 0; row < oldCount; ++row) {
            if (keep[size_t(row)])
                renumber[size_t(row)] = next++;
        }
        rowIndex.clear();
        rowIndex.reserve(rows.size() + fresh.size());
        for (int row = 0; row < int(rows.size()); ++row)
            rowIndex.insert(keyOf(rows.at(row)), row);
        m_lastDiff.removed = oldCount - int(rows.size());
    }

    // 3. Update the survivors and announce what changed. A row's new values are stored just
    // before the signal that covers it: a sorting proxy re-sorts the announced rows against the
    // others, which must still hold the values the proxy sorted them by.
    struct Change
    {
        int row;
        ColumnMask columns;
        qsizetype from; // index in `incoming`
    };
    std::vector<Change> changes;
    std::vector<std::pair<int, qsizetype>> quiet; // rows with no change outside tick columns
    ColumnMask ticked = 0;
    for (qsizetype i = 0; i < incoming.size(); ++i) {
        const int old = match[size_t(i)];
        if (old < 0)
            continue;
        const int row = renumber.empty() ? old : renumber[size_t(old)];
        const ColumnMask columns = diffColumns(rows.at(row), incoming.at(i));
        ticked |= columns & tickColumns;
        if (columns & ~tickColumns)
            changes.push_back({row, columns & ~tickColumns, i});
        else
            quiet.emplace_back(row, i);
    }
    m_lastDiff.changed = int(changes.size());
    const int lastColumn = columnCount() - 1;
    if (!changes.empty() && changes.size() * 2 > size_t(rows.size())) {
        ColumnMask all = 0;
        for (const Change &change : changes) {
            rows[change.row] = std::move(incoming[change.from]);
            all |= change.columns;
        }
        m_lastDiff.wholeRange = true;
        m_lastDiff.changeSignals = 1;
        Q_EMIT dataChanged(index(0, 0), index(int(rows.size()) - 1, lastColumn), rolesFor(all));
    } else {
        std::sort(changes.begin(), changes.end(),
                  [](const Change &a, const Change &b) { return a.row < b.row; });
        // One signal per run of adjacent rows with the same changed columns.
        size_t i = 0;
        while (i < changes.size()) {
            size_t j = i;
            do {
                rows[changes[j].row] = std::move(incoming[changes[j].from]);
                ++j;
            } while (j < changes.size() && changes[j].row == changes[j - 1].row + 1 &&
                     changes[j].columns == changes[i].columns);
            const ColumnMask columns = changes[i].columns;
            Q_EMIT dataChanged(
                index(changes[i].row, firstColumn(columns)),
                index(changes[j - 1].row, std::min(lastColumn, lastColumnOf(columns))),
                rolesFor(columns));
            ++m_lastDiff.changeSignals;
            i = j;
        }
    }
    for (const auto &[row, from] : quiet)
        rows[row] = std::move(incoming[from]);
    publishTick(ticked, int(rows.size()));

    // 4. Append the new keys in one batch, in snapshot order.
    if (!fresh.isEmpty()) {
        const int first = int(rows.size());
        beginInsertRows({}, first, first + int(fresh.size()) - 1);
        rows.reserve(first + fresh.size());
        for (qsizetype i = 0; i < incoming.size(); ++i) {
            if (match[size_t(i)] != -1)
                continue;
            rowIndex.insert(keyOf(incoming.at(i)), int(rows.size()));
            rows.append(std::move(incoming[i]));
        }
        endInsertRows();
        m_lastDiff.inserted = int(fresh.size());
    }
    incoming.clear();
    ColumnMask changedColumns = ticked;
    for (const Change &change : changes)
        changedColumns |= change.columns;
    Q_EMIT applied(changedColumns, m_lastDiff.inserted > 0, m_lastDiff.removed > 0);
}

} // namespace qmasque::ui
