#include "ui/PoolPanel.h"

#include "api/Profile.h"
#include "ui/ConnectionModel.h"
#include "ui/DashboardController.h"
#include "ui/Icons.h"
#include "ui/RowJson.h"
#include "ui/StreamFilterProxy.h"
#include "ui/TableSupport.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QSettings>
#include <QtCore/QSortFilterProxyModel>
#include <QtGui/QClipboard>
#include <QtGui/QGuiApplication>
#include <QtGui/QKeySequence>
#include <QtGui/QShortcut>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QMenu>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QTableView>
#include <QtWidgets/QVBoxLayout>

#include <algorithm>

namespace qmasque::ui {

namespace {

const QString kConnectionsKey = QStringLiteral("pool/connectionsHeader");
const QString kStreamsKey = QStringLiteral("pool/streamsHeader");
const QString kSplitterKey = QStringLiteral("pool/splitter");

QLabel *sectionTitle(QWidget *parent)
{
    auto *label = new QLabel(parent);
    QFont font = label->font();
    font.setBold(true);
    label->setFont(font);
    return label;
}

QByteArray toJson(const QJsonArray &array)
{
    if (array.size() == 1)
        return QJsonDocument(array.first().toObject()).toJson(QJsonDocument::Indented);
    return QJsonDocument(array).toJson(QJsonDocument::Indented);
}

// Initial widths in characters, so the default layout reads without dragging columns.
void setWidths(QTableView *view, std::initializer_list<std::pair<int, int>> widths)
{
    const int ch = view->fontMetrics().horizontalAdvance(QLatin1Char('0'));
    for (const auto &[column, chars] : widths)
        view->horizontalHeader()->resizeSection(column, chars * ch + 10);
}

} // namespace

PoolPanel::PoolPanel(DashboardController *controller, QWidget *parent)
    : QWidget(parent)
    , m_controller(controller)
    , m_connectionsView(new QTableView(this))
    , m_streamsView(new QTableView(this))
    , m_connectionProxy(new QSortFilterProxyModel(this))
    , m_streamProxy(new StreamFilterProxy(this))
    , m_filterText(new QLineEdit(this))
    , m_protocolFilter(new QComboBox(this))
    , m_stateFilter(new QComboBox(this))
    , m_closeFiltered(new QPushButton(this))
    , m_streamsTitle(sectionTitle(this))
    , m_connectionsTitle(sectionTitle(this))
{
    m_connectionProxy->setSourceModel(controller->connectionModel());
    m_connectionProxy->setSortRole(RawValueRole);
    m_streamProxy->setStreamModel(controller->streamModel());

    m_connectionsView->setObjectName(QStringLiteral("connectionsView"));
    m_connectionsView->setModel(m_connectionProxy);
    configureTable(m_connectionsView);
    m_connectionsView->sortByColumn(ConnectionModel::Id, Qt::AscendingOrder);
    setWidths(m_connectionsView, {{ConnectionModel::Id, 4},
                                  {ConnectionModel::Proxy, 18},
                                  {ConnectionModel::Transport, 11},
                                  {ConnectionModel::Alpn, 6},
                                  {ConnectionModel::QuicVersion, 4},
                                  {ConnectionModel::State, 9},
                                  {ConnectionModel::Streams, 8},
                                  {ConnectionModel::Idle, 6},
                                  {ConnectionModel::Age, 6},
                                  {ConnectionModel::Rtt, 7},
                                  {ConnectionModel::MinRtt, 7},
                                  {ConnectionModel::Loss, 5},
                                  {ConnectionModel::CongestionWindow, 8},
                                  {ConnectionModel::PathMtu, 5},
                                  {ConnectionModel::TlsCipher, 26},
                                  {ConnectionModel::TlsGroup, 14},
                                  {ConnectionModel::BytesIn, 8},
                                  {ConnectionModel::BytesOut, 8},
                                  {ConnectionModel::DatagramsIn, 8},
                                  {ConnectionModel::DatagramsOut, 8},
                                  {ConnectionModel::DatagramsDropped, 6}});

    // The Transport column already says "h3 · QUIC v1"; ALPN and QUIC can be shown from the
    // header's menu.
    m_connectionsView->horizontalHeader()->hideSection(ConnectionModel::Alpn);
    m_connectionsView->horizontalHeader()->hideSection(ConnectionModel::QuicVersion);

    m_streamsView->setObjectName(QStringLiteral("streamsView"));
    m_streamsView->setModel(m_streamProxy);
    configureTable(m_streamsView);
    m_streamsView->sortByColumn(StreamModel::Connection, Qt::AscendingOrder);
    setWidths(m_streamsView, {{StreamModel::Connection, 10},
                              {StreamModel::Stream, 6},
                              {StreamModel::Protocol, 11},
                              {StreamModel::Target, 21},
                              {StreamModel::LocalClient, 23},
                              {StreamModel::State, 11},
                              {StreamModel::Status, 6},
                              {StreamModel::ProxyStatus, 21},
                              {StreamModel::DatagramPath, 14},
                              {StreamModel::BytesOut, 8},
                              {StreamModel::BytesIn, 8},
                              {StreamModel::DatagramsOut, 9},
                              {StreamModel::DatagramsIn, 9},
                              {StreamModel::Dropped, 7},
                              {StreamModel::Age, 7}});
    m_streamsView->horizontalHeader()->setStretchLastSection(true);

    // The filter box.
    m_filterText->setPlaceholderText(tr("Filter by target or client"));
    m_filterText->setClearButtonEnabled(true);
    m_filterText->setObjectName(QStringLiteral("streamFilter"));
    m_protocolFilter->addItem(tr("All protocols"));
    for (TunnelProtocol protocol : {TunnelProtocol::Udp, TunnelProtocol::Tcp, TunnelProtocol::Ip})
        m_protocolFilter->addItem(StreamModel::protocolText(protocol), int(protocol));
    m_stateFilter->addItem(tr("All states"));
    for (StreamState state : {StreamState::Connecting, StreamState::Open, StreamState::Closing})
        m_stateFilter->addItem(icons::streamState(state),
                               QString::fromLatin1(streamStateName(state)), int(state));
    m_closeFiltered->setObjectName(QStringLiteral("closeFiltered"));
    m_closeFiltered->setToolTip(tr("Close every stream the filter shows"));
    connect(m_filterText, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_streamProxy->setText(text);
        updateStreamHeader();
    });
    connect(m_protocolFilter, &QComboBox::currentIndexChanged, this, [this] {
        const QVariant value = m_protocolFilter->currentData();
        m_streamProxy->setProtocol(value.isValid() ? std::optional(TunnelProtocol(value.toInt()))
                                                   : std::nullopt);
        updateStreamHeader();
    });
    connect(m_stateFilter, &QComboBox::currentIndexChanged, this, [this] {
        const QVariant value = m_stateFilter->currentData();
        m_streamProxy->setState(value.isValid() ? std::optional(StreamState(value.toInt()))
                                                : std::nullopt);
        updateStreamHeader();
    });
    connect(m_closeFiltered, &QPushButton::clicked, this, &PoolPanel::closeFiltered);

