#include "ui/ProfileForm.h"

#include "ui/Theme.h"

#include <QtCore/QEvent>
#include <QtWidgets/QCheckBox>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QFormLayout>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QListWidget>
#include <QtWidgets/QPlainTextEdit>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QScrollArea>
#include <QtWidgets/QSpinBox>
#include <QtWidgets/QStyle>
#include <QtWidgets/QTabWidget>
#include <QtWidgets/QToolButton>
#include <QtWidgets/QVBoxLayout>

#include <limits>

namespace qmasque::ui {

namespace {

QStringList lines(const QPlainTextEdit *edit)
{
    QStringList out;
    const QStringList all = edit->toPlainText().split(QLatin1Char('\n'));
    for (const QString &line : all) {
        if (!line.trimmed().isEmpty())
            out << line.trimmed();
    }
    return out;
}

// keyOf: the key an error message names ("proxy: 'x' is not https://HOST[:PORT]" -> "proxy").
QString keyOf(const QString &message)
{
    const qsizetype colon = message.indexOf(QStringLiteral(": "));
    return colon > 0 ? message.first(colon) : QString();
}

} // namespace

ProfileForm::ProfileForm(QWidget *parent)
    : QWidget(parent)
    , m_pages(new QTabWidget(this))
    , m_generalError(new QLabel(this))
    , m_transports(new QListWidget(this))
    , m_insecure(new QCheckBox(tr("Skip certificate verification (insecure)"), this))
    , m_demo(new QCheckBox(tr("Run the built-in demo proxy instead of a real one"), this))
    , m_tcpMode(new QComboBox(this))
    , m_logLevel(new QComboBox(this))
{
    // Proxy.
    QFormLayout *proxy = addPage(tr("Proxy"));
    addField(proxy, QStringLiteral("name"), tr("Profile name"), lineEdit(QStringLiteral("name")));
    addField(proxy, QStringLiteral("proxy"), tr("Proxy URL"),
             lineEdit(QStringLiteral("proxy"), QStringLiteral("https://proxy.example:443")),
             tr("The MASQUE proxy: https://HOST[:PORT]."));
    for (TransportKind kind : {TransportKind::H3, TransportKind::H2, TransportKind::H1}) {
        auto *item =
            new QListWidgetItem(QString::fromLatin1(transportKindName(kind)), m_transports);
        item->setData(Qt::UserRole, int(kind));
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable | Qt::ItemIsDragEnabled);
        item->setCheckState(Qt::Checked);
    }
    m_transports->setDragDropMode(QAbstractItemView::InternalMove);
    m_transports->setFixedHeight(m_transports->sizeHintForRow(0) * 3 +
                                 2 * m_transports->frameWidth() + 2);
    m_transports->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    auto *order = new QWidget(this);
    auto *orderLayout = new QHBoxLayout(order);
    orderLayout->setContentsMargins(0, 0, 0, 0);
    orderLayout->addWidget(m_transports, 1);
    auto *buttons = new QVBoxLayout;
    auto *up = new QToolButton(order);
    up->setArrowType(Qt::UpArrow);
    up->setToolTip(tr("Try earlier"));
    auto *down = new QToolButton(order);
    down->setArrowType(Qt::DownArrow);
    down->setToolTip(tr("Try later"));
    buttons->addWidget(up);
    buttons->addWidget(down);
    orderLayout->addLayout(buttons);
    orderLayout->setAlignment(buttons, Qt::AlignTop);
    order->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
    const auto move = [this](int delta) {
        const int row = m_transports->currentRow();
        const int to = row + delta;
        if (row < 0 || to < 0 || to >= m_transports->count())
            return;
        QListWidgetItem *item = m_transports->takeItem(row);
        m_transports->insertItem(to, item);
        m_transports->setCurrentRow(to);
        handleEdited();
    };
    connect(up, &QToolButton::clicked, this, [move] { move(-1); });
    connect(down, &QToolButton::clicked, this, [move] { move(1); });
    connect(m_transports, &QListWidget::itemChanged, this, &ProfileForm::handleEdited);
    connect(m_transports->model(), &QAbstractItemModel::rowsMoved, this,
            &ProfileForm::handleEdited);
    m_editors.insert(QStringLiteral("transports"), m_transports);
    addField(proxy, QStringLiteral("transports"), tr("Transports"), order,
             tr("Raced in this order: the first one answering 2xx wins."));
    m_tcpMode->addItem(tr("CONNECT (every HTTP proxy)"), int(TcpMode::Connect));
    m_tcpMode->addItem(tr("Templated connect-tcp"), int(TcpMode::Template));
    connect(m_tcpMode, &QComboBox::currentIndexChanged, this, &ProfileForm::handleEdited);
    m_editors.insert(QStringLiteral("tcp-mode"), m_tcpMode);
    addField(proxy, QStringLiteral("tcp-mode"), tr("TCP tunnels"), m_tcpMode);
    connect(m_demo, &QCheckBox::toggled, this, &ProfileForm::handleEdited);
    m_editors.insert(QStringLiteral("demo"), m_demo);
    addField(proxy, QStringLiteral("demo"), QString(), m_demo);

