// HTTP/1.1 tunnels over real TLS on loopback: the Upgrade form of extended CONNECT (RFC 9298,
// 3.2), classic CONNECT, refusals, head limits and bad heads, header injection, backpressure, and
// the server side's request mapping.

#include "support/H2PatternStream.h"
#include "support/H2StreamRecorder.h"
#include "support/H2TestUtil.h"
#include "support/TestPki.h"
#include "support/TlsScriptedServer.h"
#include "support/TlsTestServer.h"
#include "transport/h1/H1Transport.h"
#include "transport/tls/TlsServerListener.h"

#include <QtNetwork/QSslSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

Request upgradeRequest()
{
    Request request;
    request.protocol = "connect-udp";
    request.authority = "localhost:4433";
    request.path = "/.well-known/masque/udp/192.0.2.1/53/";
    request.headers.append(Header{"capsule-protocol", "?1"});
    return request;
}

Request classicRequest(const QByteArray &target = "192.0.2.7:80")
{
    Request request;
    request.authority = target;
    return request;
}

ConnectOptions optionsFor(quint16 port)
{
    ConnectOptions options;
    options.host = QStringLiteral("127.0.0.1");
    options.port = port;
    options.tls.useSystemTrust = false;
    options.tls.caFile = TestPki::instance().caCert;
    return options;
}

} // namespace

class TestH1Transport : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<H1Transport> m_client;

    bool connectTo(const ConnectOptions &options)
    {
        m_client = std::make_unique<H1Transport>();
        QSignalSpy connected(m_client.get(), &HttpConnection::connected);
        QSignalSpy closed(m_client.get(), &HttpConnection::closed);
        m_client->connectToProxy(options);
        return waitUntil([&] { return connected.count() > 0 || closed.count() > 0; }) &&
               connected.count() == 1;
    }

    // scriptedFailure: the server answers `reply`; the client's stream and connection must fail
    // with `expected`.
    void expectFailure(const QByteArray &reply, ErrorCode expected)
    {
        TlsScriptedServer server;
        QVERIFY(server.listen());
        server.setScript([reply](const QByteArray &) { return reply; });
        QVERIFY(connectTo(optionsFor(server.port())));
        QSignalSpy closed(m_client.get(), &HttpConnection::closed);
        auto id = m_client->submitRequest(upgradeRequest());
        QVERIFY(id.ok());
        H2StreamRecorder recorder(m_client.get());
        QVERIFY(recorder.attach(*id));
        QVERIFY(waitUntil([&] { return recorder.reset.has_value() && closed.count() == 1; }));
        QCOMPARE(recorder.reset->code, expected);
        QCOMPARE(closed.at(0).at(0).value<Error>().code, expected);
        QVERIFY(!recorder.response);
    }

