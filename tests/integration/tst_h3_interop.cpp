// Interoperability with independent HTTP/3 implementations from Debian's ngtcp2 examples: our
// client fetches a file from gtlsserver, gtlsclient fetches one from our server.

#include "support/H3TestClient.h"
#include "support/H3TestServer.h"
#include "support/TestPki.h"
#include "transport/h3/H3Transport.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QScopeGuard>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

QString findTool(const QString &name)
{
    QString path = QStandardPaths::findExecutable(name);
    if (path.isEmpty())
        path = QStandardPaths::findExecutable(
            name, {QStringLiteral("/usr/sbin"), QStringLiteral("/usr/bin")});
    return path;
}

// freeUdpPort: a port that was free a moment ago (the caller retries on a collision).
quint16 freeUdpPort()
{
    QUdpSocket probe;
    if (!probe.bind(QHostAddress::LocalHost, 0))
        return 0;
    return probe.localPort();
}

} // namespace

class TstH3Interop : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    // startGtlsServer: gtlsserver serving `root` on a free port; retries when the port was
    // taken in between.
    bool startGtlsServer(QProcess &process, const QString &root, quint16 *port)
    {
        const QString server = findTool(QStringLiteral("gtlsserver"));
        if (server.isEmpty())
            return false;
        const TestPki &pki = TestPki::instance();
        for (int attempt = 0; attempt < 5; ++attempt) {
            *port = freeUdpPort();
            process.start(server, {QStringLiteral("-q"), QStringLiteral("-d"), root,
                                   QStringLiteral("127.0.0.1"), QString::number(*port),
                                   pki.serverKey, pki.serverCert});
            if (!process.waitForStarted(5000))
                return false;
            // It either keeps running (bound) or exits at once (port taken).
            if (!process.waitForFinished(300))
                return true;
        }
        return false;
    }

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<qmasque::Error>();
        QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
        QVERIFY(m_dir.isValid());
    }

    void clientAgainstGtlsServer()
    {
        if (findTool(QStringLiteral("gtlsserver")).isEmpty())
            QSKIP("gtlsserver (Debian's ngtcp2 examples) is not installed");
        const QString root = m_dir.filePath(QStringLiteral("htdocs"));
        QVERIFY(QDir().mkpath(root));
        const QByteArray body = H3TestServer::fileBody() + QByteArray(12345, 'z');
        QFile file(root + QStringLiteral("/file.bin"));
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(body), body.size());
        file.close();

        QProcess server;
        const auto stopServer = qScopeGuard([&server] {
            server.kill();
            server.waitForFinished(5000);
        });
        quint16 port = 0;
        QVERIFY2(startGtlsServer(server, root, &port),
                 qPrintable(QString::fromLocal8Bit(server.readAllStandardError())));
        Error error;
        std::unique_ptr<H3Transport> client(connectH3(h3ClientOptions(port), nullptr, &error));
        QVERIFY2(client, qPrintable(error.toString()));
        QCOMPARE(client->stats().alpn, QStringLiteral("h3"));

        // A plain GET: gtlsserver serves files, not tunnels.
        Request get;
        get.method = "GET";
        get.protocol.clear();
        get.scheme = "https";
        get.authority = "localhost:" + QByteArray::number(port);
        get.path = "/file.bin";
        get.endStream = true;
        H3RecordingHandler handler(client.get());
        const auto id = client->submitRequest(get);
        QVERIFY2(id, qPrintable(id ? QString() : id.error().toString()));
        handler.id = *id;
        QVERIFY(client->setStreamHandler(*id, &handler));
        QTRY_VERIFY_WITH_TIMEOUT(handler.fin || handler.reset, 15000);
        QVERIFY(!handler.reset);
        QVERIFY(handler.response.has_value());
        QCOMPARE(handler.response->status, 200);
        QCOMPARE(handler.data.size(), body.size());
        QVERIFY(handler.data == body);

        // gtlsserver announces neither extended CONNECT nor HTTP datagrams.
        const PeerSettings settings = client->peerSettings();
        QVERIFY(settings.received);
        QVERIFY(!settings.extendedConnect);
        QVERIFY(!settings.h3Datagram);
        Request tunnel;
        tunnel.protocol = "connect-udp";
        tunnel.authority = "localhost";
        tunnel.path = "/masque";
        QCOMPARE(client->submitRequest(tunnel).error().code, ErrorCode::NoExtendedConnect);
        QCOMPARE(client->maxDatagramPayload(*id), 0);
        QCOMPARE(client->sendDatagram(*id, "x").error().code, ErrorCode::NoH3Datagram);
        QCOMPARE(client->stats().datagramDrops.notNegotiated, quint64(1));
    }

    void gtlsClientAgainstServer()
    {
        const QString tool = findTool(QStringLiteral("gtlsclient"));
        if (tool.isEmpty())
            QSKIP("gtlsclient (Debian's ngtcp2 examples) is not installed");
        H3TestServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        const QString downloads = m_dir.filePath(QStringLiteral("downloads"));
        QVERIFY(QDir().mkpath(downloads));
        const QString port = QString::number(server.port());
        QProcess client;
        client.start(tool,
                     {QStringLiteral("-q"), QStringLiteral("--exit-on-all-streams-close"),
                      QStringLiteral("--download"), downloads, QStringLiteral("127.0.0.1"), port,
                      QStringLiteral("https://localhost:") + port + QStringLiteral("/file")});
        QVERIFY(client.waitForStarted(5000));
        // gtlsclient runs in its own process: wait for it while our event loop serves it.
        QTRY_VERIFY_WITH_TIMEOUT(client.state() == QProcess::NotRunning, 30000);
        QCOMPARE(client.exitStatus(), QProcess::NormalExit);
        QVERIFY2(client.exitCode() == 0,
                 qPrintable(QString::fromLocal8Bit(client.readAllStandardError())));
        QFile fetched(downloads + QStringLiteral("/file"));
        QVERIFY(fetched.open(QIODevice::ReadOnly));
        QVERIFY(fetched.readAll() == H3TestServer::fileBody());
        QCOMPARE(server.connectionCount(), 1);
    }
};

QTEST_GUILESS_MAIN(TstH3Interop)
#include "tst_h3_interop.moc"