    // Trust and authentication.
    QFormLayout *trust = addPage(tr("Trust && auth"));
    addField(trust, QStringLiteral("ca"), tr("CA certificates"),
             fileRow(lineEdit(QStringLiteral("ca"), tr("PEM file, added to the system store")),
                     tr("CA certificates")));
    addField(
        trust, QStringLiteral("pin-sha256"), tr("Pinned keys"),
        listEdit(QStringLiteral("pin-sha256"), tr("One SHA-256 pin per line (base64 or hex)")));
    connect(m_insecure, &QCheckBox::toggled, this, &ProfileForm::handleEdited);
    m_editors.insert(QStringLiteral("insecure"), m_insecure);
    addField(trust, QStringLiteral("insecure"), QString(), m_insecure,
             tr("Only for testing: anyone on the path can read the tunnels."));
    addField(trust, QStringLiteral("sni"), tr("TLS server name"),
             lineEdit(QStringLiteral("sni"), tr("Default: the proxy host")));
    addField(trust, QStringLiteral("client-cert"), tr("Client certificate"),
             fileRow(lineEdit(QStringLiteral("client-cert"), tr("PEM file (mTLS)")),
                     tr("Client certificate")));
    addField(
        trust, QStringLiteral("client-key"), tr("Client key"),
        fileRow(lineEdit(QStringLiteral("client-key"), tr("PEM file (mTLS)")), tr("Client key")));
    addField(
        trust, QStringLiteral("proxy-auth"), tr("Proxy authentication"),
        lineEdit(QStringLiteral("proxy-auth"), QStringLiteral("basic:USER:PASS | bearer:TOKEN")));
    addField(trust, QStringLiteral("header"), tr("Extra headers"),
             listEdit(QStringLiteral("header"), tr("One NAME:VALUE per line")));

    // URI templates.
    QFormLayout *templates = addPage(tr("Templates"));
    addField(templates, QStringLiteral("udp-template"), tr("UDP (connect-udp)"),
             lineEdit(QStringLiteral("udp-template"),
                      QStringLiteral("/.well-known/masque/udp/{target_host}/{target_port}/")));
    addField(templates, QStringLiteral("tcp-template"), tr("TCP (connect-tcp)"),
             lineEdit(QStringLiteral("tcp-template"),
                      QStringLiteral("/.well-known/masque/tcp/{target_host}/{target_port}/")));
    addField(templates, QStringLiteral("ip-template"), tr("IP (connect-ip)"),
             lineEdit(QStringLiteral("ip-template"),
                      QStringLiteral("/.well-known/masque/ip/{target}/{ipproto}/")));

