#include "GuiReport.h"

#include "ui/ConnectionModel.h"
#include "ui/DashboardController.h"
#include "ui/MainWindow.h"
#include "ui/StreamModel.h"

#include <QtCore/QDir>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSaveFile>
#include <QtGui/QPixmap>

namespace qmasque {

namespace {

QJsonArray tableRows(const QAbstractItemModel *model)
{
    QJsonArray rows;
    for (int row = 0; row < model->rowCount(); ++row) {
        QJsonObject cells;
        for (int column = 0; column < model->columnCount(); ++column) {
            const QString header = model->headerData(column, Qt::Horizontal).toString();
            cells.insert(header, model->index(row, column).data().toString());
        }
        rows.append(cells);
    }
    return rows;
}

} // namespace

GuiReport::GuiReport(ui::MainWindow *window, QString directory, QObject *parent)
    : QObject(parent)
    , m_window(window)
    , m_directory(std::move(directory))
{
    QDir().mkpath(m_directory);
    connect(window->controller(), &ui::DashboardController::snapshotProcessed, this,
            &GuiReport::write);
}

void GuiReport::write()
{
    const ui::DashboardController *controller = m_window->controller();
    QJsonObject report;
    report.insert(QStringLiteral("state"),
                  QString::fromLatin1(engineStateName(controller->state())));
    report.insert(QStringLiteral("snapshots_applied"), qint64(controller->snapshotsApplied()));
    report.insert(QStringLiteral("listeners"),
                  QJsonArray::fromStringList(controller->summary().listeners));
    report.insert(QStringLiteral("connections"), tableRows(controller->connectionModel()));
    report.insert(QStringLiteral("streams"), tableRows(controller->streamModel()));
    QSaveFile file(QDir(m_directory).filePath(QStringLiteral("dashboard.json")));
    if (file.open(QIODevice::WriteOnly)) {
        file.write(QJsonDocument(report).toJson());
        file.commit();
    }
    if (!m_screenshotTaken && controller->streamModel()->rowCount() > 0) {
        m_screenshotTaken = true;
        // Atomically, like the JSON: a reader polling for the file never sees half a PNG.
        QSaveFile png(QDir(m_directory).filePath(QStringLiteral("dashboard.png")));
        if (png.open(QIODevice::WriteOnly) && m_window->grab().save(&png, "PNG"))
            png.commit();
    }
}

} // namespace qmasque
