// The HTTP/3 server side and what happens around a connection: a server killed mid-transfer,
// stateless reset after a restart, Retry address validation, Version Negotiation, listener
// shutdown.

#include "support/H3ServerProcess.h"
#include "support/H3TestClient.h"
#include "support/H3TestServer.h"
#include "support/TestPki.h"
#include "transport/h3/H3ServerConnection.h"
#include "transport/h3/H3Transport.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QFileInfo>
#include <QtNetwork/QNetworkDatagram>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

Request streamTo(const QByteArray &path)
{
    Request request;
    request.protocol = "connect-udp";
    request.authority = "localhost";
    request.path = path;
    return request;
}

} // namespace

class TstH3Server : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<qmasque::Error>();
        QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
    }

    void killedMidTransfer()
    {
        QVERIFY2(QFileInfo::exists(H3ServerProcess::executable()),
                 qPrintable(H3ServerProcess::executable()));
        H3ServerProcess server;
        QVERIFY2(server.start(QStringLiteral("127.0.0.1")), qPrintable(server.error()));
        ConnectOptions options = h3ClientOptions(server.port());
        options.idleTimeoutMs = 3000;
        Error error;
        std::unique_ptr<H3Transport> client(connectH3(options, nullptr, &error));
        QVERIFY2(client, qPrintable(error.toString()));

        H3RecordingHandler handler(client.get());
        handler.keepData = false;
        handler.verifyPattern = true;
        const auto id = client->submitRequest(streamTo("/source/1073741824")); // 1 GiB
        QVERIFY(id);
        handler.id = *id;
        QVERIFY(client->setStreamHandler(*id, &handler));
        QTRY_VERIFY_WITH_TIMEOUT(handler.received > 4 * 1024 * 1024, 20000);
        QSignalSpy closed(client.get(), &HttpConnection::closed);

        QElapsedTimer clock;
        clock.start();
        server.kill();
        // No CONNECTION_CLOSE will come: ICMP port unreachable (loopback reports it) or the
        // idle timeout ends the connection with a typed error.
        QVERIFY(closed.wait(options.idleTimeoutMs + 5000));
        const Error reason = closed.first().first().value<Error>();
        qInfo("killed server detected after %lld ms: %s", clock.elapsed(),
              qPrintable(reason.toString()));
        QVERIFY2(reason.code == ErrorCode::ConnectionRefused ||
                     reason.code == ErrorCode::IdleTimeout,
                 qPrintable(reason.toString()));
        QVERIFY(clock.elapsed() <= options.idleTimeoutMs + 2000);
        QVERIFY(handler.intact);
        QVERIFY(!handler.fin);
        QCOMPARE(client->state(), HttpConnection::State::Closed);
    }

    void statelessResetAfterRestart()
    {
        const QByteArray secret =
            QByteArray::fromHex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
        auto first = std::make_unique<H3ServerProcess>();
        QVERIFY2(first->start(QStringLiteral("127.0.0.1"), 0, secret), qPrintable(first->error()));
        const quint16 port = first->port();
        Error error;
        std::unique_ptr<H3Transport> client(connectH3(h3ClientOptions(port), nullptr, &error));
        QVERIFY2(client, qPrintable(error.toString()));
        H3RecordingHandler handler(client.get());
        const auto id = client->submitRequest(streamTo("/echo"));
        QVERIFY(id);
        handler.id = *id;
        QVERIFY(client->setStreamHandler(*id, &handler));
        QVERIFY(client->sendStreamData(*id, "before"));
        QTRY_COMPARE(handler.data, QByteArray("before"));

        // The server dies with all its state, and comes back on the same port and secret.
        first->kill();
        H3TestServer restarted;
        restarted.listener()->setStaticSecret(secret);
        QVERIFY(restarted.listen(QHostAddress::LocalHost, port));
        QSignalSpy closed(client.get(), &HttpConnection::closed);
        QVERIFY(client->sendStreamData(*id, "after"));
        QVERIFY(closed.wait(5000));
        QCOMPARE(closed.first().first().value<Error>().code, ErrorCode::StatelessReset);
        QVERIFY(restarted.listener()->statelessCounters().statelessResets >= 1);
    }

    void retry()
    {
        ServerOptions options = H3TestServer::defaultOptions();
        options.quicRetry = true;
        H3TestServer server(options);
        QVERIFY(server.listen(QHostAddress::LocalHost));
        Error error;
        std::unique_ptr<H3Transport> client(
            connectH3(h3ClientOptions(server.port()), nullptr, &error));
        QVERIFY2(client, qPrintable(error.toString()));
        QCOMPARE(server.listener()->statelessCounters().retries, quint64(1));
        H3RecordingHandler handler(client.get());
        const auto id = client->submitRequest(streamTo("/echo"));
        QVERIFY(id);
        handler.id = *id;
        QVERIFY(client->setStreamHandler(*id, &handler));
        QVERIFY(client->sendStreamData(*id, "validated"));
        QTRY_COMPARE(handler.data, QByteArray("validated"));
    }

    void forgedRetryTokenRefused()
    {
        ServerOptions options = H3TestServer::defaultOptions();
        options.quicRetry = true;
        H3TestServer server(options);
        QVERIFY(server.listen(QHostAddress::LocalHost));
        // An Initial (v1, long header) carrying a token that claims to be a Retry token but was
        // not made by this server.
        QByteArray packet(1200, '\0');
        int at = 0;
        packet[at++] = char(0xc0);  // long header, Initial
        for (char c : {0, 0, 0, 1}) // version 1
            packet[at++] = c;
        packet[at++] = 8; // DCID length
        for (int i = 0; i < 8; ++i)
            packet[at++] = char(0x10 + i);
        packet[at++] = 8; // SCID length
        for (int i = 0; i < 8; ++i)
            packet[at++] = char(0x20 + i);
        packet[at++] = 40;         // token length
        packet[at++] = char(0xb6); // Retry token magic
        at += 39;
        const int remaining = 1200 - (at + 2);        // packet number + payload
        packet[at++] = char(0x40 | (remaining >> 8)); // length (2-byte varint)
        packet[at++] = char(remaining & 0xff);
        QUdpSocket socket;
        QVERIFY(socket.bind(QHostAddress::LocalHost, 0));
        QCOMPARE(socket.writeDatagram(packet, QHostAddress::LocalHost, server.port()),
                 qint64(packet.size()));
        // RFC 9000, 8.1.3: closed with INVALID_TOKEN, and no connection state kept.
        QTRY_COMPARE(server.listener()->statelessCounters().invalidTokens, quint64(1));
        QTRY_VERIFY(socket.hasPendingDatagrams());
        QCOMPARE(server.listener()->connectionCount(), 0);
    }

    void versionNegotiation()
    {
        H3TestServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        QByteArray packet(1200, '\0');
        packet[0] = char(0xc0);
        packet[1] = 0x1a; // reserved version 0x1a2b3c4d: unknown to every server
        packet[2] = 0x2b;
        packet[3] = 0x3c;
        packet[4] = 0x4d;
        packet[5] = 8;
        for (int i = 0; i < 8; ++i)
            packet[6 + i] = char(0x30 + i);
        packet[14] = 4;
        for (int i = 0; i < 4; ++i)
            packet[15 + i] = char(0x40 + i);
        QUdpSocket socket;
        QVERIFY(socket.bind(QHostAddress::LocalHost, 0));
        QVERIFY(socket.writeDatagram(packet, QHostAddress::LocalHost, server.port()) > 0);
        QTRY_VERIFY(socket.hasPendingDatagrams());
        const QByteArray answer = socket.receiveDatagram().data();
        QVERIFY(answer.size() >= 7);
        QVERIFY(quint8(answer[0]) & 0x80);
        QCOMPARE(answer.mid(1, 4), QByteArray(4, '\0')); // Version Negotiation
        // The connection ids come back swapped; the versions offered include QUIC v1.
        QCOMPARE(quint8(answer[5]), quint8(4));
        QCOMPARE(answer.mid(6, 4), packet.mid(15, 4));
        QVERIFY(answer.mid(19).contains(QByteArray::fromHex("00000001")));
        QCOMPARE(server.listener()->statelessCounters().versionNegotiations, quint64(1));

        // A short packet of an unknown version gets no answer (no amplification).
        QVERIFY(socket.writeDatagram(packet.left(100), QHostAddress::LocalHost, server.port()) > 0);
        QVERIFY(!socket.waitForReadyRead(200));
    }

    void listenerClose()
    {
        H3TestServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        Error error;
        std::unique_ptr<H3Transport> client(
            connectH3(h3ClientOptions(server.port()), nullptr, &error));
        QVERIFY2(client, qPrintable(error.toString()));
        QTRY_COMPARE(server.connectionCount(), 1);
        QSignalSpy closed(client.get(), &HttpConnection::closed);
        server.listener()->close();
        QVERIFY(closed.wait(5000));
        QCOMPARE(closed.first().first().value<Error>().code, ErrorCode::ConnectionClosed);
        // The listener deletes the closed connection after its closing period.
        QTRY_COMPARE_WITH_TIMEOUT(server.listener()->connectionCount(), 0, 5000);

        QCOMPARE(H3ServerListener(H3TestServer::defaultOptions())
                     .listen(QHostAddress::LocalHost, server.port())
                     .error()
                     .code,
                 ErrorCode::AddressInUse);
        ServerOptions broken = H3TestServer::defaultOptions();
        broken.tls.certificateFile = QStringLiteral("/nonexistent.pem");
        QCOMPARE(H3ServerListener(broken).listen(QHostAddress::LocalHost, 0).error().code,
                 ErrorCode::InvalidConfig);
    }
};

QTEST_GUILESS_MAIN(TstH3Server)
#include "tst_h3_server.moc"