    // Local listeners and forwards.
    QFormLayout *local = addPage(tr("Listeners"));
    addField(local, QStringLiteral("socks"), tr("SOCKS5"),
             lineEdit(QStringLiteral("socks"), tr("ADDR:PORT, empty = off")));
    addField(local, QStringLiteral("socks-auth"), tr("SOCKS5 login"),
             lineEdit(QStringLiteral("socks-auth"), tr("USER:PASS, empty = none")));
    addField(local, QStringLiteral("http-proxy"), tr("HTTP proxy"),
             lineEdit(QStringLiteral("http-proxy"), tr("ADDR:PORT, empty = off")));
    addField(local, QStringLiteral("udp-forward"), tr("UDP forwards"),
             listEdit(QStringLiteral("udp-forward"), tr("One [ADDR:]PORT=HOST:PORT per line")));
    addField(local, QStringLiteral("tcp-forward"), tr("TCP forwards"),
             listEdit(QStringLiteral("tcp-forward"), tr("One [ADDR:]PORT=HOST:PORT per line")));
    addField(local, QStringLiteral("udp-idle-ms"), tr("UDP forward idle"),
             spinBox(QStringLiteral("udp-idle-ms"), tr(" ms")),
             tr("Close a local peer's UDP tunnel after this quiet time; 0 = never."));
    addField(local, QStringLiteral("tun"), tr("TUN device"),
             lineEdit(QStringLiteral("tun"), tr("Interface name, empty = off")));

    // Pool and racing.
    QFormLayout *pool = addPage(tr("Pool"));
    addField(pool, QStringLiteral("pool-idle-ms"), tr("Idle timeout"),
             spinBox(QStringLiteral("pool-idle-ms"), tr(" ms")),
             tr("Close an unused upstream connection after this; 0 = never."));
    addField(pool, QStringLiteral("pool-max-streams"), tr("Streams per connection"),
             spinBox(QStringLiteral("pool-max-streams"), QString()),
             tr("0 = the proxy's own limit."));
    addField(pool, QStringLiteral("pool-max-connections"), tr("Connections per proxy"),
             spinBox(QStringLiteral("pool-max-connections"), QString()),
             tr("Per transport; beyond, new tunnels wait for a free stream."));
    addField(pool, QStringLiteral("connect-timeout-ms"), tr("Connect timeout"),
             spinBox(QStringLiteral("connect-timeout-ms"), tr(" ms")));
    addField(pool, QStringLiteral("h2-head-start-ms"), tr("h2 starts after"),
             spinBox(QStringLiteral("h2-head-start-ms"), tr(" ms")));
    addField(pool, QStringLiteral("h1-head-start-ms"), tr("h1 starts after h2"),
             spinBox(QStringLiteral("h1-head-start-ms"), tr(" ms")));

    // Observability.
    QFormLayout *observe = addPage(tr("Observability"));
    addField(observe, QStringLiteral("snapshot"), tr("Snapshot file"),
             lineEdit(QStringLiteral("snapshot"), tr("Pool snapshot JSON, empty = off")));
    addField(observe, QStringLiteral("snapshot-ms"), tr("Snapshot interval"),
             spinBox(QStringLiteral("snapshot-ms"), tr(" ms")));
    addField(observe, QStringLiteral("metrics"), tr("Metrics endpoint"),
             lineEdit(QStringLiteral("metrics"), tr("ADDR:PORT (OpenMetrics), empty = off")));
    for (const char *level : {"debug", "info", "warning", "error"})
        m_logLevel->addItem(QString::fromLatin1(level));
    connect(m_logLevel, &QComboBox::currentIndexChanged, this, &ProfileForm::handleEdited);
    m_editors.insert(QStringLiteral("log-level"), m_logLevel);
    addField(observe, QStringLiteral("log-level"), tr("Log level"), m_logLevel);

    m_generalError->setWordWrap(true);
    m_generalError->hide();
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_pages);
    layout->addWidget(m_generalError);
    applyColours();
    setProfile(Profile{});
}

