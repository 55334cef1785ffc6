#pragma once

#include "api/EngineControl.h"

#include <QtCore/QObject>
#include <QtCore/QTimer>

namespace qmasque {

class Engine;

// ClientRunner: the process side of `qmasque`, for both modes. It starts the engine (queued),
// prints the stdout contract once the engine runs (README, "Running qmasque"):
//   listening <kind> <addr>:<port>   one per listener (socks5, metrics, demo-http, ...)
//   try: <command>                    demo hints
//   ready
// and turns the engine's end into the exit code: a start failure prints one line
// "qmasque: error: <reason>" on stderr and exits 2 (invalid_config) or 1; stop() (SIGINT,
// SIGTERM, the dashboard's quit) closes the tunnels gracefully and exits 0 once the engine
// stopped; a second stop() exits 1 at once. In GUI mode (`exitOnFailure` false) a failed start
// is only printed: the dashboard shows it and the user may connect again. GUI thread.
class ClientRunner final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ClientRunner)

public:
    ClientRunner(Engine *engine, bool exitOnFailure, QObject *parent = nullptr);

    void start(const Profile &profile);
    // stop: graceful the first time, immediate (exit 1) the second.
    void stop();

private:
    void handleState(EngineState state, const Error &error);
    void handleListening(const QStringList &listeners);

    Engine *m_engine; // on the engine thread: queued calls only
    const bool m_exitOnFailure;
    bool m_stopping = false;
    bool m_wasRunning = false;
    QTimer m_stopDeadline;
};

} // namespace qmasque
