#pragma once

#include "api/EngineEvents.h"

#include <QtGui/QIcon>

class QPalette;

namespace qmasque::ui::icons {

// initResources: registers the icon resources compiled into the static qmasque_ui library
// (resources/qmasque.qrc). Idempotent; MainWindow calls it, and so may an application main.
void initResources();

// application: the QMasque icon (resources/icons/qmasque.svg).
QIcon application();

// State icons: coloured badges readable on light and dark backgrounds. Cached; GUI thread only.
QIcon connectionState(ConnectionState state);
QIcon streamState(StreamState state);
QIcon engineState(EngineState state);

// action: a monochrome glyph ("connect", "disconnect", "pause", "close-all", "close-stream",
// "close-connection", "copy", "filter", "settings", "show", "quit") tinted with the palette's
// button text colour, and its disabled colour for the disabled state.
QIcon action(const QString &name, const QPalette &palette);

// trayIcon: the application icon with a state badge in its lower right corner.
QIcon trayIcon(EngineState state);

} // namespace qmasque::ui::icons
