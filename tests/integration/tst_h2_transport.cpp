// HTTP/2 client and server over real TLS on loopback: extended and classic CONNECT, refusals,
// many streams, resets, GOAWAY, a peer that vanishes, SETTINGS updates.

#include "support/H2StreamRecorder.h"
#include "support/H2TestUtil.h"
#include "support/TestPki.h"
#include "support/TlsSniffingRelay.h"
#include "support/TlsTestServer.h"
#include "transport/h2/H2ServerConnection.h"
#include "transport/h2/H2Transport.h"
#include "transport/tls/TlsServerListener.h"

#include <QtCore/QFile>
#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslKey>
#include <QtNetwork/QSslServer>
#include <QtNetwork/QSslSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

Request udpRequest(const QByteArray &path = "/.well-known/masque/udp/192.0.2.1/443/")
{
    Request request;
    request.protocol = "connect-udp";
    request.authority = "localhost:443";
    request.path = path;
    request.headers.append(Header{"capsule-protocol", "?1"});
    return request;
}

Request classicRequest(const QByteArray &target = "192.0.2.7:80")
{
    Request request;
    request.authority = target;
    return request;
}

} // namespace

class TestH2Transport : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TlsTestServer> m_server;
    std::unique_ptr<H2Transport> m_client;

    bool connectClient(ConnectOptions options)
    {
        m_client = std::make_unique<H2Transport>();
        QSignalSpy connected(m_client.get(), &HttpConnection::connected);
        QSignalSpy closed(m_client.get(), &HttpConnection::closed);
        m_client->connectToProxy(options);
        return waitUntil([&] { return connected.count() > 0 || closed.count() > 0; }) &&
               connected.count() == 1;
    }

    bool startAndConnect(const ServerOptions &options = TlsTestServer::serverOptions())
    {
        m_server = std::make_unique<TlsTestServer>();
        if (!m_server->start(options))
            return false;
        return connectClient(m_server->clientOptions());
    }

    // echoRoundTrip: one stream: request, 2xx, `payload` echoed back, FIN both ways.
    bool echoRoundTrip(const Request &request, const QByteArray &payload)
    {
        auto id = m_client->submitRequest(request);
        if (!id)
            return false;
        H2StreamRecorder recorder(m_client.get());
        if (!recorder.attach(*id))
            return false;
        if (m_client->sendStreamData(*id, payload).valueOr(-1) != payload.size())
            return false;
        if (!m_client->endStream(*id).ok())
            return false;
        return waitUntil([&] { return recorder.fin || recorder.reset; }) && recorder.response &&
               recorder.response->status == 200 && recorder.data == payload && !recorder.reset;
    }

