#include "ui/TableSupport.h"

#include <QtCore/QSettings>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QMenu>
#include <QtWidgets/QTableView>

namespace qmasque::ui {

void configureTable(QTableView *view)
{
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    view->setSortingEnabled(true);
    view->setAlternatingRowColors(true);
    view->setWordWrap(false);
    view->setTextElideMode(Qt::ElideRight);
    view->setShowGrid(false);
    view->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    QHeaderView *rows = view->verticalHeader();
    rows->hide();
    rows->setSectionResizeMode(QHeaderView::Fixed);
    rows->setDefaultSectionSize(view->fontMetrics().height() + 6);
    QHeaderView *header = view->horizontalHeader();
    header->setSectionsMovable(true);
    header->setHighlightSections(false);
    header->setStretchLastSection(false);
    header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    header->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(header, &QWidget::customContextMenuRequested, header, [header](QPoint pos) {
        QMenu menu(header);
        menu.setTitle(QHeaderView::tr("Columns"));
        QAbstractItemModel *model = header->model();
        int visible = 0;
        for (int section = 0; section < header->count(); ++section)
            visible += header->isSectionHidden(section) ? 0 : 1;
        for (int visual = 0; visual < header->count(); ++visual) {
            const int section = header->logicalIndex(visual);
            QAction *action = menu.addAction(model->headerData(section, Qt::Horizontal).toString());
            action->setCheckable(true);
            action->setChecked(!header->isSectionHidden(section));
            // The last visible column cannot be hidden: the table would vanish.
            action->setEnabled(header->isSectionHidden(section) || visible > 1);
            QObject::connect(action, &QAction::toggled, header, [header, section](bool shown) {
                header->setSectionHidden(section, !shown);
            });
        }
        menu.addSeparator();
        QAction *reset = menu.addAction(QHeaderView::tr("Show all columns"));
        QObject::connect(reset, &QAction::triggered, header, [header] {
            for (int section = 0; section < header->count(); ++section)
                header->setSectionHidden(section, false);
        });
        menu.exec(header->mapToGlobal(pos));
    });
}

void saveTableLayout(const QTableView *view, QSettings &settings, const QString &key)
{
    settings.setValue(key, view->horizontalHeader()->saveState());
}

bool restoreTableLayout(QTableView *view, const QSettings &settings, const QString &key)
{
    const QByteArray state = settings.value(key).toByteArray();
    return !state.isEmpty() && view->horizontalHeader()->restoreState(state);
}

} // namespace qmasque::ui
