// HTTP/3 request streams on loopback: extended and classic CONNECT, refusals with Proxy-Status,
// many streams in sequence and at once, MAX_STREAMS credit, GOAWAY, resets both ways, the
// handler replay, bad input.

#include "support/H3TestClient.h"
#include "support/H3TestServer.h"
#include "support/TestPki.h"
#include "transport/h3/H3ServerConnection.h"
#include "transport/h3/H3Transport.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <nghttp3/nghttp3.h>

#include <memory>
#include <vector>

using namespace qmasque;
using namespace qmasque::test;

namespace {

Request connectUdp(const QByteArray &path = "/echo")
{
    Request request;
    request.protocol = "connect-udp";
    request.authority = "localhost";
    request.path = path;
    request.headers = {{"capsule-protocol", "?1"}};
    return request;
}

} // namespace

class TstH3Streams : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<H3TestServer> m_server;
    std::unique_ptr<H3Transport> m_client;

    bool start(ServerOptions serverOptions = H3TestServer::defaultOptions())
    {
        m_client.reset();
        m_server = std::make_unique<H3TestServer>(serverOptions);
        if (!m_server->listen(QHostAddress::LocalHost))
            return false;
        Error error;
        m_client.reset(connectH3(h3ClientOptions(m_server->port()), nullptr, &error));
        if (!m_client)
            qWarning("connect failed: %s", qPrintable(error.toString()));
        return m_client != nullptr;
    }

    // open: submits `request` with a recording handler registered at once.
    std::unique_ptr<H3RecordingHandler> open(const Request &request)
    {
        auto handler = std::make_unique<H3RecordingHandler>(m_client.get());
        const auto id = m_client->submitRequest(request);
        if (!id)
            return nullptr;
        handler->id = *id;
        if (!m_client->setStreamHandler(*id, handler.get()))
            return nullptr;
        return handler;
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

    void extendedConnectEcho()
    {
        QVERIFY(start());
        QSignalSpy seen(m_server.get(), &H3TestServer::requestSeen);
        auto handler = open(connectUdp());
        QVERIFY(handler);
        QVERIFY(handler->id % 4 == 0); // client-initiated bidirectional
        QTRY_VERIFY(handler->response.has_value());
        QCOMPARE(handler->response->status, 200);
        QCOMPARE(seen.size(), 1);
        QCOMPARE(seen.first().at(0).toByteArray(), QByteArray("CONNECT"));
        QCOMPARE(seen.first().at(1).toByteArray(), QByteArray("connect-udp"));
        QCOMPARE(seen.first().at(2).toByteArray(), QByteArray("/echo"));

        const QByteArray payload = "hello over HTTP/3";
        QCOMPARE(m_client->sendStreamData(handler->id, payload).valueOr(-1), payload.size());
        QTRY_COMPARE(handler->data, payload);
        QCOMPARE(m_client->openStreamCount(), 1);
        QVERIFY(m_client->endStream(handler->id));
        QVERIFY(m_client->endStream(handler->id)); // idempotent
        QTRY_VERIFY(handler->fin);
        QTRY_COMPARE(m_client->openStreamCount(), 0);
        QVERIFY(!handler->reset);
        // After FIN nothing more can be sent.
        QCOMPARE(m_client->sendStreamData(handler->id, "x").error().code, ErrorCode::UnknownStream);
    }

    void classicConnect()
    {
        QVERIFY(start());
        Request request;
        request.authority = "example.com:443";
        auto handler = open(request);
        QVERIFY(handler);
        QTRY_VERIFY(handler->response.has_value());
        QCOMPARE(handler->response->status, 200);
        QVERIFY(m_client->sendStreamData(handler->id, "tcp bytes"));
        QTRY_COMPARE(handler->data, QByteArray("tcp bytes"));
    }

    void refused_data()
    {
        QTest::addColumn<int>("status");
        QTest::newRow("404") << 404;
        QTest::newRow("501") << 501;
    }

    void refused()
    {
        QFETCH(int, status);
        QVERIFY(start());
        auto handler = open(connectUdp("/refuse/" + QByteArray::number(status)));
        QVERIFY(handler);
        QTRY_VERIFY(handler->fin);
        QVERIFY(handler->response.has_value());
        QCOMPARE(handler->response->status, status);
        const QByteArray proxyStatus = headerValue(handler->response->headers, "proxy-status");
        QVERIFY2(proxyStatus.contains("error=destination_ip_prohibited"), proxyStatus.constData());
        QCOMPARE(handler->data, QByteArray("refused"));
        // The client ends its side too; the stream then closes.
        QVERIFY(m_client->endStream(handler->id));
        QTRY_COMPARE(m_client->openStreamCount(), 0);
    }

    void sequentialStreams()
    {
        QVERIFY(start());
        for (int i = 0; i < 1000; ++i) {
            auto handler = open(connectUdp());
            QVERIFY2(handler, qPrintable(QString::number(i)));
            const QByteArray payload = "stream " + QByteArray::number(i);
            QVERIFY(m_client->sendStreamData(handler->id, payload));
            QVERIFY(m_client->endStream(handler->id));
            QTRY_VERIFY_WITH_TIMEOUT(handler->fin, 5000);
            QCOMPARE(handler->response->status, 200);
            QCOMPARE(handler->data, payload);
        }
        QTRY_COMPARE(m_client->openStreamCount(), 0);
        QTRY_COMPARE(m_client->peerStreamLimit(), std::optional<qint64>(100));
    }

    void concurrentStreams()
    {
        ServerOptions options = H3TestServer::defaultOptions();
        options.maxConcurrentStreams = 256;
        QVERIFY(start(options));
        std::vector<std::unique_ptr<H3RecordingHandler>> handlers;
        const QByteArray chunk(16 * 1024, 'c');
        for (int i = 0; i < 200; ++i) {
            auto handler = open(connectUdp());
            QVERIFY2(handler, qPrintable(QString::number(i)));
            const QByteArray payload = chunk + QByteArray::number(i);
            QCOMPARE(m_client->sendStreamData(handler->id, payload).valueOr(-1), payload.size());
            QVERIFY(m_client->endStream(handler->id));
            handlers.push_back(std::move(handler));
        }
        QCOMPARE(m_client->openStreamCount(), 200);
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(handlers.begin(), handlers.end(), [](const auto &h) { return h->fin; }),
            20000);
        for (int i = 0; i < 200; ++i)
            QCOMPARE(handlers[size_t(i)]->data, QByteArray(chunk + QByteArray::number(i)));
        QTRY_COMPARE(m_client->openStreamCount(), 0);
    }

    void maxStreamsCredit()
    {
        ServerOptions options = H3TestServer::defaultOptions();
        options.maxConcurrentStreams = 10;
        QVERIFY(start(options));
        QCOMPARE(m_client->peerStreamLimit(), std::optional<qint64>(10));
        std::vector<std::unique_ptr<H3RecordingHandler>> handlers;
        for (int i = 0; i < 10; ++i) {
            auto handler = open(connectUdp());
            QVERIFY(handler);
            handlers.push_back(std::move(handler));
        }
        QCOMPARE(m_client->peerStreamLimit(), std::optional<qint64>(10));
        const auto eleventh = m_client->submitRequest(connectUdp());
        QVERIFY(!eleventh);
        QCOMPARE(eleventh.error().code, ErrorCode::StreamLimit);
        QCOMPARE(m_client->openStreamCount(), 10); // nothing queued

        // Finish half of them: the server grants new credit with MAX_STREAMS.
        QSignalSpy settingsChanged(m_client.get(), &HttpConnection::settingsChanged);
        for (int i = 0; i < 5; ++i)
            QVERIFY(m_client->endStream(handlers[size_t(i)]->id));
        QTRY_COMPARE(m_client->openStreamCount(), 5);
        QTRY_VERIFY(!settingsChanged.isEmpty());
        QCOMPARE(m_client->peerStreamLimit(), std::optional<qint64>(10));
        auto again = open(connectUdp());
        QVERIFY(again);
        QTRY_VERIFY(again->response.has_value());
    }

    void goaway()
    {
        QVERIFY(start());
        auto handler = open(connectUdp());
        QVERIFY(handler);
        QTRY_VERIFY(handler->response.has_value());
        QSignalSpy goawaySpy(m_client.get(), &HttpConnection::goawayReceived);
        QSignalSpy closedSpy(m_client.get(), &HttpConnection::closed);
        QTRY_VERIFY(m_server->lastConnection());
        QSignalSpy serverClosed(m_server->lastConnection(), &HttpConnection::closed);

        m_server->listener()->goawayAll();
        QTRY_VERIFY(!goawaySpy.isEmpty());
        QCOMPARE(m_client->state(), HttpConnection::State::Draining);
        const auto refused = m_client->submitRequest(connectUdp());
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, ErrorCode::Goaway);

        // The stream opened before GOAWAY finishes normally.
        QVERIFY(m_client->sendStreamData(handler->id, "still served"));
        QTRY_COMPARE(handler->data, QByteArray("still served"));
        QVERIFY(closedSpy.isEmpty());
        QVERIFY(m_client->endStream(handler->id));
        QTRY_VERIFY(handler->fin);
        QVERIFY(!handler->reset);
        // ... and then the connection closes gracefully.
        QTRY_COMPARE(closedSpy.size(), 1);
        const Error reason = closedSpy.first().first().value<Error>();
        QVERIFY2(reason.code == ErrorCode::ConnectionClosed || reason.code == ErrorCode::Goaway,
                 qPrintable(reason.toString()));
        QTRY_COMPARE(serverClosed.size(), 1);
        QCOMPARE(serverClosed.first().first().value<Error>().code, ErrorCode::LocalClose);

        // A stopped listener accepts no new connection.
        Error error;
        std::unique_ptr<H3Transport> late(connectH3(
            [&] {
                ConnectOptions options = h3ClientOptions(m_server->port());
                options.connectTimeoutMs = 500;
                return options;
            }(),
            nullptr, &error));
        QVERIFY(!late);
    }

    void clientGoaway()
    {
        QVERIFY(start());
        auto handler = open(connectUdp());
        QVERIFY(handler);
        QTRY_VERIFY(handler->response.has_value());
        QSignalSpy closedSpy(m_client.get(), &HttpConnection::closed);
        m_client->goaway();
        QCOMPARE(m_client->submitRequest(connectUdp()).error().code, ErrorCode::Goaway);
        QVERIFY(m_client->sendStreamData(handler->id, "last words"));
        QVERIFY(m_client->endStream(handler->id));
        QTRY_VERIFY(handler->fin);
        QCOMPARE(handler->data, QByteArray("last words"));
        QTRY_COMPARE(closedSpy.size(), 1);
        QCOMPARE(closedSpy.first().first().value<Error>().code, ErrorCode::LocalClose);
    }

    void resets()
    {
        QVERIFY(start());
        // Client resets: the server sees peer_reset with H3_REQUEST_CANCELLED.
        auto first = open(connectUdp());
        QVERIFY(first);
        QTRY_VERIFY(first->response.has_value());
        QTRY_VERIFY(m_server->lastConnection());
        H3ServerConnection *serverSide = m_server->lastConnection();
        QSignalSpy serverResets(serverSide, &HttpConnection::streamReset);
        m_client->resetStream(first->id, StreamResetReason::Cancel);
        m_client->resetStream(first->id, StreamResetReason::Cancel); // idempotent
        QCOMPARE(m_client->sendStreamData(first->id, "x").error().code, ErrorCode::StreamClosed);
        QTRY_COMPARE(serverResets.size(), 1);
        const Error serverSees = serverResets.first().at(1).value<Error>();
        QCOMPARE(serverSees.code, ErrorCode::PeerReset);
        QCOMPARE(serverSees.wireCode, quint64(NGHTTP3_H3_REQUEST_CANCELLED));
        QVERIFY(!first->reset); // no callbacks after a local reset
        QTRY_COMPARE(m_client->openStreamCount(), 0);

        // Server resets (a TCP tunnel aborting): the client sees H3_CONNECT_ERROR.
        auto second = open(connectUdp());
        QVERIFY(second);
        QTRY_VERIFY(second->response.has_value());
        QSignalSpy clientResets(m_client.get(), &HttpConnection::streamReset);
        serverSide->resetStream(second->id, StreamResetReason::ConnectError);
        QTRY_VERIFY(second->reset.has_value());
        QCOMPARE(second->reset->code, ErrorCode::PeerReset);
        QCOMPARE(second->reset->wireCode, quint64(NGHTTP3_H3_CONNECT_ERROR));
        QCOMPARE(clientResets.size(), 1);
        QTRY_COMPARE(m_client->openStreamCount(), 0);
        // Other streams are not disturbed.
        auto third = open(connectUdp());
        QVERIFY(third);
        QVERIFY(m_client->sendStreamData(third->id, "fine"));
        QTRY_COMPARE(third->data, QByteArray("fine"));
    }

    void handlerReplay()
    {
        QVERIFY(start());
        // No handler yet: response, data and FIN are kept and replayed in order.
        const auto id = m_client->submitRequest(connectUdp());
        QVERIFY(id);
        QVERIFY(m_client->sendStreamData(*id, "kept for later"));
        QVERIFY(m_client->endStream(*id));
        // The stream completes (echo and FIN arrived) with nobody listening.
        QTRY_COMPARE(m_client->openStreamCount(), 0);
        H3RecordingHandler handler(m_client.get());
        handler.id = *id;
        std::vector<QByteArray> order;
        connect(&handler, &H3RecordingHandler::responseReceived, this,
                [&] { order.push_back("response"); });
        connect(&handler, &H3RecordingHandler::dataReceived, this,
                [&] { order.push_back("data"); });
        connect(&handler, &H3RecordingHandler::finished, this, [&] { order.push_back("fin"); });
        QVERIFY(m_client->setStreamHandler(*id, &handler));
        QCOMPARE(order, (std::vector<QByteArray>{"response", "data", "fin"}));
        QCOMPARE(handler.data, QByteArray("kept for later"));
        QCOMPARE(m_client->setStreamHandler(*id, &handler).error().code, ErrorCode::UnknownStream);
    }

    void badInput()
    {
        QVERIFY(start());
        Request injected = connectUdp();
        injected.headers.append(Header{"x-evil", "a\r\nb: c"});
        QCOMPARE(m_client->submitRequest(injected).error().code, ErrorCode::HeaderInjection);
        Request reserved = connectUdp();
        reserved.headers.append(Header{"Connection", "close"});
        QCOMPARE(m_client->submitRequest(reserved).error().code, ErrorCode::ReservedHeader);
        QCOMPARE(m_client->openStreamCount(), 0);

        QCOMPARE(m_client->sendStreamData(400, "x").error().code, ErrorCode::UnknownStream);
        QCOMPARE(m_client->setStreamHandler(400, nullptr).error().code, ErrorCode::UnknownStream);
        QCOMPARE(m_client->endStream(400).error().code, ErrorCode::UnknownStream);
        m_client->resetStream(400, StreamResetReason::Cancel); // ignored
        m_client->consumeStreamData(400, 10);                  // ignored
        QCOMPARE(m_client->sendDatagram(400, "x").error().code, ErrorCode::UnknownStream);

        H3Transport idle;
        QCOMPARE(idle.state(), HttpConnection::State::Idle);
        QCOMPARE(idle.submitRequest(connectUdp()).error().code, ErrorCode::NotReady);
        QCOMPARE(idle.peerStreamLimit(), std::nullopt);

        // The connection still works.
        auto handler = open(connectUdp());
        QVERIFY(handler);
        QTRY_VERIFY(handler->response.has_value());
    }
};

QTEST_GUILESS_MAIN(TstH3Streams)
#include "tst_h3_streams.moc"
