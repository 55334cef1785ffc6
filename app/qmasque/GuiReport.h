#pragma once

#include <QtCore/QObject>
#include <QtCore/QString>

namespace qmasque::ui {
class MainWindow;
}

namespace qmasque {

// GuiReport: a test hook (environment variable QMASQUE_GUI_REPORT=DIR, documented in the README
// as test-only). After every snapshot the dashboard applied it writes DIR/dashboard.json: the
// engine state and every row of the connection and stream tables as the window shows them
// (column header -> cell text); the first time the stream table has a row it also saves a
// screenshot of the window to DIR/dashboard.png. GUI thread.
class GuiReport final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GuiReport)

public:
    GuiReport(ui::MainWindow *window, QString directory, QObject *parent = nullptr);

private:
    void write();

    ui::MainWindow *m_window; // not owned; outlives the report (its parent)
    QString m_directory;
    bool m_screenshotTaken = false;
};

} // namespace qmasque
