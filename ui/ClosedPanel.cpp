#include "ui/ClosedPanel.h"

#include "ui/ClosedTunnelModel.h"
#include "ui/KeyedTableModel.h"
#include "ui/RowJson.h"
#include "ui/TableSupport.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QSettings>
#include <QtCore/QSortFilterProxyModel>
#include <QtGui/QClipboard>
#include <QtGui/QGuiApplication>
#include <QtGui/QShortcut>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QMenu>
#include <QtWidgets/QTableView>
#include <QtWidgets/QVBoxLayout>

namespace qmasque::ui {

namespace {

const QString kHeaderKey = QStringLiteral("closed/header");

} // namespace

ClosedPanel::ClosedPanel(ClosedTunnelModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
    , m_proxy(new QSortFilterProxyModel(this))
    , m_view(new QTableView(this))
    , m_filter(new QLineEdit(this))
    , m_title(new QLabel(this))
{
    m_proxy->setSourceModel(model);
    m_proxy->setSortRole(RawValueRole);
    m_proxy->setFilterKeyColumn(-1); // every column
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_view->setObjectName(QStringLiteral("closedView"));
    m_view->setModel(m_proxy);
    configureTable(m_view);
    m_view->sortByColumn(ClosedTunnelModel::Closed, Qt::DescendingOrder);
    const int ch = m_view->fontMetrics().horizontalAdvance(QLatin1Char('0'));
    const std::pair<int, int> widths[] = {
        {ClosedTunnelModel::Closed, 8},       {ClosedTunnelModel::Duration, 7},
        {ClosedTunnelModel::Protocol, 11},    {ClosedTunnelModel::Transport, 4},
        {ClosedTunnelModel::Target, 20},      {ClosedTunnelModel::LocalClient, 21},
        {ClosedTunnelModel::Stream, 10},      {ClosedTunnelModel::Status, 6},
        {ClosedTunnelModel::ProxyStatus, 26}, {ClosedTunnelModel::Reason, 16},
        {ClosedTunnelModel::OpenLatency, 8},  {ClosedTunnelModel::BytesOut, 8},
        {ClosedTunnelModel::BytesIn, 8},      {ClosedTunnelModel::Datagrams, 13},
        {ClosedTunnelModel::Dropped, 7}};
    for (const auto &[column, chars] : widths)
        m_view->horizontalHeader()->resizeSection(column, chars * ch + 10);
    m_view->horizontalHeader()->setStretchLastSection(true);

    m_filter->setObjectName(QStringLiteral("closedFilter"));
    m_filter->setPlaceholderText(tr("Filter: target, protocol, reason, status, client..."));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_proxy->setFilterFixedString(text.trimmed());
        updateTitle();
    });
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &ClosedPanel::updateTitle);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &ClosedPanel::updateTitle);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &ClosedPanel::updateTitle);

    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_view, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        if (!m_view->selectionModel()->hasSelection())
            return;
        QMenu menu(this);
        connect(menu.addAction(tr("Copy as JSON")), &QAction::triggered, this,
                &ClosedPanel::copySelectionAsJson);
        menu.exec(m_view->viewport()->mapToGlobal(pos));
    });
    auto *copy = new QShortcut(QKeySequence::Copy, m_view);
    copy->setContext(Qt::WidgetShortcut);
    connect(copy, &QShortcut::activated, this, &ClosedPanel::copySelectionAsJson);

    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    auto *row = new QHBoxLayout;
    row->addWidget(m_title, 1);
    row->addWidget(m_filter, 2);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(row);
    layout->addWidget(m_view);
    updateTitle();
}

void ClosedPanel::saveLayout(QSettings &settings) const
{
    saveTableLayout(m_view, settings, kHeaderKey);
}

void ClosedPanel::restoreLayout(const QSettings &settings)
{
    restoreTableLayout(m_view, settings, kHeaderKey);
}

void ClosedPanel::updateTitle()
{
    const int shown = m_proxy->rowCount();
    const int kept = m_model->rowCount();
    m_title->setText(
        shown == kept
            ? tr("Last %1 closed tunnels (of %2 closed)").arg(kept).arg(m_model->totalAppended())
            : tr("%1 of the last %2 closed tunnels").arg(shown).arg(kept));
}

void ClosedPanel::copySelectionAsJson()
{
    QJsonArray array;
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    for (const QModelIndex &index : rows)
        array.append(tunnelRecordToJson(m_model->recordAt(m_proxy->mapToSource(index).row())));
    if (array.isEmpty())
        return;
    const QJsonDocument document =
        array.size() == 1 ? QJsonDocument(array.first().toObject()) : QJsonDocument(array);
    QGuiApplication::clipboard()->setText(
        QString::fromUtf8(document.toJson(QJsonDocument::Indented)));
}

} // namespace qmasque::ui
