// HTTP/3 handshakes on loopback: both address families, the TLS trust decision of TlsSettings
// (CA, system trust, host name, expiry, pins, insecure), statistics, idle timeout.

#include "support/H3TestClient.h"
#include "support/H3TestServer.h"
#include "support/TestPki.h"
#include "transport/h3/H3ServerConnection.h"
#include "transport/h3/H3Transport.h"

#include <QtCore/QElapsedTimer>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

Q_DECLARE_METATYPE(qmasque::TlsSettings)

using namespace qmasque;
using namespace qmasque::test;

class TstH3Handshake : public QObject
{
    Q_OBJECT

private:
    static ServerOptions serverWith(const QString &cert, const QString &key)
    {
        ServerOptions options = H3TestServer::defaultOptions();
        options.tls.certificateFile = cert;
        options.tls.privateKeyFile = key;
        return options;
    }

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<qmasque::Error>();
        const TestPki &pki = TestPki::instance();
        QVERIFY2(pki.isValid(), qPrintable(pki.error));
    }

    void handshake_data()
    {
        QTest::addColumn<QString>("bindAddress");
        QTest::addColumn<QString>("host");
        QTest::newRow("ipv4") << QStringLiteral("127.0.0.1") << QStringLiteral("127.0.0.1");
        QTest::newRow("ipv6") << QStringLiteral("::1") << QStringLiteral("::1");
        QTest::newRow("dns name") << QStringLiteral("127.0.0.1") << QStringLiteral("localhost");
    }

    void handshake()
    {
        QFETCH(QString, bindAddress);
        QFETCH(QString, host);
        H3TestServer server;
        const Status listening = server.listen(QHostAddress(bindAddress));
        if (!listening && bindAddress.contains(QLatin1Char(':')))
            QSKIP("no IPv6 loopback on this machine");
        QVERIFY2(listening, qPrintable(listening ? QString() : listening.error().toString()));
        QVERIFY(server.port() != 0);

        QSignalSpy newConnection(server.listener(), &ServerListener::newConnection);
        Error error;
        ConnectOptions options = h3ClientOptions(server.port(), host);
        if (host == QStringLiteral("localhost")) {
            // "localhost" may resolve to ::1 first; the server only listens on IPv4.
            options.host = QStringLiteral("127.0.0.1");
            options.tls.sni = QStringLiteral("localhost");
        }
        std::unique_ptr<H3Transport> client(connectH3(options, nullptr, &error));
        QVERIFY2(client, qPrintable(error.toString()));
        QCOMPARE(client->state(), HttpConnection::State::Connected);
        QCOMPARE(client->kind(), TransportKind::H3);

        // connected() comes only after the server's SETTINGS: they are known at first use.
        const PeerSettings settings = client->peerSettings();
        QVERIFY(settings.received);
        QVERIFY(settings.extendedConnect);
        QVERIFY(settings.h3Datagram);
        QCOMPARE(settings.maxDatagramFrameSize, quint64(65535));
        QCOMPARE(client->peerStreamLimit(), std::optional<qint64>(100));

        QTRY_COMPARE(newConnection.size(), 1);
        auto *serverSide = newConnection.first().first().value<ServerConnection *>();
        QVERIFY(serverSide);
        QCOMPARE(serverSide->peerAddress(), QHostAddress(bindAddress));
        QTRY_VERIFY(serverSide->peerSettings().received);
        QVERIFY(serverSide->peerSettings().h3Datagram);

        const TransportStats stats = client->stats();
        QCOMPARE(stats.kind, TransportKind::H3);
        QCOMPARE(stats.alpn, QStringLiteral("h3"));
        QCOMPARE(stats.quicVersion, QStringLiteral("v1"));
        QCOMPARE(stats.tlsVersion, QStringLiteral("TLSv1.3"));
        QVERIFY2(stats.tlsCipher.startsWith(QStringLiteral("TLS_")), qPrintable(stats.tlsCipher));
        QVERIFY(!stats.tlsGroup.isEmpty());
        QVERIFY2(stats.peerCertificate.contains(QStringLiteral("QMasque Test CA")),
                 qPrintable(stats.peerCertificate));
        QVERIFY(stats.smoothedRttUs > 0);
        QVERIFY(stats.minRttUs >= 0);
        QVERIFY(stats.congestionWindow > 0);
        QVERIFY(stats.pathMtu >= 1200);
        QVERIFY(stats.bytesSent > 0 && stats.bytesReceived > 0);
        QVERIFY(stats.framesSent > 0 && stats.framesReceived > 0);

        // A local close reaches the server as H3_NO_ERROR.
        QSignalSpy clientClosed(client.get(), &HttpConnection::closed);
        QSignalSpy serverClosed(serverSide, &HttpConnection::closed);
        client->close();
        QCOMPARE(client->state(), HttpConnection::State::Closed);
        QVERIFY(clientClosed.isEmpty()); // queued, never from inside close()
        QTRY_COMPARE(clientClosed.size(), 1);
        QCOMPARE(clientClosed.first().first().value<Error>().code, ErrorCode::LocalClose);
        QTRY_COMPARE(serverClosed.size(), 1);
        QCOMPARE(serverClosed.first().first().value<Error>().code, ErrorCode::ConnectionClosed);
    }

    void trust_data()
    {
        const TestPki &pki = TestPki::instance();
        QTest::addColumn<QString>("cert");
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("host");
        QTest::addColumn<TlsSettings>("tls");
        QTest::addColumn<int>("expected"); // -1: connects; else ErrorCode

        TlsSettings caTrust;
        caTrust.useSystemTrust = false;
        caTrust.caFile = pki.caCert;
        TlsSettings systemOnly; // the test CA is in no system store

        QTest::newRow("CA file accepted")
            << pki.serverCert << pki.serverKey << QStringLiteral("127.0.0.1") << caTrust << -1;
        QTest::newRow("system trust + CA file accepted") << pki.serverCert << pki.serverKey
                                                         << QStringLiteral("localhost") <<
            [&] {
                TlsSettings tls = caTrust;
                tls.useSystemTrust = true;
                return tls;
            }() << -1;
        QTest::newRow("self-signed refused")
            << pki.selfSignedCert << pki.selfSignedKey << QStringLiteral("127.0.0.1") << caTrust
            << int(ErrorCode::TlsUntrustedCertificate);
        QTest::newRow("unknown CA refused by system trust")
            << pki.serverCert << pki.serverKey << QStringLiteral("127.0.0.1") << systemOnly
            << int(ErrorCode::TlsUntrustedCertificate);
        QTest::newRow("wrong host")
            << pki.wrongHostCert << pki.wrongHostKey << QStringLiteral("127.0.0.1") << caTrust
            << int(ErrorCode::TlsHostnameMismatch);
        QTest::newRow("expired") << pki.expiredCert << pki.expiredKey << QStringLiteral("127.0.0.1")
                                 << caTrust << int(ErrorCode::TlsCertificateExpired);

        TlsSettings spkiPin;
        spkiPin.pinsSha256 = {QByteArray(32, 'x'), pki.selfSignedSpkiSha256};
        QTest::newRow("SPKI pin accepts self-signed")
            << pki.selfSignedCert << pki.selfSignedKey << QStringLiteral("127.0.0.1") << spkiPin
            << -1;
        TlsSettings certPin;
        certPin.pinsSha256 = {pki.serverCertSha256};
        QTest::newRow("certificate pin ignores the host") << pki.serverCert << pki.serverKey
                                                          << QStringLiteral("127.0.0.1") <<
            [&] {
                TlsSettings tls = certPin;
                tls.sni = QStringLiteral("not-the-host.invalid");
                return tls;
            }() << -1;
        TlsSettings wrongPin;
        wrongPin.pinsSha256 = {pki.serverSpkiSha256};
        QTest::newRow("pin mismatch")
            << pki.selfSignedCert << pki.selfSignedKey << QStringLiteral("127.0.0.1") << wrongPin
            << int(ErrorCode::TlsPinMismatch);
        TlsSettings insecure;
        insecure.insecure = true;
        insecure.useSystemTrust = false;
        QTest::newRow("insecure accepts anything")
            << pki.expiredCert << pki.expiredKey << QStringLiteral("127.0.0.1") << insecure << -1;
        TlsSettings sniOverride = caTrust;
        sniOverride.sni = QStringLiteral("wrong.invalid");
        QTest::newRow("SNI override verifies that name")
            << pki.wrongHostCert << pki.wrongHostKey << QStringLiteral("127.0.0.1") << sniOverride
            << -1;
    }

    void trust()
    {
        QFETCH(QString, cert);
        QFETCH(QString, key);
        QFETCH(QString, host);
        QFETCH(TlsSettings, tls);
        QFETCH(int, expected);

        H3TestServer server(serverWith(cert, key));
        QVERIFY(server.listen(QHostAddress::LocalHost));
        QSignalSpy newConnection(server.listener(), &ServerListener::newConnection);
        ConnectOptions options = h3ClientOptions(server.port(), QStringLiteral("127.0.0.1"));
        if (host != QStringLiteral("127.0.0.1") && tls.sni.isEmpty())
            tls.sni = host;
        options.tls = tls;
        Error error;
        std::unique_ptr<H3Transport> client(connectH3(options, nullptr, &error));
        if (expected < 0) {
            QVERIFY2(client, qPrintable(error.toString()));
            QTRY_COMPARE(newConnection.size(), 1);
            return;
        }
        QVERIFY(!client);
        QCOMPARE(int(error.code), expected);
        QVERIFY2(!error.detail.isEmpty(), "a verification failure says why");
        QVERIFY(newConnection.isEmpty()); // the server never hands out a failed handshake
    }

    void clientCertificate()
    {
        const TestPki &pki = TestPki::instance();
        ServerOptions options = H3TestServer::defaultOptions();
        options.tls.clientCaFile = pki.caCert;
        options.tls.requireClientCertificate = true;
        H3TestServer server(options);
        QVERIFY(server.listen(QHostAddress::LocalHost));

        Error error;
        ConnectOptions withCert = h3ClientOptions(server.port());
        withCert.tls.clientCertFile = pki.clientCert;
        withCert.tls.clientKeyFile = pki.clientKey;
        std::unique_ptr<H3Transport> client(connectH3(withCert, nullptr, &error));
        QVERIFY2(client, qPrintable(error.toString()));
        QVERIFY(client->stats().peerCertificate.contains(QStringLiteral("localhost")));

        std::unique_ptr<H3Transport> anonymous(
            connectH3(h3ClientOptions(server.port()), nullptr, &error));
        QVERIFY(!anonymous); // connected() waits for HANDSHAKE_DONE: the server refused first
        QCOMPARE(error.code, ErrorCode::TlsClientCertificate);
    }

    void refusedAndUnreachable()
    {
        // Nobody listens on the port: ICMP port unreachable fails the handshake at once.
        quint16 port = 0;
        {
            H3ServerListener listener(H3TestServer::defaultOptions());
            QVERIFY(listener.listen(QHostAddress::LocalHost, 0));
            port = listener.serverPort();
        }
        Error error;
        QElapsedTimer timer;
        timer.start();
        std::unique_ptr<H3Transport> client(connectH3(h3ClientOptions(port), nullptr, &error));
        QVERIFY(!client);
        QCOMPARE(error.code, ErrorCode::ConnectionRefused);
        QVERIFY(timer.elapsed() < 3000);

        ConnectOptions badName = h3ClientOptions(port, QStringLiteral("no-such-host.invalid"));
        std::unique_ptr<H3Transport> unnamed(connectH3(badName, nullptr, &error));
        QVERIFY(!unnamed);
        QCOMPARE(error.code, ErrorCode::DnsFailed);
    }

    void handshakeTimeout()
    {
        // A UDP socket that never answers: the connect deadline ends the handshake.
        QUdpSocket silent;
        QVERIFY(silent.bind(QHostAddress::LocalHost, 0));
        ConnectOptions options = h3ClientOptions(silent.localPort());
        options.connectTimeoutMs = 600;
        Error error;
        QElapsedTimer timer;
        timer.start();
        std::unique_ptr<H3Transport> client(connectH3(options, nullptr, &error));
        QVERIFY(!client);
        QCOMPARE(error.code, ErrorCode::HandshakeTimeout);
        QVERIFY2(timer.elapsed() < 3000, qPrintable(QString::number(timer.elapsed())));
        QVERIFY(silent.hasPendingDatagrams()); // it did try
    }

    void idleTimeout()
    {
        ServerOptions serverOptions = H3TestServer::defaultOptions();
        serverOptions.idleTimeoutMs = 400;
        H3TestServer server(serverOptions);
        QVERIFY(server.listen(QHostAddress::LocalHost));
        ConnectOptions options = h3ClientOptions(server.port());
        options.idleTimeoutMs = 400;
        options.keepaliveMs = 0;
        Error error;
        std::unique_ptr<H3Transport> client(connectH3(options, nullptr, &error));
        QVERIFY2(client, qPrintable(error.toString()));
        QSignalSpy closed(client.get(), &HttpConnection::closed);
        QVERIFY(closed.wait(5000));
        QCOMPARE(closed.first().first().value<Error>().code, ErrorCode::IdleTimeout);
        QCOMPARE(client->state(), HttpConnection::State::Closed);
    }

    void keepaliveHoldsIdleConnection()
    {
        ServerOptions serverOptions = H3TestServer::defaultOptions();
        serverOptions.idleTimeoutMs = 600;
        H3TestServer server(serverOptions);
        QVERIFY(server.listen(QHostAddress::LocalHost));
        ConnectOptions options = h3ClientOptions(server.port());
        options.idleTimeoutMs = 600;
        options.keepaliveMs = 150;
        Error error;
        std::unique_ptr<H3Transport> client(connectH3(options, nullptr, &error));
        QVERIFY2(client, qPrintable(error.toString()));
        QSignalSpy closed(client.get(), &HttpConnection::closed);
        QVERIFY(!closed.wait(1500)); // PINGs keep it alive past the idle timeout
        QCOMPARE(client->state(), HttpConnection::State::Connected);
    }
};

QTEST_GUILESS_MAIN(TstH3Handshake)
#include "tst_h3_handshake.moc"