    // Keep the titles and the close-filtered count current.
    for (QAbstractItemModel *model : {static_cast<QAbstractItemModel *>(m_streamProxy),
                                      static_cast<QAbstractItemModel *>(m_connectionProxy)}) {
        connect(model, &QAbstractItemModel::rowsInserted, this, &PoolPanel::updateStreamHeader);
        connect(model, &QAbstractItemModel::rowsRemoved, this, &PoolPanel::updateStreamHeader);
        connect(model, &QAbstractItemModel::layoutChanged, this, &PoolPanel::updateStreamHeader);
    }
    connect(m_connectionsView->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &PoolPanel::handleConnectionSelection);
    connect(m_connectionsView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &PoolPanel::handleConnectionSelection);

    // Context menus and keys.
    m_connectionsView->setContextMenuPolicy(Qt::CustomContextMenu);
    m_streamsView->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_connectionsView, &QWidget::customContextMenuRequested, this,
            &PoolPanel::showConnectionMenu);
    connect(m_streamsView, &QWidget::customContextMenuRequested, this, &PoolPanel::showStreamMenu);
    auto *deleteStreams = new QShortcut(QKeySequence::Delete, m_streamsView);
    deleteStreams->setContext(Qt::WidgetShortcut);
    connect(deleteStreams, &QShortcut::activated, this, &PoolPanel::closeSelectedStreams);
    auto *deleteConnections = new QShortcut(QKeySequence::Delete, m_connectionsView);
    deleteConnections->setContext(Qt::WidgetShortcut);
    connect(deleteConnections, &QShortcut::activated, this, &PoolPanel::closeSelectedConnections);
    for (QTableView *view : {m_connectionsView, m_streamsView}) {
        auto *copy = new QShortcut(QKeySequence::Copy, view);
        copy->setContext(Qt::WidgetShortcut);
        connect(copy, &QShortcut::activated, this, &PoolPanel::copySelectionAsJson);
    }

    // Layout: connections above, streams below, in a splitter.
    auto *top = new QWidget(this);
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addWidget(m_connectionsTitle);
    topLayout->addWidget(m_connectionsView);
    auto *bottom = new QWidget(this);
    auto *bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    auto *filterRow = new QHBoxLayout;
    filterRow->addWidget(m_streamsTitle, 1);
    filterRow->addWidget(m_filterText, 1);
    filterRow->addWidget(m_protocolFilter);
    filterRow->addWidget(m_stateFilter);
    filterRow->addWidget(m_closeFiltered);
    bottomLayout->addLayout(filterRow);
    bottomLayout->addWidget(m_streamsView);
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->setObjectName(QStringLiteral("poolSplitter"));
    splitter->addWidget(top);
    splitter->addWidget(bottom);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    splitter->setChildrenCollapsible(false);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(splitter);
    refreshIcons();
    updateStreamHeader();
}

