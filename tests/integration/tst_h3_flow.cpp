// Consumption-based flow control and send backpressure over HTTP/3: 64 MiB each way, byte
// exact, while the receiver stalls (the sender must stop at window + send buffer) and resumes.

#include "support/H3TestClient.h"
#include "support/H3TestServer.h"
#include "support/TestPki.h"
#include "transport/h3/H3Transport.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

constexpr qint64 kTotal = 64 * 1024 * 1024;
constexpr qint64 kWindow = 16 * 1024 * 1024; // ConnectOptions / ServerOptions default
constexpr qint64 kSendBuffer = 1024 * 1024;  // streamSendBuffer default
constexpr qint64 kHandOut = 64 * 1024;       // what nghttp3 may hold beyond "unsent"
// HTTP/3 frame headers share the stream window; their credit is returned at once but only
// announced (MAX_STREAM_DATA) once it is worth a frame, so the payload stops a little short.
constexpr qint64 kFraming = 64 * 1024;

Request streamTo(const QByteArray &path)
{
    Request request;
    request.protocol = "connect-tcp";
    request.authority = "localhost";
    request.path = path;
    return request;
}

} // namespace

class TstH3Flow : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<H3TestServer> m_server;
    std::unique_ptr<H3Transport> m_client;

    bool start()
    {
        m_server = std::make_unique<H3TestServer>();
        if (!m_server->listen(QHostAddress::LocalHost))
            return false;
        Error error;
        m_client.reset(connectH3(h3ClientOptions(m_server->port()), nullptr, &error));
        return m_client != nullptr;
    }

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<qmasque::Error>();
        QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
    }

    void cleanup()
    {
        m_client.reset();
        m_server.reset();
    }

    void uploadWithStalledReceiver()
    {
        QVERIFY(start());
        m_server->setSinkStalled(true);
        H3RecordingHandler handler(m_client.get());
        const auto id = m_client->submitRequest(streamTo("/sink"));
        QVERIFY(id);
        handler.id = *id;
        QVERIFY(m_client->setStreamHandler(*id, &handler));
        QTRY_VERIFY(handler.response.has_value());
        QCOMPARE(handler.response->status, 200);

        handler.startUpload(kTotal);
        // The server consumes nothing: its stream window fills and the sender must stop.
        QTRY_VERIFY_WITH_TIMEOUT(
            m_server->sinkBytes() >= kWindow - kFraming && handler.uploadBlocked, 30000);
        QVERIFY(m_server->sinkBytes() <= kWindow); // flow control held
        QVERIFY2(handler.uploadAccepted <= kWindow + kSendBuffer + kHandOut,
                 qPrintable(QString::number(handler.uploadAccepted)));
        QCOMPARE(m_server->sinkUnconsumed(), m_server->sinkBytes());
        QVERIFY(m_server->sinkIntact());
        const TransportStats stalled = m_client->stats();
        QVERIFY(stalled.bytesSent >= quint64(kWindow));

        m_server->setSinkStalled(false);
        QTRY_VERIFY_WITH_TIMEOUT(m_server->sinkFinished(), 60000);
        QCOMPARE(handler.uploadAccepted, kTotal);
        QCOMPARE(m_server->sinkBytes(), kTotal);
        QVERIFY(m_server->sinkIntact());
        QTRY_VERIFY(handler.fin);
        QTRY_COMPARE(m_client->openStreamCount(), 0);
        QVERIFY(m_client->stats().bytesSent > quint64(kTotal));
    }

    void downloadWithStalledReceiver()
    {
        QVERIFY(start());
        H3RecordingHandler handler(m_client.get());
        handler.keepData = false;
        handler.verifyPattern = true;
        handler.autoConsume = false;
        const auto id = m_client->submitRequest(streamTo("/source/" + QByteArray::number(kTotal)));
        QVERIFY(id);
        handler.id = *id;
        QVERIFY(m_client->setStreamHandler(*id, &handler));

        QTRY_VERIFY_WITH_TIMEOUT(
            handler.received >= kWindow - kFraming && m_server->sourceBlocked(), 30000);
        QVERIFY(handler.received <= kWindow);
        QVERIFY2(m_server->sourceAccepted() <= kWindow + kSendBuffer + kHandOut,
                 qPrintable(QString::number(m_server->sourceAccepted())));
        QCOMPARE(handler.unconsumed, handler.received);

        handler.autoConsume = true;
        handler.consumeAll();
        QTRY_VERIFY_WITH_TIMEOUT(handler.fin, 60000);
        QCOMPARE(handler.received, kTotal);
        QVERIFY(handler.intact);
        QCOMPARE(m_server->sourceAccepted(), kTotal);
        QVERIFY(m_client->stats().bytesReceived > quint64(kTotal));
        QVERIFY(m_client->endStream(*id));
        QTRY_COMPARE(m_client->openStreamCount(), 0);
    }

    void clearedHandlerStillAcknowledges()
    {
        QVERIFY(start());
        constexpr qint64 kBytes = 24 * 1024 * 1024; // more than one window
        H3RecordingHandler handler(m_client.get());
        handler.keepData = false;
        handler.autoConsume = false;
        const auto id = m_client->submitRequest(streamTo("/source/" + QByteArray::number(kBytes)));
        QVERIFY(id);
        handler.id = *id;
        QVERIFY(m_client->setStreamHandler(*id, &handler));
        QTRY_VERIFY_WITH_TIMEOUT(m_server->sourceBlocked(), 30000);
        // Nobody reads any more: the data is discarded but credited, so the sender finishes.
        m_client->clearStreamHandler(*id);
        QVERIFY(m_client->endStream(*id));
        QTRY_COMPARE_WITH_TIMEOUT(m_server->sourceAccepted(), kBytes, 30000);
        QTRY_COMPARE(m_client->openStreamCount(), 0);
        QVERIFY(!handler.fin);
    }

    void sendBufferBound()
    {
        QVERIFY(start());
        const auto id = m_client->submitRequest(streamTo("/sink"));
        QVERIFY(id);
        m_server->setSinkStalled(true);
        // One call never takes more than the free send buffer.
        const QByteArray big(3 * kSendBuffer, 'b');
        const auto accepted = m_client->sendStreamData(*id, big);
        QVERIFY(accepted);
        QCOMPARE(*accepted, kSendBuffer);
        QCOMPARE(m_client->sendStreamData(*id, big).valueOr(-1), 0);
        m_client->resetStream(*id, StreamResetReason::Cancel);
    }
};

QTEST_GUILESS_MAIN(TstH3Flow)
#include "tst_h3_flow.moc"
