// The qmasque-proxy binary as a child process: the stdout contract (pin, bound port, ready),
// real tunnels over h2 and h3 with the printed pin, SIGTERM during open tunnels (GOAWAY, the
// tunnels finish, exit 0; or the drain deadline closes them), command-line errors (exit 2) and
// runtime failures (exit 1) with one error line, and curl as a client (classic CONNECT over
// HTTPS to a local HTTP server, byte-exact, with and without proxy credentials).

#include "support/H2TestUtil.h"
#include "support/H3TestPattern.h"
#include "support/ProxyProcess.h"
#include "support/ProxyTestClient.h"
#include "support/ProxyTestTargets.h"

#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

const QStringList kBaseArguments{QStringLiteral("--self-signed"), QStringLiteral("--listen"),
                                 QStringLiteral("127.0.0.1:0"), QStringLiteral("--allow"),
                                 QStringLiteral("127.0.0.0/8")};

// HttpFileServer: answers every HTTP/1.1 request with `body` and closes.
class HttpFileServer : public QObject
{
public:
    explicit HttpFileServer(QByteArray body)
        : m_body(std::move(body))
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                socket->setParent(this);
                connect(socket, &QTcpSocket::readyRead, this, [this, socket] {
                    m_head += socket->readAll();
                    if (!m_head.contains("\r\n\r\n"))
                        return;
                    socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                                  "Content-Length: " +
                                  QByteArray::number(m_body.size()) +
                                  "\r\nConnection: close\r\n\r\n");
                    socket->write(m_body);
                    socket->disconnectFromHost();
                    ++requests;
                });
            }
        });
    }
    bool start() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }
    int requests = 0;

private:
    QTcpServer m_server;
    QByteArray m_body;
    QByteArray m_head;
};

QStringList args(std::initializer_list<const char *> list)
{
    QStringList out;
    for (const char *item : list)
        out.append(QString::fromLatin1(item));
    return out;
}

// isOneErrorLine: the error output has exactly one line.
bool isOneErrorLine(const QByteArray &output)
{
    return output.startsWith("qmasque-proxy: error: ") && output.count('\n') == 1 &&
           output.endsWith('\n');
}

} // namespace

