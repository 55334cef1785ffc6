// HTTP/2 flow control end to end: 64 MiB each way on one stream over real TLS, with both
// receivers stalling until the sender is stopped by the window, then resuming. Byte-exact.

#include "support/H2PatternStream.h"
#include "support/H2TestUtil.h"
#include "support/TestPki.h"
#include "support/TlsTestServer.h"
#include "transport/h2/H2Transport.h"
#include "transport/tls/TlsServerListener.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

class TestH2FlowControl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void bulkBothWaysWithStall()
    {
        QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
        constexpr qint64 kTotal = 64 * 1024 * 1024;
        const ServerOptions serverOptions = TlsTestServer::serverOptions();
        const qint64 window = serverOptions.streamReceiveWindow;  // 16 MiB, the same on both ends
        const qint64 sendBuffer = serverOptions.streamSendBuffer; // 1 MiB

        TlsServerListener listener(serverOptions);
        std::unique_ptr<H2PatternStream> serverEnd;
        connect(&listener, &ServerListener::newConnection, this, [&](ServerConnection *connection) {
            connect(connection, &ServerConnection::requestReceived, this,
                    [&, connection](StreamId id, const IncomingRequest &) {
                        serverEnd = std::make_unique<H2PatternStream>(connection, id, 2, 1, kTotal);
                        serverEnd->setStalled(true);
                        QVERIFY(connection->submitResponse(id, Response{200, {}}, false).ok());
                        QVERIFY(serverEnd->start());
                    });
        });
        QVERIFY(listener.listen(QHostAddress::LocalHost, 0).ok());

        H2Transport client;
        ConnectOptions options;
        options.host = QStringLiteral("127.0.0.1");
        options.port = listener.serverPort();
        options.tls.useSystemTrust = false;
        options.tls.caFile = TestPki::instance().caCert;
        QSignalSpy connected(&client, &HttpConnection::connected);
        client.connectToProxy(options);
        QVERIFY(connected.wait());
        QCOMPARE(qint64(options.streamReceiveWindow), window);

        Request request;
        request.authority = "192.0.2.9:9";
        auto id = client.submitRequest(request);
        QVERIFY(id.ok());
        H2PatternStream clientEnd(&client, *id, 1, 2, kTotal);
        clientEnd.setStalled(true);
        QVERIFY(clientEnd.start());

        // Both receivers hold back every byte: each sender must stop with exactly one stream
        // window delivered and no more than its send buffer accepted on top.
        QVERIFY(waitUntil(
            [&] {
                return serverEnd && serverEnd->received() == window &&
                       clientEnd.received() == window && clientEnd.sendBlocked() &&
                       serverEnd->sendBlocked();
            },
            30000));
        QVERIFY(clientEnd.patternError.isEmpty());
        QVERIFY(serverEnd->patternError.isEmpty());
        QCOMPARE(serverEnd->unconsumed(), window);
        QCOMPARE(clientEnd.unconsumed(), window);
        QVERIFY(clientEnd.accepted() - serverEnd->received() <= sendBuffer);
        QVERIFY(serverEnd->accepted() - clientEnd.received() <= sendBuffer);
        QVERIFY(clientEnd.accepted() <= window + sendBuffer);
        QVERIFY(serverEnd->accepted() <= window + sendBuffer);
        // A full send buffer drops datagrams (unreliable), counted; the stream is unharmed.
        QCOMPARE(client.sendDatagram(*id, QByteArray("\x00udp", 4)).error().code,
                 ErrorCode::QueueFull);
        QCOMPARE(client.stats().datagramDrops.queueFull, 1u);

        // Resume; everything arrives, in order, and the backlog never exceeded the window.
        clientEnd.setStalled(false);
        serverEnd->setStalled(false);
        QVERIFY(waitUntil(
            [&] {
                return clientEnd.finReceived() && serverEnd->finReceived() &&
                       clientEnd.sendDone() && serverEnd->sendDone();
            },
            120000));
        QVERIFY2(clientEnd.patternError.isEmpty(), qPrintable(clientEnd.patternError));
        QVERIFY2(serverEnd->patternError.isEmpty(), qPrintable(serverEnd->patternError));
        QVERIFY2(clientEnd.resetReason.isEmpty(), qPrintable(clientEnd.resetReason));
        QCOMPARE(clientEnd.received(), kTotal);
        QCOMPARE(serverEnd->received(), kTotal);
        QCOMPARE(clientEnd.maxUnconsumed(), window);
        QCOMPARE(serverEnd->maxUnconsumed(), window);
        const TransportStats stats = client.stats();
        QVERIFY(stats.bytesSent > quint64(kTotal));
        QVERIFY(stats.bytesReceived > quint64(kTotal));
        QVERIFY(waitUntil([&] { return client.openStreamCount() == 0; }));
    }
};

QTEST_GUILESS_MAIN(TestH2FlowControl)
#include "tst_h2_flowcontrol.moc"