QFormLayout *ProfileForm::addPage(const QString &title)
{
    auto *scroll = new QScrollArea(m_pages);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto *page = new QWidget(scroll);
    auto *form = new QFormLayout(page);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setRowWrapPolicy(QFormLayout::DontWrapRows);
    form->setFormAlignment(Qt::AlignLeft | Qt::AlignTop);
    scroll->setWidget(page);
    m_pages->addTab(scroll, title);
    return form;
}

void ProfileForm::addField(QFormLayout *form, const QString &key, const QString &label,
                           QWidget *editor, const QString &help)
{
    // The editor, with its help line and its (hidden) error line under it.
    auto *cell = new QWidget(form->parentWidget());
    auto *column = new QVBoxLayout(cell);
    column->setContentsMargins(0, 0, 0, 0);
    column->setSpacing(2);
    column->addWidget(editor);
    if (!help.isEmpty()) {
        auto *hint = new QLabel(help, cell);
        hint->setWordWrap(true);
        m_hints << hint;
        column->addWidget(hint);
    }
    auto *error = new QLabel(cell);
    error->setObjectName(QStringLiteral("error-") + key);
    error->setWordWrap(true);
    error->hide();
    column->addWidget(error);
    form->addRow(label, cell);
    editor->setObjectName(QStringLiteral("field-") + key);
    m_fields.insert(key, Field{editor, error, m_pages->count() - 1});
}

QLineEdit *ProfileForm::lineEdit(const QString &key, const QString &placeholder)
{
    auto *edit = new QLineEdit(this);
    edit->setPlaceholderText(placeholder);
    edit->setClearButtonEnabled(true);
    connect(edit, &QLineEdit::textChanged, this, &ProfileForm::handleEdited);
    m_editors.insert(key, edit);
    return edit;
}

QPlainTextEdit *ProfileForm::listEdit(const QString &key, const QString &placeholder)
{
    auto *edit = new QPlainTextEdit(this);
    edit->setPlaceholderText(placeholder);
    edit->setTabChangesFocus(true);
    edit->setFixedHeight(edit->fontMetrics().height() * 3 + 12);
    edit->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    connect(edit, &QPlainTextEdit::textChanged, this, &ProfileForm::handleEdited);
    m_editors.insert(key, edit);
    return edit;
}

QSpinBox *ProfileForm::spinBox(const QString &key, const QString &suffix)
{
    auto *box = new QSpinBox(this);
    box->setRange(0, std::numeric_limits<int>::max()); // Profile::validate() owns the limits
    box->setSuffix(suffix);
    box->setGroupSeparatorShown(true);
    box->setMaximumWidth(box->fontMetrics().horizontalAdvance(QLatin1Char('0')) * 18);
    connect(box, &QSpinBox::valueChanged, this, &ProfileForm::handleEdited);
    m_editors.insert(key, box);
    return box;
}

QWidget *ProfileForm::fileRow(QLineEdit *edit, const QString &title)
{
    auto *row = new QWidget(this);
    auto *layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(edit, 1);
    auto *browse = new QPushButton(tr("Browse…"), row);
    layout->addWidget(browse);
    connect(browse, &QPushButton::clicked, this, [this, edit, title] {
        const QString path = QFileDialog::getOpenFileName(
            this, title, edit->text(), tr("PEM files (*.pem *.crt *.key);;All files (*)"));
        if (!path.isEmpty()) {
            edit->setText(path);
            handleEdited();
        }
    });
    return row;
}

QWidget *ProfileForm::editor(const QString &key) const
{
    return m_editors.value(key, nullptr);
}

QLabel *ProfileForm::errorLabel(const QString &key) const
{
    const auto it = m_fields.constFind(key);
    return it == m_fields.constEnd() ? nullptr : it->error;
}

