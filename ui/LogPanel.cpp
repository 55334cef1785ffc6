#include "ui/LogPanel.h"

#include "ui/LogFilterProxy.h"
#include "ui/LogModel.h"

#include <QtCore/QSettings>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QScrollBar>
#include <QtWidgets/QTableView>
#include <QtWidgets/QVBoxLayout>

namespace qmasque::ui {

namespace {

const QString kLevelKey = QStringLiteral("log/level");

} // namespace

LogPanel::LogPanel(LogModel *model, QWidget *parent)
    : QWidget(parent)
    , m_proxy(new LogFilterProxy(this))
    , m_view(new QTableView(this))
    , m_level(new QComboBox(this))
    , m_search(new QLineEdit(this))
{
    m_proxy->setLogModel(model);
    m_view->setObjectName(QStringLiteral("logView"));
    m_view->setModel(m_proxy);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setAlternatingRowColors(true);
    m_view->setShowGrid(false);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 4);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    const int ch = m_view->fontMetrics().horizontalAdvance(QLatin1Char('0'));
    m_view->horizontalHeader()->resizeSection(LogModel::Time, 13 * ch + 12);
    m_view->horizontalHeader()->resizeSection(LogModel::Level, 8 * ch + 12);
    m_view->horizontalHeader()->resizeSection(LogModel::Category, 16 * ch + 12);

    m_level->setObjectName(QStringLiteral("logLevel"));
    for (QtMsgType level : {QtDebugMsg, QtInfoMsg, QtWarningMsg, QtCriticalMsg})
        m_level->addItem(tr("%1 and above").arg(LogModel::levelName(level)), int(level));
    m_level->setCurrentIndex(1);
    m_proxy->setMinimumLevel(QtInfoMsg);
    connect(m_level, &QComboBox::currentIndexChanged, this,
            [this] { m_proxy->setMinimumLevel(QtMsgType(m_level->currentData().toInt())); });
    m_search->setObjectName(QStringLiteral("logSearch"));
    m_search->setPlaceholderText(tr("Search messages and categories"));
    m_search->setClearButtonEnabled(true);
    connect(m_search, &QLineEdit::textChanged, m_proxy, &LogFilterProxy::setSearchText);

    // Follow the tail unless the user scrolled up to read.
    QScrollBar *bar = m_view->verticalScrollBar();
    connect(bar, &QScrollBar::valueChanged, this,
            [this, bar](int value) { m_follow = value >= bar->maximum() - 2; });
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, [this] {
        if (m_follow)
            m_view->scrollToBottom();
    });

    auto *row = new QHBoxLayout;
    row->addWidget(new QLabel(tr("Level"), this));
    row->addWidget(m_level);
    row->addWidget(m_search, 1);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(row);
    layout->addWidget(m_view);
}

void LogPanel::saveLayout(QSettings &settings) const
{
    settings.setValue(kLevelKey, m_level->currentIndex());
}

void LogPanel::restoreLayout(const QSettings &settings)
{
    const int index = settings.value(kLevelKey, 1).toInt();
    if (index >= 0 && index < m_level->count())
        m_level->setCurrentIndex(index);
}

} // namespace qmasque::ui