private Q_SLOTS:
    void init() { QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error)); }

    void cleanup()
    {
        m_client.reset();
        m_server.reset();
    }

    void extendedConnectAccepted()
    {
        QVERIFY(startAndConnect());
        QCOMPARE(m_client->state(), HttpConnection::State::Connected);
        QVERIFY(m_client->peerSettings().received);
        QVERIFY(m_client->peerSettings().extendedConnect);
        QCOMPARE(m_client->peerStreamLimit().value_or(-1), 100);

        auto id = m_client->submitRequest(udpRequest());
        QVERIFY2(id.ok(), qPrintable(id.ok() ? QString() : id.error().toString()));
        H2StreamRecorder recorder(m_client.get());
        QVERIFY(recorder.attach(*id));
        QVERIFY(waitUntil([&] { return recorder.response.has_value(); }));
        QCOMPARE(recorder.response->status, 200);
        QCOMPARE(headerValue(recorder.response->headers, "capsule-protocol"), QByteArray("?1"));

        const IncomingRequest seen = m_server->echo().requests().value(0);
        QCOMPARE(seen.method, QByteArray("CONNECT"));
        QCOMPARE(seen.protocol, QByteArray("connect-udp"));
        QCOMPARE(seen.scheme, QByteArray("https"));
        QCOMPARE(seen.authority, QByteArray("localhost:443"));
        QCOMPARE(seen.path, QByteArray("/.well-known/masque/udp/192.0.2.1/443/"));
        QCOMPARE(headerValue(seen.headers, "capsule-protocol"), QByteArray("?1"));

        // A DATAGRAM capsule and stream bytes, echoed in order.
        QCOMPARE(m_client->maxDatagramPayload(*id), 65535);
        QVERIFY(m_client->sendDatagram(*id, QByteArray("\x00hello", 6)).ok());
        QCOMPARE(m_client->sendDatagram(*id, QByteArray(65536, 'x')).error().code,
                 ErrorCode::DatagramTooLarge);
        QCOMPARE(m_client->sendStreamData(*id, "tail").valueOr(-1), 4);
        QVERIFY(m_client->endStream(*id).ok());
        QVERIFY(waitUntil([&] { return recorder.fin; }));
        QCOMPARE(recorder.data, QByteArray("\x00\x06\x00hellotail", 12));
        QVERIFY(!recorder.reset);
        QCOMPARE(m_client->sendDatagram(*id, "x").error().code, ErrorCode::UnknownStream);

        const TransportStats stats = m_client->stats();
        QCOMPARE(stats.alpn, QStringLiteral("h2"));
        QCOMPARE(stats.tlsVersion, QStringLiteral("TLSv1.3"));
        QVERIFY(!stats.tlsCipher.isEmpty());
        QVERIFY(!stats.tlsGroup.isEmpty());
        QVERIFY2(stats.peerCertificate.startsWith(
                     QStringLiteral("CN=localhost issuer CN=QMasque Test CA")),
                 qPrintable(stats.peerCertificate));
        QVERIFY(stats.bytesSent > 0 && stats.bytesReceived > 0);
        QVERIFY(stats.framesSent > 0 && stats.framesReceived > 0);
        QCOMPARE(stats.datagramsSent, 1u);
        QCOMPARE(stats.datagramDrops.tooLarge, 1u);
        QVERIFY(waitUntil([&] { return m_client->stats().smoothedRttUs >= 0; }));
    }

    void extendedConnectRefused_data()
    {
        QTest::addColumn<int>("status");
        QTest::newRow("404") << 404;
        QTest::newRow("405") << 405;
        QTest::newRow("501") << 501;
    }

    void extendedConnectRefused()
    {
        QFETCH(int, status);
        QVERIFY(startAndConnect());
        m_server->echo().setPolicy([status](const IncomingRequest &) {
            Response response;
            response.status = status;
            response.headers.append(
                Header{"proxy-status", "qmasque; error=destination_ip_prohibited"});
            return response;
        });
        auto id = m_client->submitRequest(udpRequest());
        QVERIFY(id.ok());
        H2StreamRecorder recorder(m_client.get());
        QVERIFY(recorder.attach(*id));
        QVERIFY(waitUntil([&] { return recorder.fin || recorder.reset; }));
        QVERIFY(recorder.response);
        QCOMPARE(recorder.response->status, status);
        QCOMPARE(headerValue(recorder.response->headers, "proxy-status"),
                 QByteArray("qmasque; error=destination_ip_prohibited"));
        QCOMPARE(recorder.data, QByteArray("refused by the test server"));
        QVERIFY(!recorder.reset);
        // The server's RST_STREAM(NO_ERROR) after the refusal frees the stream on both sides.
        QVERIFY(waitUntil([&] { return m_client->openStreamCount() == 0; }));
        QVERIFY(
            waitUntil([&] { return m_server->echo().lastConnection()->openStreamCount() == 0; }));
    }

    void classicConnectTunnel()
    {
        QVERIFY(startAndConnect());
        QVERIFY(echoRoundTrip(classicRequest("[2001:db8::1]:8443"), "GET / HTTP/1.0\r\n\r\n"));
        const IncomingRequest seen = m_server->echo().requests().value(0);
        QCOMPARE(seen.method, QByteArray("CONNECT"));
        QVERIFY(seen.protocol.isEmpty());
        QVERIFY(seen.scheme.isEmpty());
        QVERIFY(seen.path.isEmpty());
        QCOMPARE(seen.authority, QByteArray("[2001:db8::1]:8443"));
    }

    void headerInjectionRefused()
    {
        QVERIFY(startAndConnect());
        Request request = udpRequest();
        request.headers.append(Header{"proxy-authorization", "Basic x\r\nevil: 1"});
        QCOMPARE(m_client->submitRequest(request).error().code, ErrorCode::HeaderInjection);
        Request pseudo = udpRequest();
        pseudo.headers.append(Header{":path", "/other"});
        QCOMPARE(m_client->submitRequest(pseudo).error().code, ErrorCode::ReservedHeader);
        QCOMPARE(m_client->openStreamCount(), 0);
    }

    void thousandSequentialStreams()
    {
        QVERIFY(startAndConnect());
        for (int i = 0; i < 1000; ++i) {
            const QByteArray payload = "stream " + QByteArray::number(i);
            QVERIFY2(echoRoundTrip(i % 2 ? udpRequest() : classicRequest(), payload),
                     qPrintable(QStringLiteral("stream %1").arg(i)));
        }
        QCOMPARE(m_server->echo().requests().size(), 1000);
        QVERIFY(waitUntil([&] { return m_client->openStreamCount() == 0; }));
    }

    void twoHundredConcurrentStreams()
    {
        ServerOptions options = TlsTestServer::serverOptions();
        options.maxConcurrentStreams = 250;
        QVERIFY(startAndConnect(options));
        std::vector<std::unique_ptr<H2StreamRecorder>> recorders;
        std::vector<QByteArray> payloads;
        for (int i = 0; i < 200; ++i) {
            auto id = m_client->submitRequest(udpRequest());
            QVERIFY(id.ok());
            auto recorder = std::make_unique<H2StreamRecorder>(m_client.get());
            QVERIFY(recorder->attach(*id));
            payloads.push_back(QByteArray(1000 + i, char('a' + i % 26)));
            QCOMPARE(m_client->sendStreamData(*id, payloads.back()).valueOr(-1),
                     payloads.back().size());
            recorders.push_back(std::move(recorder));
        }
        QCOMPARE(m_client->openStreamCount(), 200);
        QVERIFY(waitUntil([&] {
            return std::all_of(recorders.begin(), recorders.end(),
                               [](const auto &r) { return r->data.size() >= 1000; });
        }));
        QCOMPARE(m_server->echo().lastConnection()->openStreamCount(), 200);
        for (const auto &recorder : recorders)
            QVERIFY(m_client->endStream(recorder->id()).ok());
        QVERIFY(waitUntil([&] {
            return std::all_of(recorders.begin(), recorders.end(),
                               [](const auto &r) { return r->fin; });
        }));
        for (size_t i = 0; i < recorders.size(); ++i)
            QCOMPARE(recorders[i]->data, payloads[i]);
        QVERIFY(waitUntil([&] { return m_client->openStreamCount() == 0; }));
    }

    void resetByClient()
    {
        QVERIFY(startAndConnect());
        QSignalSpy serverResets(&m_server->echo(), &StreamEchoServer::streamReset);
        auto id = m_client->submitRequest(classicRequest());
        QVERIFY(id.ok());
        H2StreamRecorder recorder(m_client.get());
        QVERIFY(recorder.attach(*id));
        QVERIFY(waitUntil([&] { return recorder.response.has_value(); }));
        m_client->resetStream(*id, StreamResetReason::ConnectError);
        QVERIFY(serverResets.wait());
        const Error reason = serverResets.at(0).at(1).value<Error>();
        QCOMPARE(reason.code, ErrorCode::PeerReset);
        QCOMPARE(reason.wireCode, quint64(0x0a)); // CONNECT_ERROR
        QVERIFY(!recorder.reset);                 // no callbacks after our own reset
        QCOMPARE(m_client->sendStreamData(*id, "x").error().code, ErrorCode::UnknownStream);
        QVERIFY(echoRoundTrip(udpRequest(), "still fine"));
    }

    void resetByServer()
    {
        QVERIFY(startAndConnect());
        QSignalSpy streamResets(m_client.get(), &HttpConnection::streamReset);
        auto id = m_client->submitRequest(udpRequest());
        QVERIFY(id.ok());
        H2StreamRecorder recorder(m_client.get());
        QVERIFY(recorder.attach(*id));
        QVERIFY(waitUntil([&] { return recorder.response.has_value(); }));
        m_server->echo().lastConnection()->resetStream(*id, StreamResetReason::MessageError);
        QVERIFY(waitUntil([&] { return recorder.reset.has_value(); }));
        QCOMPARE(recorder.reset->code, ErrorCode::PeerReset);
        QCOMPARE(recorder.reset->wireCode, quint64(0x01)); // PROTOCOL_ERROR
        QCOMPARE(streamResets.count(), 1);
        QCOMPARE(streamResets.at(0).at(0).value<StreamId>(), *id);
        QCOMPARE(m_client->openStreamCount(), 0);
    }

    void goawayBelowAndAbove()
    {
        QVERIFY(startAndConnect());
        QSignalSpy goaways(m_client.get(), &HttpConnection::goawayReceived);
        QSignalSpy streamResets(m_client.get(), &HttpConnection::streamReset);
        QSignalSpy closed(m_client.get(), &HttpConnection::closed);
        std::vector<std::unique_ptr<H2StreamRecorder>> recorders;
        for (int i = 0; i < 3; ++i) {
            auto id = m_client->submitRequest(classicRequest());
            QVERIFY(id.ok());
            recorders.push_back(std::make_unique<H2StreamRecorder>(m_client.get()));
            QVERIFY(recorders.back()->attach(*id));
        }
        QVERIFY(waitUntil([&] { return m_server->echo().requests().size() == 3; }));
        auto *server = qobject_cast<H2ServerConnection *>(m_server->echo().lastConnection());
        QVERIFY(server);
        server->shedStreamsAbove(recorders[0]->id()); // streams 3 and 5 are above
        QVERIFY(goaways.wait());
        QCOMPARE(goaways.at(0).at(0).value<StreamId>(), recorders[0]->id());
        QVERIFY(waitUntil([&] { return recorders[1]->reset && recorders[2]->reset; }));
        QCOMPARE(recorders[1]->reset->code, ErrorCode::Goaway);
        QCOMPARE(recorders[2]->reset->code, ErrorCode::Goaway);
        QCOMPARE(streamResets.count(), 2);
        QCOMPARE(streamResets.at(0).at(1).value<Error>().code, ErrorCode::Goaway);
        QCOMPARE(m_client->state(), HttpConnection::State::Draining);
        QCOMPARE(m_client->submitRequest(classicRequest()).error().code, ErrorCode::Goaway);

        // The stream below the last id still works and finishes; then the connection closes.
        H2StreamRecorder &survivor = *recorders[0];
        QCOMPARE(m_client->sendStreamData(survivor.id(), "after goaway").valueOr(-1), 12);
        QVERIFY(m_client->endStream(survivor.id()).ok());
        QVERIFY(waitUntil([&] { return survivor.fin; }));
        QCOMPARE(survivor.data, QByteArray("after goaway"));
        QVERIFY(!survivor.reset);
        QVERIFY(waitUntil([&] { return closed.count() == 1; }));
        QCOMPARE(closed.at(0).at(0).value<Error>().code, ErrorCode::ConnectionClosed);
    }

    void peerClosesSocketMidStream()
    {
        QVERIFY(startAndConnect());
        QSignalSpy closed(m_client.get(), &HttpConnection::closed);
        auto id = m_client->submitRequest(classicRequest());
        QVERIFY(id.ok());
        H2StreamRecorder recorder(m_client.get());
        QVERIFY(recorder.attach(*id));
        QVERIFY(waitUntil([&] { return recorder.response.has_value(); }));
        // The server's TCP connection goes away without GOAWAY.
        QSslSocket *socket = m_server->echo().lastConnection()->findChild<QSslSocket *>();
        QVERIFY(socket);
        socket->abort();
        QVERIFY(waitUntil([&] { return closed.count() == 1; }));
        QCOMPARE(closed.at(0).at(0).value<Error>().code, ErrorCode::ConnectionLost);
        QCOMPARE(m_client->state(), HttpConnection::State::Closed);
        QCOMPARE(m_client->sendStreamData(*id, "x").error().code, ErrorCode::ConnectionClosed);
        QCOMPARE(m_client->submitRequest(classicRequest()).error().code,
                 ErrorCode::ConnectionClosed);
    }

    void maxConcurrentStreamsUpdated()
    {
        QVERIFY(startAndConnect());
        QSignalSpy settingsChanged(m_client.get(), &HttpConnection::settingsChanged);
        std::vector<std::unique_ptr<H2StreamRecorder>> recorders;
        for (int i = 0; i < 2; ++i) {
            auto id = m_client->submitRequest(classicRequest());
            QVERIFY(id.ok());
            recorders.push_back(std::make_unique<H2StreamRecorder>(m_client.get()));
            QVERIFY(recorders.back()->attach(*id));
        }
        QVERIFY(waitUntil([&] { return m_server->echo().requests().size() == 2; }));
        auto *server = qobject_cast<H2ServerConnection *>(m_server->echo().lastConnection());
        QVERIFY(server);
        server->setMaxConcurrentStreams(2);
        QVERIFY(settingsChanged.wait());
        QCOMPARE(m_client->peerStreamLimit().value_or(-1), 2);
        QCOMPARE(m_client->peerSettings().maxConcurrentStreams.value_or(0), 2u);
        const auto refused = m_client->submitRequest(classicRequest());
        QCOMPARE(refused.error().code, ErrorCode::StreamLimit);
        QCOMPARE(m_client->openStreamCount(), 2); // nothing queued

        // Ending one stream frees a slot.
        QVERIFY(m_client->endStream(recorders[0]->id()).ok());
        QVERIFY(waitUntil([&] { return recorders[0]->fin && m_client->openStreamCount() == 1; }));
        QVERIFY(echoRoundTrip(classicRequest(), "fits again"));
    }

    void eventsBeforeTheHandlerAreReplayed()
    {
        QVERIFY(startAndConnect());
        // Client side: the whole exchange happens before a handler registers.
        auto id = m_client->submitRequest(classicRequest());
        QVERIFY(id.ok());
        QCOMPARE(m_client->sendStreamData(*id, "early").valueOr(-1), 5);
        QVERIFY(m_client->endStream(*id).ok());
        QVERIFY(waitUntil([&] { return m_server->echo().finishedStreams() == 1; }));
        QVERIFY(waitUntil([&] { return m_client->openStreamCount() == 0; }));
        H2StreamRecorder recorder(m_client.get());
        QVERIFY(recorder.attach(*id)); // kept: response, data, FIN, in order
        QVERIFY(recorder.response);
        QCOMPARE(recorder.response->status, 200);
        QCOMPARE(recorder.data, QByteArray("early"));
        QVERIFY(recorder.fin);
        QCOMPARE(m_client->setStreamHandler(*id, &recorder).error().code, ErrorCode::UnknownStream);
    }

    void serverKeepsBodyUntilTheHandlerRegisters()
    {
        // A listener whose "proxy" registers its handler late.
        TlsServerListener listener(TlsTestServer::serverOptions());
        QPointer<ServerConnection> server;
        StreamId serverId = -1;
        qint64 baseline = 0;
        connect(&listener, &ServerListener::newConnection, this, [&](ServerConnection *connection) {
            server = connection;
            connect(connection, &ServerConnection::requestReceived, this, [&](StreamId id) {
                serverId = id;
                baseline = qint64(server->stats().bytesReceived); // the HEADERS are in
            });
        });
        QVERIFY(listener.listen(QHostAddress::LocalHost, 0).ok());
        ConnectOptions options;
        options.host = QStringLiteral("127.0.0.1");
        options.port = listener.serverPort();
        options.tls.useSystemTrust = false;
        options.tls.caFile = TestPki::instance().caCert;
        options.keepaliveMs = 0; // nothing but our DATA frames from now on
        QVERIFY(connectClient(options));
        auto id = m_client->submitRequest(classicRequest());
        QVERIFY(id.ok());
        QVERIFY(waitUntil([&] { return serverId >= 0; }));
        const QByteArray body(100000, 'b');
        QCOMPARE(m_client->sendStreamData(*id, body).valueOr(-1), body.size());
        QVERIFY(m_client->endStream(*id).ok());
        // Every DATA frame (payload plus a 9-byte header each) went through nghttp2.
        const qint64 frames = (body.size() + 16383) / 16384;
        QVERIFY(waitUntil([&] {
            return qint64(server->stats().bytesReceived) >= baseline + body.size() + 9 * frames;
        }));
        H2StreamRecorder recorder(server);
        QVERIFY(recorder.attach(serverId));
        QCOMPARE(recorder.data, body); // replayed at once, with the FIN
        QVERIFY(recorder.fin);
        m_client.reset();
    }

    void deadPeerDetectedByPing()
    {
        m_server = std::make_unique<TlsTestServer>();
        QVERIFY(m_server->start());
        TlsSniffingRelay relay(m_server->port());
        QVERIFY(relay.listen());
        ConnectOptions options = m_server->clientOptions();
        options.port = relay.port();
        options.keepaliveMs = 50;
        options.idleTimeoutMs = 300;
        QVERIFY(connectClient(options));
        QSignalSpy closed(m_client.get(), &HttpConnection::closed);
        QVERIFY(waitUntil([&] { return m_client->stats().smoothedRttUs >= 0; }));
        relay.freeze(); // the path goes silent: no FIN, no RST
        QVERIFY(waitUntil([&] { return closed.count() == 1; }, 5000));
        const Error reason = closed.at(0).at(0).value<Error>();
        QCOMPARE(reason.code, ErrorCode::ConnectionLost);
        QVERIFY2(reason.detail.contains(QStringLiteral("PING")), qPrintable(reason.detail));
    }

    void idleServerConnectionCloses()
    {
        ServerOptions options = TlsTestServer::serverOptions();
        options.idleTimeoutMs = 200;
        m_server = std::make_unique<TlsTestServer>();
        QVERIFY(m_server->start(options));
        m_client = std::make_unique<H2Transport>();
        QSignalSpy connected(m_client.get(), &HttpConnection::connected);
        QSignalSpy goaways(m_client.get(), &HttpConnection::goawayReceived);
        QSignalSpy closed(m_client.get(), &HttpConnection::closed);
        m_client->connectToProxy(m_server->clientOptions());
        // SETTINGS (connected) always precede the idle GOAWAY on the wire.
        QVERIFY(waitUntil([&] { return closed.count() == 1; }, 10000));
        QCOMPARE(connected.count(), 1);
        QCOMPARE(goaways.count(), 1);
        QCOMPARE(closed.at(0).at(0).value<Error>().code, ErrorCode::ConnectionClosed);
    }

    void listenerGoawayAll()
    {
        QVERIFY(startAndConnect());
        auto id = m_client->submitRequest(classicRequest());
        QVERIFY(id.ok());
        H2StreamRecorder recorder(m_client.get());
        QVERIFY(recorder.attach(*id));
        QVERIFY(waitUntil([&] { return recorder.response.has_value(); }));
        QSignalSpy goaways(m_client.get(), &HttpConnection::goawayReceived);
        QSignalSpy closed(m_client.get(), &HttpConnection::closed);
        m_server->listener()->goawayAll();
        QVERIFY(goaways.wait());
        QCOMPARE(goaways.at(0).at(0).value<StreamId>(), *id);
        // The open stream still finishes; then the connection is gone, and so is the listener.
        QCOMPARE(m_client->sendStreamData(*id, "last words").valueOr(-1), 10);
        QVERIFY(m_client->endStream(*id).ok());
        QVERIFY(waitUntil([&] { return recorder.fin && closed.count() == 1; }));
        QCOMPARE(recorder.data, QByteArray("last words"));
        QVERIFY(waitUntil([&] { return m_server->listener()->connectionCount() == 0; }));
        QCOMPARE(m_server->listener()->serverPort(), quint16(0)); // no longer accepting
    }

    void extendedConnectNeedsPeerSetting()
    {
        // A server that only does classic CONNECT: no SETTINGS_ENABLE_CONNECT_PROTOCOL. Built by
        // hand on a QSslServer, since the listener always enables extended CONNECT.
        const TestPki &pki = TestPki::instance();
        QSslServer tls;
        QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
        configuration.setLocalCertificateChain(QSslCertificate::fromPath(pki.serverCert));
        QFile keyFile(pki.serverKey);
        QVERIFY(keyFile.open(QIODevice::ReadOnly));
        configuration.setPrivateKey(QSslKey(&keyFile, QSsl::Ec));
        configuration.setAllowedNextProtocols({"h2"});
        tls.setSslConfiguration(configuration);
        QVERIFY(tls.listen(QHostAddress::LocalHost));
        StreamEchoServer echo;
        std::unique_ptr<H2ServerConnection> server;
        connect(&tls, &QTcpServer::pendingConnectionAvailable, this, [&] {
            auto *socket = qobject_cast<QSslSocket *>(tls.nextPendingConnection());
            server = std::make_unique<H2ServerConnection>(socket, TlsTestServer::serverOptions());
            server->setExtendedConnectEnabled(false);
            echo.attach(server.get());
            server->start();
        });
        ConnectOptions options;
        options.host = QStringLiteral("127.0.0.1");
        options.port = tls.serverPort();
        options.tls.useSystemTrust = false;
        options.tls.caFile = pki.caCert;
        QVERIFY(connectClient(options));
        QVERIFY(m_client->peerSettings().received);
        QVERIFY(!m_client->peerSettings().extendedConnect);
        const auto refused = m_client->submitRequest(udpRequest());
        QCOMPARE(refused.error().code, ErrorCode::NoExtendedConnect);
        QCOMPARE(m_client->openStreamCount(), 0);
        QVERIFY(echoRoundTrip(classicRequest(), "classic still works"));
        m_client.reset();
    }
};

QTEST_GUILESS_MAIN(TestH2Transport)
#include "tst_h2_transport.moc"
