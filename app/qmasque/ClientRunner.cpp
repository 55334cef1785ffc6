#include "ClientRunner.h"

#include "Engine.h"

#include <QtCore/QCoreApplication>

#include <cstdio>

namespace qmasque {

namespace {

void printOut(const QString &line)
{
    std::fputs(line.toLocal8Bit().append('\n').constData(), stdout);
    std::fflush(stdout);
}

void printError(const QString &message)
{
    std::fputs(QStringLiteral("qmasque: error: %1\n").arg(message).toLocal8Bit().constData(),
               stderr);
    std::fflush(stderr);
}

// After stop(), how long the engine may take to close everything before the process exits
// anyway (the engine's own grace is shorter).
constexpr int kStopDeadlineMs = 10000;

} // namespace

ClientRunner::ClientRunner(Engine *engine, bool exitOnFailure, QObject *parent)
    : QObject(parent)
    , m_engine(engine)
    , m_exitOnFailure(exitOnFailure)
{
    connect(engine, &EngineControl::stateChanged, this, &ClientRunner::handleState);
    connect(engine, &Engine::listening, this, &ClientRunner::handleListening);
    m_stopDeadline.setSingleShot(true);
    connect(&m_stopDeadline, &QTimer::timeout, this, [] {
        printError(QStringLiteral("the engine did not stop in time"));
        QCoreApplication::exit(1);
    });
}

void ClientRunner::start(const Profile &profile)
{
    Engine *engine = m_engine;
    QMetaObject::invokeMethod(
        engine, [engine, profile] { engine->start(profile); }, Qt::QueuedConnection);
}

void ClientRunner::stop()
{
    if (m_stopping) {
        printError(QStringLiteral("second signal: exiting without waiting for the tunnels"));
        QCoreApplication::exit(1);
        return;
    }
    m_stopping = true;
    m_stopDeadline.start(kStopDeadlineMs);
    Engine *engine = m_engine;
    QMetaObject::invokeMethod(
        engine, [engine] { engine->stop(); }, Qt::QueuedConnection);
}

void ClientRunner::handleListening(const QStringList &listeners)
{
    QString socks;
    QString http;
    QString echo;
    for (const QString &listener : listeners) {
        // "<kind> <addr>:<port>[ extra]": print the kind and the address.
        printOut(QStringLiteral("listening ") + listener);
        const QStringList fields = listener.split(u' ');
        if (fields.value(0) == u"socks5")
            socks = fields.value(1);
        else if (fields.value(0) == u"demo-http")
            http = fields.value(1);
        else if (fields.value(0) == u"demo-udp-echo")
            echo = fields.value(1);
    }
    if (!socks.isEmpty() && !http.isEmpty()) {
        printOut(QStringLiteral("try: curl --socks5-hostname %1 http://%2/1M -o /dev/null")
                     .arg(socks, http));
        printOut(QStringLiteral("try: curl -s --socks5-hostname %1 http://%2/64M | sha256sum; "
                                "curl -s --socks5-hostname %1 http://%2/64M.sha256")
                     .arg(socks, http));
        printOut(QStringLiteral("try: open http://%1/ in a browser whose SOCKS5 proxy is %2")
                     .arg(http, socks));
    }
    if (!socks.isEmpty() && !echo.isEmpty())
        printOut(QStringLiteral("try: the UDP echo at %1 through SOCKS5 UDP ASSOCIATE on %2")
                     .arg(echo, socks));
    printOut(QStringLiteral("ready"));
}

void ClientRunner::handleState(EngineState state, const Error &error)
{
    switch (state) {
    case EngineState::Running:
        m_wasRunning = true;
        return;
    case EngineState::Failed:
        printError(error.detail.isEmpty() ? QString::fromLatin1(error.name())
                                          : QStringLiteral("%1 (%2)").arg(
                                                error.detail, QLatin1StringView(error.name())));
        if (m_exitOnFailure || m_stopping)
            QCoreApplication::exit(error.code == ErrorCode::InvalidConfig ? 2 : 1);
        return;
    case EngineState::Stopped:
        if (m_stopping)
            QCoreApplication::exit(0);
        return;
    case EngineState::Starting:
    case EngineState::Stopping:
        return;
    }
}

} // namespace qmasque
