// h3_test_server: H3TestServer in a process of its own, so tests can kill it mid-transfer or run
// it inside a network namespace. Prints "LISTENING <port>" on stdout once bound; runs until
// killed.
//
//   h3_test_server --cert FILE --key FILE [--address ADDR] [--port N] [--secret HEX]

#include "support/H3TestServer.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>

#include <cstdio>

using namespace qmasque;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    const QCommandLineOption cert(QStringLiteral("cert"), QStringLiteral("PEM chain"),
                                  QStringLiteral("file"));
    const QCommandLineOption key(QStringLiteral("key"), QStringLiteral("PEM key"),
                                 QStringLiteral("file"));
    const QCommandLineOption address(QStringLiteral("address"), QStringLiteral("bind address"),
                                     QStringLiteral("addr"), QStringLiteral("127.0.0.1"));
    const QCommandLineOption port(QStringLiteral("port"), QStringLiteral("UDP port"),
                                  QStringLiteral("n"), QStringLiteral("0"));
    const QCommandLineOption secret(QStringLiteral("secret"),
                                    QStringLiteral("static secret (hex, 32+ bytes)"),
                                    QStringLiteral("hex"));
    parser.addOptions({cert, key, address, port, secret});
    parser.process(app);

    ServerOptions options;
    options.tls.certificateFile = parser.value(cert);
    options.tls.privateKeyFile = parser.value(key);
    test::H3TestServer server(options);
    if (parser.isSet(secret))
        server.listener()->setStaticSecret(QByteArray::fromHex(parser.value(secret).toLatin1()));
    const Status listening =
        server.listen(QHostAddress(parser.value(address)), quint16(parser.value(port).toUInt()));
    if (!listening) {
        std::fprintf(stderr, "listen failed: %s\n", qPrintable(listening.error().toString()));
        return 1;
    }
    std::printf("LISTENING %u\n", unsigned(server.port()));
    std::fflush(stdout);
    return app.exec();
}
