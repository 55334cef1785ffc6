// qmasque-proxy: the MASQUE proxy (CONNECT, CONNECT-UDP and CONNECT-IP over h3, h2 and h1).
//
// Contract (README, "qmasque-proxy"): stdout carries only the lines scripts parse, each flushed
// at once:
//   pin-sha256=<base64 SHA-256 of the certificate's public key>
//   listen=<ADDR>:<PORT> transports=<h3,h2,h1>      (one per --listen, IPv6 in brackets)
//   ready
// Logs go to stderr. Exit codes: 0 after SIGTERM/SIGINT and the drain, 1 runtime failure (port in
// use, unreadable certificate, TUN refused), 2 bad command line; failures print one line
// "qmasque-proxy: error: ..." on stderr.

#include "api/Version.h"
#include "core/Log.h"
#include "proxy/MasqueProxy.h"
#include "proxy/ProxyCommandLine.h"
#include "proxy/ProxyLog.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>
#include <QtCore/QSocketNotifier>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace {

int gSignalFd = -1; // write end of the signal pipe

void handleSignal(int)
{
    const char byte = 1;
    (void)!::write(gSignalFd, &byte, 1);
}

void printLine(const QString &line)
{
    std::fputs(line.toLocal8Bit().append('\n').constData(), stdout);
    std::fflush(stdout);
}

void printError(const QString &message)
{
    std::fputs(QStringLiteral("qmasque-proxy: error: %1\n").arg(message).toLocal8Bit().constData(),
               stderr);
    std::fflush(stderr);
}

void applyLogLevel(const QString &level)
{
    // Categories qmasque.*: everything at and above `level`; Qt's own at warning and above.
    const bool debug = level == u"debug";
    const bool info = debug || level == u"info";
    const bool warning = info || level == u"warning";
    QLoggingCategory::setFilterRules(QStringLiteral("qmasque.*.debug=%1\nqmasque.*.info=%2\n"
                                                    "qmasque.*.warning=%3\n")
                                         .arg(debug ? u"true" : u"false", info ? u"true" : u"false",
                                              warning ? u"true" : u"false"));
    qSetMessagePattern(QStringLiteral("%{time yyyy-MM-ddThh:mm:ss.zzz} "
                                      "%{if-debug}debug%{endif}%{if-info}info%{endif}"
                                      "%{if-warning}warning%{endif}%{if-critical}error%{endif}"
                                      "%{if-fatal}fatal%{endif} %{category}: %{message}"));
}

QString transportList(const qmasque::ProxyConfig &config, const qmasque::MasqueProxy::Endpoint &e)
{
    QStringList names;
    if (e.h3)
        names.append(QStringLiteral("h3"));
    if (e.tls && config.enableH2)
        names.append(QStringLiteral("h2"));
    if (e.tls && config.enableH1)
        names.append(QStringLiteral("h1"));
    return names.join(u',');
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("qmasque-proxy"));
    QCoreApplication::setApplicationVersion(QLatin1StringView(qmasque::kVersion));

    auto line = qmasque::ProxyCommandLine::parse(QCoreApplication::arguments());
    if (!line) {
        printError(line.error().detail + QStringLiteral(" (see --help)"));
        return 2;
    }
    if (line->action == qmasque::ProxyCommandLine::Action::Help) {
        std::fputs(line->helpText.toLocal8Bit().constData(), stdout);
        return 0;
    }
    if (line->action == qmasque::ProxyCommandLine::Action::Version) {
        printLine(QStringLiteral("qmasque-proxy ") + QLatin1StringView(qmasque::kVersion));
        return 0;
    }
    applyLogLevel(line->logLevel);

    // SIGTERM / SIGINT arrive through a socket pair, so the handler only writes a byte and the
    // event loop does the work.
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        printError(QStringLiteral("socketpair: %1").arg(QString::fromLocal8Bit(strerror(errno))));
        return 1;
    }
    gSignalFd = pair[1];
    struct sigaction action = {};
    action.sa_handler = handleSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    qmasque::MasqueProxy proxy(line->config);
    if (qmasque::Status started = proxy.start(); !started) {
        printError(started.error().toString());
        return 1;
    }

    printLine(QStringLiteral("pin-sha256=") + proxy.identity().pinBase64());
    for (const qmasque::MasqueProxy::Endpoint &endpoint : proxy.endpoints()) {
        printLine(QStringLiteral("listen=%1 transports=%2")
                      .arg(qmasque::formatEndpoint(endpoint.address, endpoint.port),
                           transportList(proxy.config(), endpoint)));
    }
    printLine(QStringLiteral("ready"));

    int signalCount = 0;
    QSocketNotifier notifier(pair[0], QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, &proxy, [&] {
        char byte = 0;
        (void)!::read(pair[0], &byte, 1);
        if (++signalCount == 1) {
            qCInfo(lcProxy) << "signal received: draining (again to stop at once)";
            proxy.goawayAndDrain();
        } else {
            proxy.stop();
        }
    });
    QObject::connect(&proxy, &qmasque::MasqueProxy::drained, &app,
                     [] { QCoreApplication::exit(0); });
    const int code = app.exec();
    ::close(pair[0]);
    ::close(pair[1]);
    return code;
}
