// qmasque-proxy: the MASQUE proxy (CONNECT, CONNECT-UDP, CONNECT-IP over h3, h2 and h1).

#include "api/Version.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("qmasque-proxy"));
    QCoreApplication::setApplicationVersion(QLatin1StringView(qmasque::kVersion));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("MASQUE proxy serving CONNECT, CONNECT-UDP and CONNECT-IP tunnels over "
                       "HTTP/3, HTTP/2 and HTTP/1.1."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.process(app);
    return 0;
}