void ProfileForm::setProfile(const Profile &p)
{
    m_loading = true;
    const auto text = [this](const char *key, const QString &value) {
        qobject_cast<QLineEdit *>(m_editors.value(QLatin1StringView(key)))->setText(value);
    };
    const auto list = [this](const char *key, const QStringList &values) {
        qobject_cast<QPlainTextEdit *>(m_editors.value(QLatin1StringView(key)))
            ->setPlainText(values.join(QLatin1Char('\n')));
    };
    const auto number = [this](const char *key, int value) {
        qobject_cast<QSpinBox *>(m_editors.value(QLatin1StringView(key)))->setValue(value);
    };
    text("name", p.name);
    text("proxy", p.proxy);
    // Chosen transports first, in order; the others after them, unchecked.
    m_transports->clear();
    QList<TransportKind> order = p.transports;
    for (TransportKind kind : {TransportKind::H3, TransportKind::H2, TransportKind::H1}) {
        if (!order.contains(kind))
            order << kind;
    }
    for (TransportKind kind : order) {
        auto *item =
            new QListWidgetItem(QString::fromLatin1(transportKindName(kind)), m_transports);
        item->setData(Qt::UserRole, int(kind));
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable | Qt::ItemIsDragEnabled);
        item->setCheckState(p.transports.contains(kind) ? Qt::Checked : Qt::Unchecked);
    }
    m_tcpMode->setCurrentIndex(p.tcpMode == TcpMode::Connect ? 0 : 1);
    m_demo->setChecked(p.demo);
    text("ca", p.ca);
    list("pin-sha256", p.pinSha256);
    m_insecure->setChecked(p.insecure);
    text("sni", p.sni);
    text("client-cert", p.clientCert);
    text("client-key", p.clientKey);
    text("proxy-auth", p.proxyAuth);
    list("header", p.headers);
    text("udp-template", p.udpTemplate);
    text("tcp-template", p.tcpTemplate);
    text("ip-template", p.ipTemplate);
    text("socks", p.socks);
    text("socks-auth", p.socksAuth);
    text("http-proxy", p.httpProxy);
    QStringList udp;
    for (const Forward &forward : p.udpForwards)
        udp << forward.toString();
    list("udp-forward", udp);
    QStringList tcp;
    for (const Forward &forward : p.tcpForwards)
        tcp << forward.toString();
    list("tcp-forward", tcp);
    text("tun", p.tun);
    number("pool-idle-ms", p.poolIdleMs);
    number("pool-max-streams", p.poolMaxStreams);
    number("pool-max-connections", p.poolMaxConnections);
    number("udp-idle-ms", p.udpIdleMs);
    number("connect-timeout-ms", p.connectTimeoutMs);
    number("h2-head-start-ms", p.h2HeadStartMs);
    number("h1-head-start-ms", p.h1HeadStartMs);
    text("snapshot", p.snapshot);
    number("snapshot-ms", p.snapshotMs);
    text("metrics", p.metrics);
    m_logLevel->setCurrentText(p.logLevel);
    m_loading = false;
    validate();
}