private Q_SLOTS:
    void init() { QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error)); }
    void cleanup() { m_client.reset(); }

    void upgradeAcceptedByOurServer()
    {
        TlsTestServer server;
        QVERIFY(server.start());
        QVERIFY(connectTo(server.clientOptions()));
        QCOMPARE(m_client->stats().alpn, QStringLiteral("http/1.1"));
        auto id = m_client->submitRequest(upgradeRequest());
        QVERIFY(id.ok());
        QCOMPARE(*id, StreamId(1));
        QCOMPARE(m_client->submitRequest(classicRequest()).error().code, ErrorCode::StreamLimit);
        H2StreamRecorder recorder(m_client.get());
        QVERIFY(recorder.attach(*id));
        QVERIFY(waitUntil([&] { return recorder.response.has_value(); }));
        QCOMPARE(recorder.response->status, 101);
        QCOMPARE(headerValue(recorder.response->headers, "capsule-protocol"), QByteArray("?1"));

        const IncomingRequest seen = server.echo().requests().value(0);
        QCOMPARE(seen.method, QByteArray("CONNECT"));
        QCOMPARE(seen.protocol, QByteArray("connect-udp"));
        QCOMPARE(seen.scheme, QByteArray("https"));
        QCOMPARE(seen.authority, QByteArray("localhost:4433"));
        QCOMPARE(seen.path, QByteArray("/.well-known/masque/udp/192.0.2.1/53/"));
        QCOMPARE(headerValue(seen.headers, "capsule-protocol"), QByteArray("?1"));
        QVERIFY(headerValue(seen.headers, "upgrade").isNull());

        // Capsules both ways on the socket.
        QVERIFY(m_client->sendDatagram(*id, QByteArray("\x00ping", 5)).ok());
        QVERIFY(m_client->sendDatagram(*id, QByteArray("\x00pong", 5)).ok());
        QVERIFY(waitUntil([&] { return recorder.data.size() == 14; }));
        QCOMPARE(recorder.data, QByteArray("\x00\x05\x00ping\x00\x05\x00pong", 14));

        // endStream closes the TLS connection once drained (no half-close on h1).
        QSignalSpy closed(m_client.get(), &HttpConnection::closed);
        QVERIFY(m_client->endStream(*id).ok());
        QVERIFY(waitUntil([&] { return closed.count() == 1; }));
        QCOMPARE(closed.at(0).at(0).value<Error>().code, ErrorCode::LocalClose);
    }

    void upgradeBytesInTheSameReadAsThe101()
    {
        TlsScriptedServer server;
        QVERIFY(server.listen());
        const QByteArray capsules = QByteArray("\x00\x04\x00"
                                               "abc",
                                               6) +
                                    QByteArray("\x01\x02xy", 4);
        server.setScript([capsules](const QByteArray &) {
            QByteArray reply("HTTP/1.1 101 Switching Protocols\r\n"
                             "Connection: upgrade\r\n"
                             "Upgrade: connect-udp\r\n"
                             "Capsule-Protocol: ?1\r\n\r\n");
            reply.append(capsules);
            return reply;
        });
        QVERIFY(connectTo(optionsFor(server.port())));
        auto id = m_client->submitRequest(upgradeRequest());
        QVERIFY(id.ok());
        H2StreamRecorder recorder(m_client.get());
        QVERIFY(recorder.attach(*id));
        QVERIFY(waitUntil([&] { return recorder.data == capsules; }));
        QCOMPARE(recorder.response->status, 101);
        QCOMPARE(headerValue(recorder.response->headers, "capsule-protocol"), QByteArray("?1"));

        // The exact request head, then our capsules on the raw socket.
        QCOMPARE(server.received(),
                 QByteArray("GET /.well-known/masque/udp/192.0.2.1/53/ HTTP/1.1\r\n"
                            "Host: localhost:4433\r\n"
                            "Connection: Upgrade\r\n"
                            "Upgrade: connect-udp\r\n"
                            "Capsule-Protocol: ?1\r\n\r\n"));
        QVERIFY(m_client->sendDatagram(*id, QByteArray("\x00up", 3)).ok());
        QVERIFY(
            waitUntil([&] { return server.received().endsWith(QByteArray("\x00\x03\x00up", 5)); }));

        // The proxy closing the socket ends the stream (FIN), then the connection.
        QSignalSpy closed(m_client.get(), &HttpConnection::closed);
        server.socket()->disconnectFromHost();
        QVERIFY(waitUntil([&] { return recorder.fin && closed.count() == 1; }));
        QCOMPARE(closed.at(0).at(0).value<Error>().code, ErrorCode::ConnectionClosed);
    }

    void refusedWithStatusAndBody()
    {
        TlsScriptedServer server;
        QVERIFY(server.listen());
        server.setScript([](const QByteArray &) {
            return QByteArray("HTTP/1.1 403 Forbidden\r\n"
                              "Proxy-Status: qmasque; error=destination_ip_prohibited\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n"
                              "4\r\nforb\r\n5;ext=1\r\nidden\r\n0\r\n\r\n");
        });
        QVERIFY(connectTo(optionsFor(server.port())));
        QSignalSpy closed(m_client.get(), &HttpConnection::closed);
        auto id = m_client->submitRequest(upgradeRequest());
        QVERIFY(id.ok());
        H2StreamRecorder recorder(m_client.get());
        QVERIFY(recorder.attach(*id));
        QVERIFY(waitUntil([&] { return recorder.fin && closed.count() == 1; }));
        QCOMPARE(recorder.response->status, 403);
        QCOMPARE(headerValue(recorder.response->headers, "proxy-status"),
                 QByteArray("qmasque; error=destination_ip_prohibited"));
        QCOMPARE(recorder.data, QByteArray("forbidden"));
        QVERIFY(!recorder.reset);
    }

    void refusedByOurServer()
    {
        TlsTestServer server;
        QVERIFY(server.start());
        server.echo().setPolicy([](const IncomingRequest &) {
            Response response;
            response.status = 407;
            response.headers.append(Header{"proxy-authenticate", "Basic realm=\"masque\""});
            return response;
        });
        QVERIFY(connectTo(server.clientOptions()));
        auto id = m_client->submitRequest(classicRequest());
        QVERIFY(id.ok());
        H2StreamRecorder recorder(m_client.get());
        QVERIFY(recorder.attach(*id));
        QVERIFY(waitUntil([&] { return recorder.fin; }));
        QCOMPARE(recorder.response->status, 407);
        QCOMPARE(headerValue(recorder.response->headers, "proxy-authenticate"),
                 QByteArray("Basic realm=\"masque\""));
        QCOMPARE(recorder.data, QByteArray("refused by the test server"));
    }

    void classicConnectTunnel()
    {
        TlsTestServer server;
        QVERIFY(server.start());
        QVERIFY(connectTo(server.clientOptions()));
        Request request = classicRequest("[2001:db8::1]:443");
        request.headers.append(Header{"proxy-authorization", "Basic dXNlcjpwYXNz"});
        auto id = m_client->submitRequest(request);
        QVERIFY(id.ok());
        H2StreamRecorder recorder(m_client.get());
        QVERIFY(recorder.attach(*id));
        QCOMPARE(m_client->sendStreamData(*id, "raw bytes").valueOr(-1), 9);
        QVERIFY(waitUntil([&] { return recorder.data == "raw bytes"; }));
        QCOMPARE(recorder.response->status, 200);
        const IncomingRequest seen = server.echo().requests().value(0);
        QCOMPARE(seen.method, QByteArray("CONNECT"));
        QVERIFY(seen.protocol.isEmpty());
        QCOMPARE(seen.authority, QByteArray("[2001:db8::1]:443"));
        QCOMPARE(headerValue(seen.headers, "proxy-authorization"),
                 QByteArray("Basic dXNlcjpwYXNz"));
    }

    void classicConnectOnTheWire()
    {
        TlsScriptedServer server;
        QVERIFY(server.listen());
        server.setScript([](const QByteArray &) {
            return QByteArray("HTTP/1.1 200 Connection established\r\n\r\nhello");
        });
        QVERIFY(connectTo(optionsFor(server.port())));
        Request request = classicRequest("example.com:443");
        request.headers.append(Header{"proxy-authorization", "Basic dXNlcjpwYXNz"});
        auto id = m_client->submitRequest(request);
        QVERIFY(id.ok());
        H2StreamRecorder recorder(m_client.get());
        QVERIFY(recorder.attach(*id));
        QVERIFY(waitUntil([&] { return recorder.data == "hello"; }));
        QCOMPARE(recorder.response->status, 200);
        QCOMPARE(server.received(), QByteArray("CONNECT example.com:443 HTTP/1.1\r\n"
                                               "Host: example.com:443\r\n"
                                               "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n"));
    }

    void headTooLarge()
    {
        expectFailure("HTTP/1.1 101 Switching Protocols\r\nX-Padding: " + QByteArray(20000, 'p') +
                          "\r\n\r\n",
                      ErrorCode::HeadTooLarge);
    }

    void badStatusLine() { expectFailure("HTTP/1.1 2OO OK\r\n\r\n", ErrorCode::BadStatusLine); }

    void malformedHeader()
    {
        expectFailure("HTTP/1.1 101 Switching Protocols\r\nUpgrade : connect-udp\r\n\r\n",
                      ErrorCode::MalformedHeader);
    }

    void badUpgradeResponse()
    {
        expectFailure("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
                      "Upgrade: websocket\r\n\r\n",
                      ErrorCode::BadUpgradeResponse);
    }

    void upgradeIgnoredIsNotSuccess()
    {
        expectFailure("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                      ErrorCode::BadUpgradeResponse);
    }

    void headerInjectionRefusedBeforeWriting()
    {
        TlsScriptedServer server;
        QVERIFY(server.listen());
        server.setScript([](const QByteArray &) { return QByteArray("HTTP/1.1 200 OK\r\n\r\n"); });
        QVERIFY(connectTo(optionsFor(server.port())));
        Request evil = classicRequest();
        evil.headers.append(Header{"proxy-authorization", "Basic x\r\nX-Injected: 1"});
        QCOMPARE(m_client->submitRequest(evil).error().code, ErrorCode::HeaderInjection);
        Request evilTarget = classicRequest("example.com:443 HTTP/1.1\r\nX-Injected: 1\r\n");
        QCOMPARE(m_client->submitRequest(evilTarget).error().code, ErrorCode::HeaderInjection);
        Request evilPath = upgradeRequest();
        evilPath.path = "/a\nb";
        QCOMPARE(m_client->submitRequest(evilPath).error().code, ErrorCode::HeaderInjection);
        // Nothing reached the wire: the next, valid request is the first thing the server sees.
        auto id = m_client->submitRequest(classicRequest());
        QVERIFY(id.ok());
        QVERIFY(waitUntil([&] { return server.received().endsWith("\r\n\r\n"); }));
        QCOMPARE(server.received(),
                 QByteArray("CONNECT 192.0.2.7:80 HTTP/1.1\r\nHost: 192.0.2.7:80\r\n\r\n"));
    }

    void serverRefusesOversizeAndMalformedHeads_data()
    {
        QTest::addColumn<QByteArray>("head");
        QTest::addColumn<QByteArray>("statusLine");
        QTest::newRow("too large")
            << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + QByteArray(20000, 'p') +
                          "\r\n\r\n")
            << QByteArray("HTTP/1.1 431 ");
        QTest::newRow("malformed")
            << QByteArray("GET / HTTP/1.1\r\nno colon here\r\n\r\n") << QByteArray("HTTP/1.1 400 ");
    }

    void serverRefusesOversizeAndMalformedHeads()
    {
        QFETCH(QByteArray, head);
        QFETCH(QByteArray, statusLine);
        TlsTestServer server;
        QVERIFY(server.start());
        QSslSocket raw;
        QSslConfiguration configuration = raw.sslConfiguration();
        configuration.setCaCertificates(QSslCertificate::fromPath(TestPki::instance().caCert));
        configuration.setAllowedNextProtocols({"http/1.1"});
        raw.setSslConfiguration(configuration);
        QByteArray reply;
        connect(&raw, &QSslSocket::readyRead, this, [&] { reply += raw.readAll(); });
        raw.connectToHostEncrypted(QStringLiteral("127.0.0.1"), server.port(),
                                   QStringLiteral("localhost"));
        QVERIFY(waitUntil([&] { return raw.isEncrypted(); }));
        raw.write(head);
        QVERIFY(waitUntil([&] { return raw.state() == QAbstractSocket::UnconnectedState; }));
        QVERIFY2(reply.startsWith(statusLine), reply.constData());
        QVERIFY(reply.contains("Connection: close\r\n"));
        QVERIFY(server.echo().requests().isEmpty());
    }

    void backpressureBothWays()
    {
        // 8 MiB each way through our h1 server with 1 MiB receive windows; both receivers
        // stall first: neither may hold more than its window, and the senders must stop.
        constexpr qint64 kTotal = 8 * 1024 * 1024;
        constexpr qint64 kWindow = 1024 * 1024;
        ServerOptions serverOptions = TlsTestServer::serverOptions();
        serverOptions.streamReceiveWindow = kWindow;
        TlsServerListener listener(serverOptions);
        std::unique_ptr<H2PatternStream> serverEnd;
        connect(&listener, &ServerListener::newConnection, this, [&](ServerConnection *connection) {
            connect(connection, &ServerConnection::requestReceived, this,
                    [&, connection](StreamId id, const IncomingRequest &) {
                        serverEnd = std::make_unique<H2PatternStream>(connection, id, 2, 1, kTotal);
                        serverEnd->setStalled(true);
                        serverEnd->setEndAfterSending(false);
                        QVERIFY(connection->submitResponse(id, Response{200, {}}, false).ok());
                        QVERIFY(serverEnd->start());
                    });
        });
        QVERIFY(listener.listen(QHostAddress::LocalHost, 0).ok());
        ConnectOptions options = optionsFor(listener.serverPort());
        options.streamReceiveWindow = kWindow;
        QVERIFY(connectTo(options));
        auto id = m_client->submitRequest(classicRequest());
        QVERIFY(id.ok());
        H2PatternStream clientEnd(m_client.get(), *id, 1, 2, kTotal);
        clientEnd.setStalled(true);
        clientEnd.setEndAfterSending(false);
        QVERIFY(clientEnd.start());
        QVERIFY(waitUntil(
            [&] {
                return serverEnd && serverEnd->unconsumed() == kWindow &&
                       clientEnd.unconsumed() == kWindow && clientEnd.sendBlocked() &&
                       serverEnd->sendBlocked();
            },
            30000));
        QVERIFY(clientEnd.accepted() < kTotal);
        QVERIFY(serverEnd->accepted() < kTotal);
        clientEnd.setStalled(false);
        serverEnd->setStalled(false);
        // h1 cannot half-close: the first endStream closes the socket, so wait for both
        // directions' bytes, not for the FINs.
        QVERIFY(waitUntil(
            [&] { return clientEnd.received() == kTotal && serverEnd->received() == kTotal; },
            60000));
        QVERIFY2(clientEnd.patternError.isEmpty(), qPrintable(clientEnd.patternError));
        QVERIFY2(serverEnd->patternError.isEmpty(), qPrintable(serverEnd->patternError));
        QCOMPARE(clientEnd.maxUnconsumed(), kWindow);
        QCOMPARE(serverEnd->maxUnconsumed(), kWindow);
    }
};

QTEST_GUILESS_MAIN(TestH1Transport)
#include "tst_h1_transport.moc"