QList<quint64> PoolPanel::selectedConnections() const
{
    QList<quint64> ids;
    const QModelIndexList rows = m_connectionsView->selectionModel()->selectedRows();
    for (const QModelIndex &index : rows)
        ids << index.data(KeyRole).toULongLong();
    std::sort(ids.begin(), ids.end());
    return ids;
}

QList<StreamKey> PoolPanel::selectedStreams() const
{
    QList<StreamKey> keys;
    const QModelIndexList rows = m_streamsView->selectionModel()->selectedRows();
    StreamModel *model = m_controller->streamModel();
    for (const QModelIndex &index : rows)
        keys << model->rowAt(m_streamProxy->mapToSource(index).row()).key();
    return keys;
}

void PoolPanel::closeSelectedStreams()
{
    m_controller->closeStreams(selectedStreams());
}

void PoolPanel::closeSelectedConnections()
{
    for (quint64 id : selectedConnections())
        m_controller->closeConnection(id);
}

void PoolPanel::closeFiltered()
{
    if (!m_streamProxy->isFiltering())
        return;
    m_controller->closeStreams(m_streamProxy->visibleKeys());
}

QByteArray PoolPanel::streamsJson(const QList<StreamKey> &keys) const
{
    QJsonArray array;
    const StreamModel *model = m_controller->streamModel();
    for (const StreamKey &key : keys) {
        const int row = model->rowOf(key);
        if (row < 0)
            continue;
        const StreamModel::Row &r = model->rowAt(row);
        array.append(streamToJson(r.stream, r.connectionId, r.transport));
    }
    return toJson(array);
}

QByteArray PoolPanel::connectionsJson(const QList<quint64> &ids) const
{
    QJsonArray array;
    const ConnectionModel *model = m_controller->connectionModel();
    for (quint64 id : ids) {
        const int row = model->rowOf(id);
        if (row < 0)
            continue;
        array.append(connectionToJson(model->rowAt(row).connection, model->rowAt(row).direct));
    }
    return toJson(array);
}

QByteArray PoolPanel::selectionJson() const
{
    const QList<StreamKey> streams = selectedStreams();
    const bool streamsFirst = m_streamsView->hasFocus() || selectedConnections().isEmpty();
    if (!streams.isEmpty() && streamsFirst)
        return streamsJson(streams);
    const QList<quint64> connections = selectedConnections();
    if (!connections.isEmpty())
        return connectionsJson(connections);
    return streams.isEmpty() ? QByteArray() : streamsJson(streams);
}

void PoolPanel::copySelectionAsJson()
{
    const QByteArray json = selectionJson();
    if (!json.isEmpty())
        QGuiApplication::clipboard()->setText(QString::fromUtf8(json));
}

void PoolPanel::saveLayout(QSettings &settings) const
{
    saveTableLayout(m_connectionsView, settings, kConnectionsKey);
    saveTableLayout(m_streamsView, settings, kStreamsKey);
    if (const auto *splitter = findChild<QSplitter *>(QStringLiteral("poolSplitter")))
        settings.setValue(kSplitterKey, splitter->saveState());
}