class TstProxyBinary : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<UdpEchoTarget> m_echo;

    // udpRoundTrip: a UDP tunnel through `transport` answers one datagram.
    bool udpRoundTrip(ProxyTestStream &stream, const QByteArray &payload)
    {
        const qsizetype before = stream.datagrams.size();
        if (!stream.sendDatagram(payload).ok())
            return false;
        return waitUntil([&] { return stream.datagrams.size() > before; }) &&
               stream.datagrams.last() == payload;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(QFile::exists(ProxyProcess::executable()), "build qmasque-proxy first");
        m_echo = std::make_unique<UdpEchoTarget>();
        QVERIFY(m_echo->start());
    }

    void servesTunnelsWithThePrintedPin()
    {
        ProxyProcess proxy;
        QVERIFY2(proxy.start(kBaseArguments), qPrintable(proxy.error()));
        QCOMPARE(proxy.transports(), args({"h3", "h2", "h1"}));
        const QString authority = QStringLiteral("127.0.0.1:%1").arg(proxy.port());
        for (TransportKind kind : {TransportKind::H2, TransportKind::H3}) {
            Error error;
            Transport *transport = connectTransport(kind, proxy.clientOptions(), this, &error);
            QVERIFY2(transport, qPrintable(error.toString()));
            ProxyTestStream stream(transport, true);
            QVERIFY(stream.open(udpRequest(authority, QStringLiteral("127.0.0.1"), m_echo->port()))
                        .ok());
            QVERIFY(stream.waitForResponse() && stream.isSuccess());
            QVERIFY(udpRoundTrip(stream, "through the binary"));
            QVERIFY(transport->endStream(stream.id).ok());
            QVERIFY(waitUntil([&] { return stream.fin; }));
            delete transport;
        }
        // A wrong pin is refused by the client.
        ConnectOptions wrong = proxy.clientOptions();
        wrong.tls.pinsSha256 = {QByteArray(32, 'x')};
        Error error;
        QVERIFY(!connectTransport(TransportKind::H2, wrong, this, &error));
        QCOMPARE(error.code, ErrorCode::TlsPinMismatch);

        proxy.terminate();
        QVERIFY2(proxy.waitForExit(15000) == 0, qPrintable(proxy.exitReport()));
        // The structured log: one open and one close line per tunnel.
        const QByteArray log = proxy.standardError();
        QCOMPARE(log.count("tunnel-open "), 2);
        QCOMPARE(log.count("tunnel-close "), 2);
        QVERIFY(log.contains("transport=h3 protocol=udp"));
        QVERIFY(log.contains("reason=peer_fin"));
    }

    void sigtermDrainsOpenTunnels()
    {
        ProxyProcess proxy;
        QVERIFY2(proxy.start(kBaseArguments), qPrintable(proxy.error()));
        const QString authority = QStringLiteral("127.0.0.1:%1").arg(proxy.port());
        Error error;
        Transport *h2 = connectTransport(TransportKind::H2, proxy.clientOptions(), this, &error);
        QVERIFY2(h2, qPrintable(error.toString()));
        Transport *h3 = connectTransport(TransportKind::H3, proxy.clientOptions(), this, &error);
        QVERIFY2(h3, qPrintable(error.toString()));
        ProxyTestStream overH2(h2, true);
        ProxyTestStream overH3(h3, true);
        for (ProxyTestStream *stream : {&overH2, &overH3}) {
            QVERIFY(stream->open(udpRequest(authority, QStringLiteral("127.0.0.1"), m_echo->port()))
                        .ok());
            QVERIFY(stream->waitForResponse() && stream->isSuccess());
        }
        QSignalSpy goawayH2(h2, &HttpConnection::goawayReceived);
        QSignalSpy goawayH3(h3, &HttpConnection::goawayReceived);

        proxy.terminate();
        QVERIFY(waitUntil([&] { return !goawayH2.isEmpty() && !goawayH3.isEmpty(); }));
        // Draining: open tunnels still work; new requests are refused.
        QVERIFY(udpRoundTrip(overH2, "during the drain"));
        QVERIFY(udpRoundTrip(overH3, "during the drain"));
        QCOMPARE(
            h2->submitRequest(udpRequest(authority, QStringLiteral("127.0.0.1"), 9)).error().code,
            ErrorCode::Goaway);
        QCOMPARE(proxy.process().state(), QProcess::Running);

        // The tunnels end: the connections close and the proxy exits cleanly.
        QVERIFY(h2->endStream(overH2.id).ok());
        QVERIFY(h3->endStream(overH3.id).ok());
        QSignalSpy closedH2(h2, &HttpConnection::closed);
        QSignalSpy closedH3(h3, &HttpConnection::closed);
        QVERIFY(waitUntil([&] { return proxy.process().state() == QProcess::NotRunning; }, 15000));
        QVERIFY2(proxy.waitForExit(1000) == 0, qPrintable(proxy.exitReport()));
        QVERIFY(waitUntil([&] { return !closedH2.isEmpty() && !closedH3.isEmpty(); }, 15000));
        delete h2;
        delete h3;
    }

    void drainDeadlineClosesTheRest()
    {
        ProxyProcess proxy;
        QVERIFY2(proxy.start(QStringList(kBaseArguments)
                             << QStringLiteral("--drain-timeout-ms") << QStringLiteral("300")),
                 qPrintable(proxy.error()));
        Error error;
        Transport *h2 = connectTransport(TransportKind::H2, proxy.clientOptions(), this, &error);
        QVERIFY2(h2, qPrintable(error.toString()));
        ProxyTestStream stream(h2, true);
        QVERIFY(stream
                    .open(udpRequest(QStringLiteral("127.0.0.1:%1").arg(proxy.port()),
                                     QStringLiteral("127.0.0.1"), m_echo->port()))
                    .ok());
        QVERIFY(stream.waitForResponse() && stream.isSuccess());
        QSignalSpy closed(h2, &HttpConnection::closed);
        proxy.terminate();
        QVERIFY2(proxy.waitForExit(15000) == 0, qPrintable(proxy.exitReport()));
        QVERIFY(waitUntil([&] { return !closed.isEmpty() || stream.reset; }, 15000));
        QVERIFY(proxy.standardError().contains("reason=shutdown"));
        delete h2;
    }

    void commandLineErrors_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::newRow("unknown flag") << args({"--bogus"});
        QTest::newRow("bad listen") << args({"--self-signed", "--listen", "localhost"});
        QTest::newRow("bad transport") << args({"--self-signed", "--transports", "h4"});
        QTest::newRow("bad auth") << args({"--self-signed", "--auth", "digest:x"});
        QTest::newRow("bad allow") << args({"--self-signed", "--allow", "10.0.0.1/8"});
        QTest::newRow("no identity") << args({"--listen", "127.0.0.1:0"});
        QTest::newRow("cert without key") << args({"--cert", "/nonexistent.pem"});
        QTest::newRow("stray argument") << args({"--self-signed", "extra"});
        QTest::newRow("bad number") << args({"--self-signed", "--max-tunnels-per-connection", "0"});
    }
    void commandLineErrors()
    {
        QFETCH(QStringList, arguments);
        ProxyProcess proxy;
        QCOMPARE(proxy.run(arguments), 2);
        const QByteArray output = proxy.standardError();
        QVERIFY2(isOneErrorLine(output), output.constData());
        QVERIFY(proxy.standardOutput().isEmpty());
    }

    void runtimeErrors()
    {
        // Port in use (TCP): exit 1 with one line.
        QTcpServer occupied;
        QVERIFY(occupied.listen(QHostAddress::LocalHost, 0));
        ProxyProcess proxy;
        QCOMPARE(proxy.run(args({"--self-signed", "--listen"})
                           << QStringLiteral("127.0.0.1:%1").arg(occupied.serverPort())),
                 1);
        QByteArray output = proxy.standardError();
        QVERIFY2(isOneErrorLine(output), output.constData());
        QVERIFY(output.contains("address_in_use"));

        // An unreadable certificate: exit 1.
        ProxyProcess missing;
        QCOMPARE(missing.run(args({"--cert", "/nonexistent/cert.pem", "--key",
                                   "/nonexistent/key.pem", "--listen", "127.0.0.1:0"})),
                 1);
        output = missing.standardError();
        QVERIFY2(isOneErrorLine(output), output.constData());
        QVERIFY(output.contains("invalid_config"));
    }

    void tunWithoutPrivilege()
    {
        // In a user namespace without its own network namespace, CAP_NET_ADMIN does not
        // reach the host's interfaces: TUNSETIFF fails as it does for an unprivileged user.
        const QString unshare = QStandardPaths::findExecutable(QStringLiteral("unshare"));
        if (unshare.isEmpty())
            QSKIP("unshare is not installed");
        ProxyProcess proxy({unshare, QStringLiteral("--user")});
        const int code =
            proxy.run(args({"--self-signed", "--listen", "127.0.0.1:0", "--tun", "qmtest0"}));
        if (code == -1 || proxy.standardError().contains("unshare:"))
            QSKIP("user namespaces are not available");
        QCOMPARE(code, 1);
        const QByteArray output = proxy.standardError();
        QVERIFY2(isOneErrorLine(output), output.constData());
        QVERIFY(output.contains("CAP_NET_ADMIN"));
    }

    void curlClassicConnect()
    {
        const QString curl = QStandardPaths::findExecutable(QStringLiteral("curl"));
        if (curl.isEmpty())
            QSKIP("curl is not installed");
        const QByteArray body = H3TestPattern::chunk(0, 3 * 1024 * 1024 + 17);
        HttpFileServer http(body);
        QVERIFY(http.start());
        ProxyProcess proxy;
        QVERIFY2(proxy.start(QStringList(kBaseArguments)
                             << QStringLiteral("--auth") << QStringLiteral("basic:alice:s3cret")),
                 qPrintable(proxy.error()));
        QTemporaryDir directory;
        QVERIFY(directory.isValid());

        const auto runCurl = [&](const QStringList &extra, const QString &output) {
            QProcess process;
            QStringList arguments{QStringLiteral("-sS"),
                                  QStringLiteral("-p"),
                                  QStringLiteral("--proxy"),
                                  QStringLiteral("https://127.0.0.1:%1").arg(proxy.port()),
                                  QStringLiteral("--proxy-insecure"),
                                  QStringLiteral("--proxy-pinnedpubkey"),
                                  QStringLiteral("sha256//") +
                                      QString::fromLatin1(proxy.pin().toBase64()),
                                  QStringLiteral("-o"),
                                  output,
                                  QStringLiteral("http://127.0.0.1:%1/file").arg(http.port())};
            arguments.append(extra);
            process.start(curl, arguments);
            // The HTTP server runs in this process: keep the event loop going.
            waitUntil([&] { return process.state() == QProcess::NotRunning; }, 30000);
            return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        };

        // Without credentials: CONNECT refused with 407 (curl's code 56).
        QCOMPARE(runCurl({}, directory.filePath(QStringLiteral("refused"))), 56);
        QCOMPARE(http.requests, 0);

        const QString file = directory.filePath(QStringLiteral("download"));
        QCOMPARE(runCurl({QStringLiteral("--proxy-user"), QStringLiteral("alice:s3cret")}, file),
                 0);
        QFile downloaded(file);
        QVERIFY(downloaded.open(QIODevice::ReadOnly));
        QVERIFY(downloaded.readAll() == body);
        QCOMPARE(http.requests, 1);
        proxy.terminate();
        QVERIFY2(proxy.waitForExit(15000) == 0, qPrintable(proxy.exitReport()));
        QVERIFY(proxy.standardError().contains("transport=h1 protocol=tcp"));
    }
};

QTEST_MAIN(TstProxyBinary)
#include "tst_proxy_binary.moc"
