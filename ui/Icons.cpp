#include "ui/Icons.h"

#include <QtCore/QHash>
#include <QtGui/QGuiApplication>
#include <QtGui/QPainter>
#include <QtGui/QPalette>
#include <QtGui/QPixmap>
#include <QtSvg/QSvgRenderer>

#include <array>

// Q_INIT_RESOURCE must be used outside any namespace.
static void initQmasqueResources()
{
    Q_INIT_RESOURCE(qmasque);
}

namespace qmasque::ui::icons {

namespace {

constexpr std::array kSizes = {16, 22, 24, 32, 48, 64};

QString resourcePath(const QString &name)
{
    return QStringLiteral(":/icons/") + name + QStringLiteral(".svg");
}

// render: the SVG at `size` device pixels, optionally recoloured (every opaque pixel gets `tint`,
// keeping its alpha).
QPixmap render(QSvgRenderer &renderer, int size, const QColor &tint)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    renderer.render(&painter, QRectF(0, 0, size, size));
    if (tint.isValid()) {
        painter.setCompositionMode(QPainter::CompositionMode_SourceIn);
        painter.fillRect(pixmap.rect(), tint);
    }
    return pixmap;
}

QIcon build(const QString &name, const QColor &tint = {}, const QColor &disabledTint = {})
{
    QSvgRenderer renderer(resourcePath(name));
    QIcon icon;
    if (!renderer.isValid())
        return icon;
    for (int size : kSizes) {
        icon.addPixmap(render(renderer, size, tint), QIcon::Normal);
        if (disabledTint.isValid())
            icon.addPixmap(render(renderer, size, disabledTint), QIcon::Disabled);
    }
    return icon;
}

QIcon cached(const QString &name)
{
    static QHash<QString, QIcon> cache;
    auto it = cache.find(name);
    if (it == cache.end()) {
        initResources();
        it = cache.insert(name, build(name));
    }
    return *it;
}

} // namespace

void initResources()
{
    static const bool done = [] {
        initQmasqueResources();
        return true;
    }();
    Q_UNUSED(done);
}

QIcon application()
{
    return cached(QStringLiteral("qmasque"));
}

QIcon connectionState(ConnectionState state)
{
    return cached(QStringLiteral("state-") + QLatin1StringView(connectionStateName(state)));
}

QIcon streamState(StreamState state)
{
    switch (state) {
    case StreamState::Connecting:
        return connectionState(ConnectionState::Dialing);
    case StreamState::Open:
        return connectionState(ConnectionState::Ready);
    case StreamState::Closing:
        return connectionState(ConnectionState::Closing);
    }
    return {};
}

QIcon engineState(EngineState state)
{
    switch (state) {
    case EngineState::Stopped:
        return cached(QStringLiteral("state-stopped"));
    case EngineState::Starting:
        return connectionState(ConnectionState::Dialing);
    case EngineState::Running:
        return connectionState(ConnectionState::Ready);
    case EngineState::Stopping:
        return connectionState(ConnectionState::Draining);
    case EngineState::Failed:
        return cached(QStringLiteral("state-failed"));
    }
    return {};
}

QIcon action(const QString &name, const QPalette &palette)
{
    initResources();
    const QColor normal = palette.color(QPalette::Active, QPalette::ButtonText);
    const QColor disabled = palette.color(QPalette::Disabled, QPalette::ButtonText);
    static QHash<QString, QIcon> cache;
    const QString key =
        name + QLatin1Char('/') + normal.name(QColor::HexArgb) + disabled.name(QColor::HexArgb);
    auto it = cache.find(key);
    if (it == cache.end())
        it = cache.insert(key, build(name, normal, disabled));
    return *it;
}

QIcon trayIcon(EngineState state)
{
    static QHash<int, QIcon> cache;
    auto it = cache.find(int(state));
    if (it != cache.end())
        return *it;
    initResources();
    QSvgRenderer base(resourcePath(QStringLiteral("qmasque")));
    const QIcon badge = engineState(state);
    QIcon icon;
    for (int size : {16, 22, 24, 32, 48, 64}) {
        QPixmap pixmap = render(base, size, {});
        QPainter painter(&pixmap);
        const int badgeSize = std::max(8, size / 2);
        painter.drawPixmap(size - badgeSize, size - badgeSize, badge.pixmap(badgeSize, badgeSize));
        painter.end();
        icon.addPixmap(pixmap);
    }
    return *cache.insert(int(state), icon);
}

} // namespace qmasque::ui::icons