void PoolPanel::restoreLayout(const QSettings &settings)
{
    restoreTableLayout(m_connectionsView, settings, kConnectionsKey);
    restoreTableLayout(m_streamsView, settings, kStreamsKey);
    if (auto *splitter = findChild<QSplitter *>(QStringLiteral("poolSplitter")))
        splitter->restoreState(settings.value(kSplitterKey).toByteArray());
}

void PoolPanel::refreshIcons()
{
    m_closeFiltered->setIcon(icons::action(QStringLiteral("close-all"), palette()));
}

void PoolPanel::handleConnectionSelection()
{
    const QList<quint64> ids = selectedConnections();
    m_streamProxy->setConnections(QSet<quint64>(ids.begin(), ids.end()));
    updateStreamHeader();

    const QModelIndex current = m_connectionsView->selectionModel()->currentIndex();
    const bool focused =
        current.isValid() && m_connectionsView->selectionModel()->isRowSelected(current.row());
    if (!focused) {
        Q_EMIT connectionFocused(std::nullopt, {});
        return;
    }
    const ConnectionModel *model = m_controller->connectionModel();
    const int row = m_connectionProxy->mapToSource(current).row();
    const ConnectionSnapshot &c = model->rowAt(row).connection;
    Q_EMIT connectionFocused(c.id, QStringLiteral("#%1 %2 %3")
                                       .arg(c.id)
                                       .arg(QLatin1StringView(transportKindName(c.transport)),
                                            Endpoint{c.proxyHost, c.proxyPort}.toString()));
}

void PoolPanel::updateStreamHeader()
{
    const QList<quint64> ids = selectedConnections();
    const int shown = m_streamProxy->rowCount();
    const int total = m_controller->streamModel()->rowCount();
    m_connectionsTitle->setText(
        tr("Upstream connections (%1)").arg(m_controller->connectionModel()->rowCount()));
    if (ids.isEmpty())
        m_streamsTitle->setText(shown == total ? tr("All streams (%1)").arg(total)
                                               : tr("Streams: %1 of %2").arg(shown).arg(total));
    else if (ids.size() == 1)
        m_streamsTitle->setText(tr("Streams of connection %1 (%2)").arg(ids.first()).arg(shown));
    else
        m_streamsTitle->setText(tr("Streams of %1 connections (%2)").arg(ids.size()).arg(shown));
    const bool filtering = m_streamProxy->isFiltering();
    m_closeFiltered->setEnabled(filtering && shown > 0);
    m_closeFiltered->setText(filtering ? tr("Close filtered (%1)").arg(shown)
                                       : tr("Close filtered"));
}

void PoolPanel::showConnectionMenu(const QPoint &pos)
{
    const QList<quint64> ids = selectedConnections();
    if (ids.isEmpty())
        return;
    QMenu menu(this);
    QAction *close =
        menu.addAction(icons::action(QStringLiteral("close-connection"), palette()),
                       ids.size() == 1 ? tr("Close connection %1 (GOAWAY)").arg(ids.first())
                                       : tr("Close %1 connections (GOAWAY)").arg(ids.size()));
    connect(close, &QAction::triggered, this, &PoolPanel::closeSelectedConnections);
    QAction *copy =
        menu.addAction(icons::action(QStringLiteral("copy"), palette()), tr("Copy as JSON"));
    connect(copy, &QAction::triggered, this, [this, ids] {
        QGuiApplication::clipboard()->setText(QString::fromUtf8(connectionsJson(ids)));
    });
    menu.exec(m_connectionsView->viewport()->mapToGlobal(pos));
}

void PoolPanel::showStreamMenu(const QPoint &pos)
{
    const QList<StreamKey> keys = selectedStreams();
    if (keys.isEmpty())
        return;
    QMenu menu(this);
    QAction *close = menu.addAction(icons::action(QStringLiteral("close-stream"), palette()),
                                    keys.size() == 1 ? tr("Close stream %1 on connection %2")
                                                           .arg(keys.first().streamId)
                                                           .arg(keys.first().connectionId)
                                                     : tr("Close %1 streams").arg(keys.size()));
    connect(close, &QAction::triggered, this, &PoolPanel::closeSelectedStreams);
    QAction *copy =
        menu.addAction(icons::action(QStringLiteral("copy"), palette()), tr("Copy as JSON"));
    connect(copy, &QAction::triggered, this, [this, keys] {
        QGuiApplication::clipboard()->setText(QString::fromUtf8(streamsJson(keys)));
    });
    menu.exec(m_streamsView->viewport()->mapToGlobal(pos));
}

} // namespace qmasque::ui
