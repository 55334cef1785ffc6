#pragma once

#include <QtCore/QString>

class QSettings;
class QTableView;

namespace qmasque::ui {

// configureTable: the dashboard's table conventions: whole-row selection, sorting by header
// click, movable and resizable columns, a header context menu to hide and show columns, fixed
// row height from the font, no row numbers, elided text.
void configureTable(QTableView *view);

// Header layout persistence (column order, widths, hidden columns, sort) under `key` in
// `settings` (QHeaderView::saveState). restore returns false when nothing usable was stored.
void saveTableLayout(const QTableView *view, QSettings &settings, const QString &key);
bool restoreTableLayout(QTableView *view, const QSettings &settings, const QString &key);

} // namespace qmasque::ui
