// qmasque: the MASQUE tunnel client (dashboard, or headless with --headless).

#include "api/Version.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("qmasque"));
    QCoreApplication::setApplicationVersion(QLatin1StringView(qmasque::kVersion));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("MASQUE tunnel client: SOCKS5, HTTP proxy, port forwards and TUN over "
                       "CONNECT, CONNECT-UDP and CONNECT-IP (HTTP/3, HTTP/2, HTTP/1.1)."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.process(app);
    return 0;
}