Result<Profile> ProfileForm::profile() const
{
    const auto text = [this](const char *key) {
        return qobject_cast<QLineEdit *>(m_editors.value(QLatin1StringView(key)))->text().trimmed();
    };
    const auto list = [this](const char *key) {
        return lines(qobject_cast<QPlainTextEdit *>(m_editors.value(QLatin1StringView(key))));
    };
    const auto number = [this](const char *key) {
        return qobject_cast<QSpinBox *>(m_editors.value(QLatin1StringView(key)))->value();
    };
    Profile p;
    p.name = text("name");
    p.proxy = text("proxy");
    p.transports.clear();
    for (int row = 0; row < m_transports->count(); ++row) {
        const QListWidgetItem *item = m_transports->item(row);
        if (item->checkState() == Qt::Checked)
            p.transports << TransportKind(item->data(Qt::UserRole).toInt());
    }
    p.tcpMode = TcpMode(m_tcpMode->currentData().toInt());
    p.demo = m_demo->isChecked();
    p.ca = text("ca");
    p.pinSha256 = list("pin-sha256");
    p.insecure = m_insecure->isChecked();
    p.sni = text("sni");
    p.clientCert = text("client-cert");
    p.clientKey = text("client-key");
    p.proxyAuth = text("proxy-auth");
    p.headers = list("header");
    p.udpTemplate = text("udp-template");
    p.tcpTemplate = text("tcp-template");
    p.ipTemplate = text("ip-template");
    p.socks = text("socks");
    p.socksAuth = text("socks-auth");
    p.httpProxy = text("http-proxy");
    for (const char *key : {"udp-forward", "tcp-forward"}) {
        QList<Forward> &forwards = key[0] == 'u' ? p.udpForwards : p.tcpForwards;
        const QStringList entries = list(key);
        for (const QString &entry : entries) {
            auto forward = parseForward(entry);
            if (!forward)
                return Error(ErrorCode::InvalidConfig, QLatin1StringView(key) +
                                                           QStringLiteral(": ") +
                                                           forward.error().detail);
            forwards << *forward;
        }
    }
    p.tun = text("tun");
    p.poolIdleMs = number("pool-idle-ms");
    p.poolMaxStreams = number("pool-max-streams");
    p.poolMaxConnections = number("pool-max-connections");
    p.udpIdleMs = number("udp-idle-ms");
    p.connectTimeoutMs = number("connect-timeout-ms");
    p.h2HeadStartMs = number("h2-head-start-ms");
    p.h1HeadStartMs = number("h1-head-start-ms");
    p.snapshot = text("snapshot");
    p.snapshotMs = number("snapshot-ms");
    p.metrics = text("metrics");
    p.logLevel = m_logLevel->currentText();
    if (auto valid = p.validate(); !valid)
        return valid.error();
    return p;
}

bool ProfileForm::validate()
{
    const Result<Profile> result = profile();
    if (result) {
        showError({}, {});
        m_valid = true;
    } else {
        const QString message = result.error().detail;
        showError(keyOf(message), message);
        m_valid = false;
    }
    return m_valid;
}

void ProfileForm::showError(const QString &key, const QString &message)
{
    m_errorKey = key;
    m_errorText = message;
    for (auto it = m_fields.begin(); it != m_fields.end(); ++it) {
        const bool named = !message.isEmpty() && it.key() == key;
        it->error->setText(named ? message : QString());
        it->error->setVisible(named);
    }
    const bool known = message.isEmpty() || m_fields.contains(key);
    m_generalError->setText(known ? QString() : message);
    m_generalError->setVisible(!known);
    const int errorPage = known && !message.isEmpty() ? m_fields.value(key).page : -1;
    const QIcon warning = style()->standardIcon(QStyle::SP_MessageBoxWarning);
    for (int page = 0; page < m_pages->count(); ++page)
        m_pages->setTabIcon(page, page == errorPage ? warning : QIcon());
}

void ProfileForm::applyColours()
{
    const QPalette &pal = palette();
    QPalette errorPalette = pal;
    errorPalette.setColor(QPalette::WindowText, theme::errorColor(theme::isDark(pal)));
    for (const Field &field : std::as_const(m_fields))
        field.error->setPalette(errorPalette);
    m_generalError->setPalette(errorPalette);
    QPalette hintPalette = pal;
    QColor muted = pal.color(QPalette::WindowText);
    muted.setAlphaF(0.7);
    hintPalette.setColor(QPalette::WindowText, muted);
    for (QLabel *hint : std::as_const(m_hints))
        hint->setPalette(hintPalette);
}

void ProfileForm::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        applyColours();
}

void ProfileForm::handleEdited()
{
    if (m_loading)
        return;
    validate();
    Q_EMIT edited();
}

} // namespace qmasque::ui
