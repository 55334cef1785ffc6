// qmasque: the MASQUE tunnel client: the dashboard, or headless with --headless (or when there
// is no display). README, "Running qmasque", "Command line" and "Exit codes" describe the
// contract: stdout lines, exit codes 0 / 1 / 2, one error line on stderr.

#include "ClientRunner.h"
#include "GuiReport.h"

#include "api/Version.h"
#include "service/ClientCommandLine.h"
#include "service/EngineThread.h"
#include "service/LogForwarder.h"
#include "service/SignalWatcher.h"
#include "ui/Icons.h"
#include "ui/MainWindow.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtWidgets/QApplication>

#include <cstdio>
#include <memory>

namespace {

using namespace qmasque;

int printUsageError(const QString &message)
{
    std::fputs(
        QStringLiteral("qmasque: error: %1 (see --help)\n").arg(message).toLocal8Bit().constData(),
        stderr);
    return 2;
}

// hasDisplay: a GUI can come up: an X11 or Wayland display, or a platform chosen explicitly
// (QT_QPA_PLATFORM, e.g. offscreen).
bool hasDisplay()
{
    return !qEnvironmentVariableIsEmpty("DISPLAY") ||
           !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") ||
           !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM");
}

QStringList rawArguments(int argc, char *argv[])
{
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));
    return arguments;
}

int runHeadless(const ClientCommandLine &line, LogForwarder &log)
{
    if (Status valid = line.profile.validate(); !valid)
        return printUsageError(valid.error().detail);
    log.setToStderr(true);
    EngineThread engineThread({}, &log);
    Engine *engine = engineThread.engine();
    QMetaObject::invokeMethod(
        engine, [engine] { engine->setSnapshotInterval(0); }, Qt::QueuedConnection);
    ClientRunner runner(engine, true);
    SignalWatcher watcher;
    QObject::connect(&watcher, &SignalWatcher::received, &runner, [&runner] { runner.stop(); });
    runner.start(line.profile);
    return QCoreApplication::exec();
}

int runGui(const ClientCommandLine &line, LogForwarder &log)
{
    const bool startNow = line.profileGiven || line.profile.demo;
    if (startNow) {
        if (Status valid = line.profile.validate(); !valid)
            return printUsageError(valid.error().detail);
    }
    ui::icons::initResources();
    QApplication::setWindowIcon(ui::icons::application());
    EngineThread engineThread({}, &log);
    Engine *engine = engineThread.engine();
    ClientRunner runner(engine, false);

    ui::MainWindowOptions options;
    options.quitApplication = false; // quit once the engine stopped
    options.settingsPath =
        QFileInfo(Profile::defaultPath()).absoluteDir().filePath(QStringLiteral("dashboard.ini"));
    ui::MainWindow window(engine, options);
    QObject::connect(&window, &ui::MainWindow::quitRequested, &runner,
                     [&runner] { runner.stop(); });
    SignalWatcher watcher;
    QObject::connect(&watcher, &SignalWatcher::received, &runner, [&runner] { runner.stop(); });
    std::unique_ptr<GuiReport> report;
    if (const QString directory = qEnvironmentVariable("QMASQUE_GUI_REPORT"); !directory.isEmpty())
        report = std::make_unique<GuiReport>(&window, directory);
    window.show();
    if (startNow)
        runner.start(line.profile);
    return QCoreApplication::exec();
}

} // namespace

int main(int argc, char *argv[])
{
    const QStringList arguments = rawArguments(argc, argv);
    // --help and --version never need a display (help2man runs them on build machines); neither
    // does --headless. Otherwise the dashboard comes up when a display is there.
    const bool console = ClientCommandLine::helpOrVersionRequested(arguments) ||
                         ClientCommandLine::headlessRequested(arguments) || !hasDisplay();
    std::unique_ptr<QCoreApplication> app = console ? std::make_unique<QCoreApplication>(argc, argv)
                                                    : std::make_unique<QApplication>(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("qmasque"));
    QCoreApplication::setApplicationVersion(QLatin1StringView(kVersion));

    // Before anything logs: Qt messages become log entries (and stderr lines when headless).
    LogForwarder log(LogForwarder::Options{});
    log.install();

    Result<ClientCommandLine> line = ClientCommandLine::parse(QCoreApplication::arguments());
    if (!line)
        return printUsageError(line.error().detail);
    switch (line->action) {
    case ClientCommandLine::Action::Help:
        std::fputs(line->helpText.toLocal8Bit().constData(), stdout);
        return 0;
    case ClientCommandLine::Action::Version:
        std::printf("qmasque %s\n", kVersion);
        return 0;
    case ClientCommandLine::Action::Run:
        break;
    }
    LogForwarder::applyLogLevel(line->profile.logLevel);
    if (console && !line->headless) {
        std::fputs("qmasque: no display (DISPLAY, WAYLAND_DISPLAY and QT_QPA_PLATFORM are unset): "
                   "running headless\n",
                   stderr);
    }
    if (console)
        return runHeadless(*line, log);
    return runGui(*line, log);
}
