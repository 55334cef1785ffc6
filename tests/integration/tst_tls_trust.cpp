// The OpenSSL side of TlsSettings over real TLS on loopback: the trust decision (system store,
// CA file, host name, expiry, SHA-256 pins of SPKI or certificate, insecure), SNI on the wire,
// mTLS, ALPN, and the typed error for each failure.

#include "support/H2TestUtil.h"
#include "support/TestPki.h"
#include "support/TlsSniffingRelay.h"
#include "support/TlsTestServer.h"
#include "transport/h1/H1Transport.h"
#include "transport/h2/H2Transport.h"
#include "transport/tls/TlsServerListener.h"

#include <QtCore/QFile>
#include <QtCore/QRegularExpression>
#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslKey>
#include <QtNetwork/QSslServer>
#include <QtNetwork/QTcpServer>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

ServerOptions serverWith(const QString &certificate, const QString &key)
{
    ServerOptions options = TlsTestServer::serverOptions();
    options.tls.certificateFile = certificate;
    options.tls.privateKeyFile = key;
    return options;
}

// Outcome: how a connect attempt ended.
struct Outcome
{
    bool connected = false;
    Error error;
};

} // namespace

class TestTlsTrust : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TlsTestServer> m_server;
    std::unique_ptr<Transport> m_client;

    bool startServer(const ServerOptions &options)
    {
        m_server = std::make_unique<TlsTestServer>();
        return m_server->start(options);
    }

    // connectH2: connects an H2Transport with `tls` to the server (or `port`), waits for the end.
    Outcome connectWith(const TlsSettings &tls, quint16 port = 0,
                        const QString &host = QStringLiteral("127.0.0.1"), bool h1 = false)
    {
        if (h1)
            m_client = std::make_unique<H1Transport>();
        else
            m_client = std::make_unique<H2Transport>();
        QSignalSpy connected(m_client.get(), &HttpConnection::connected);
        QSignalSpy closed(m_client.get(), &HttpConnection::closed);
        ConnectOptions options = m_server->clientOptions();
        options.host = host;
        options.tls = tls;
        if (port)
            options.port = port;
        m_client->connectToProxy(options);
        Outcome outcome;
        if (!waitUntil([&] { return connected.count() > 0 || closed.count() > 0; }))
            outcome.error = Error(ErrorCode::Timeout, QStringLiteral("no outcome"));
        else if (closed.count() > 0)
            outcome.error = closed.at(0).at(0).value<Error>();
        else
            outcome.connected = true;
        return outcome;
    }

    static TlsSettings trustingTestCa()
    {
        TlsSettings tls;
        tls.useSystemTrust = false;
        tls.caFile = TestPki::instance().caCert;
        return tls;
    }

private Q_SLOTS:
    void init() { QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error)); }

    void cleanup()
    {
        m_client.reset();
        m_server.reset();
    }

    void selfSignedRefusedByDefault()
    {
        const TestPki &pki = TestPki::instance();
        QVERIFY(startServer(serverWith(pki.selfSignedCert, pki.selfSignedKey)));
        const Outcome outcome = connectWith(TlsSettings()); // system store only
        QVERIFY(!outcome.connected);
        QCOMPARE(outcome.error.code, ErrorCode::TlsUntrustedCertificate);
    }

    void selfSignedAcceptedWithCaFile()
    {
        const TestPki &pki = TestPki::instance();
        QVERIFY(startServer(serverWith(pki.selfSignedCert, pki.selfSignedKey)));
        TlsSettings tls;
        tls.caFile = pki.selfSignedCert; // added to the system store
        QVERIFY(connectWith(tls).connected);
    }

    void caSignedNeedsTheCa()
    {
        QVERIFY(startServer(TlsTestServer::serverOptions()));
        TlsSettings noAnchors;
        noAnchors.useSystemTrust = false;
        QCOMPARE(connectWith(noAnchors).error.code, ErrorCode::TlsUntrustedCertificate);
        QVERIFY(connectWith(trustingTestCa()).connected);
        // By name as well as by IP address.
        QVERIFY(connectWith(trustingTestCa(), 0, QStringLiteral("localhost")).connected);
    }

    void wrongHost()
    {
        const TestPki &pki = TestPki::instance();
        QVERIFY(startServer(serverWith(pki.wrongHostCert, pki.wrongHostKey)));
        QCOMPARE(connectWith(trustingTestCa()).error.code, ErrorCode::TlsHostnameMismatch);
    }

    void expired()
    {
        const TestPki &pki = TestPki::instance();
        QVERIFY(startServer(serverWith(pki.expiredCert, pki.expiredKey)));
        QCOMPARE(connectWith(trustingTestCa()).error.code, ErrorCode::TlsCertificateExpired);
    }

    void pins_data()
    {
        QTest::addColumn<bool>("selfSigned");
        QTest::addColumn<QByteArray>("pin");
        QTest::addColumn<int>("expected"); // -1 = connected, else an ErrorCode
        const TestPki &pki = TestPki::instance();
        QTest::newRow("spki") << false << pki.serverSpkiSha256 << -1;
        QTest::newRow("certificate") << false << pki.serverCertSha256 << -1;
        QTest::newRow("self-signed spki, chain not checked")
            << true << pki.selfSignedSpkiSha256 << -1;
        QTest::newRow("mismatch") << false << pki.selfSignedSpkiSha256
                                  << int(ErrorCode::TlsPinMismatch);
        QTest::newRow("mismatch despite a trusted chain")
            << true << pki.serverSpkiSha256 << int(ErrorCode::TlsPinMismatch);
    }

    void pins()
    {
        QFETCH(bool, selfSigned);
        QFETCH(QByteArray, pin);
        QFETCH(int, expected);
        const TestPki &pki = TestPki::instance();
        QVERIFY(startServer(selfSigned ? serverWith(pki.selfSignedCert, pki.selfSignedKey)
                                       : TlsTestServer::serverOptions()));
        TlsSettings tls = trustingTestCa();
        tls.useSystemTrust = false;
        tls.pinsSha256 = {QByteArray(32, '\x01'), pin};
        // Pins decide alone: a host name the certificate does not carry does not matter.
        const Outcome outcome = connectWith(tls, 0, QStringLiteral("127.0.0.1"));
        if (expected < 0) {
            QVERIFY2(outcome.connected, qPrintable(outcome.error.toString()));
        } else {
            QVERIFY(!outcome.connected);
            QCOMPARE(int(outcome.error.code), expected);
        }
    }

    void insecureAcceptsAnythingLoudly()
    {
        const TestPki &pki = TestPki::instance();
        QVERIFY(startServer(serverWith(pki.expiredCert, pki.expiredKey)));
        TlsSettings tls;
        tls.insecure = true;
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("DISABLED")));
        QVERIFY(connectWith(tls, 0, QStringLiteral("127.0.0.1")).connected);
    }

    void sniOnTheWire()
    {
        QVERIFY(startServer(TlsTestServer::serverOptions()));
        // An IP literal sends no SNI (RFC 6066, 3).
        {
            TlsSniffingRelay relay(m_server->port());
            QVERIFY(relay.listen());
            QVERIFY(connectWith(trustingTestCa(), relay.port()).connected);
            QVERIFY(relay.helloSeen());
            QVERIFY(!relay.sni().has_value());
            m_client.reset();
        }
        // A host name is sent as is.
        {
            TlsSniffingRelay relay(m_server->port());
            QVERIFY(relay.listen());
            QVERIFY(
                connectWith(trustingTestCa(), relay.port(), QStringLiteral("localhost")).connected);
            QCOMPARE(relay.sni().value_or("none"), QByteArray("localhost"));
            m_client.reset();
        }
        // The override is sent instead, and the certificate is checked against it.
        {
            TlsSniffingRelay relay(m_server->port());
            QVERIFY(relay.listen());
            TlsSettings tls = trustingTestCa();
            tls.sni = QStringLiteral("localhost");
            QVERIFY(connectWith(tls, relay.port()).connected);
            QCOMPARE(relay.sni().value_or("none"), QByteArray("localhost"));
            m_client.reset();
        }
        {
            TlsSniffingRelay relay(m_server->port());
            QVERIFY(relay.listen());
            TlsSettings tls = trustingTestCa();
            tls.sni = QStringLiteral("proxy.example");
            QCOMPARE(connectWith(tls, relay.port()).error.code, ErrorCode::TlsHostnameMismatch);
            QCOMPARE(relay.sni().value_or("none"), QByteArray("proxy.example"));
        }
    }

    void clientCertificateRequired()
    {
        const TestPki &pki = TestPki::instance();
        ServerOptions options = TlsTestServer::serverOptions();
        options.tls.clientCaFile = pki.caCert;
        options.tls.requireClientCertificate = true;
        QVERIFY(startServer(options));
        QSignalSpy refused(m_server->listener(), &TlsServerListener::handshakeFailed);

        // Without a certificate: the server's certificate_required alert, typed.
        Outcome outcome = connectWith(trustingTestCa());
        QVERIFY(!outcome.connected);
        QCOMPARE(outcome.error.code, ErrorCode::TlsClientCertificate);
        QVERIFY(waitUntil([&] { return refused.count() == 1; }));
        QCOMPARE(refused.at(0).at(1).value<Error>().code, ErrorCode::TlsClientCertificate);

        // A certificate the server's CA did not sign (and not made for clients).
        TlsSettings untrusted = trustingTestCa();
        untrusted.clientCertFile = pki.selfSignedCert;
        untrusted.clientKeyFile = pki.selfSignedKey;
        outcome = connectWith(untrusted);
        QVERIFY(!outcome.connected);
        QCOMPARE(outcome.error.code, ErrorCode::TlsClientCertificate);
        QVERIFY(waitUntil([&] { return refused.count() == 2; }));
        QCOMPARE(refused.at(1).at(1).value<Error>().code, ErrorCode::TlsClientCertificate);

        // The right one: accepted, and the server sees who it is.
        TlsSettings tls = trustingTestCa();
        tls.clientCertFile = pki.clientCert;
        tls.clientKeyFile = pki.clientKey;
        QSignalSpy accepted(m_server->listener(), &ServerListener::newConnection);
        outcome = connectWith(tls);
        QVERIFY2(outcome.connected, qPrintable(outcome.error.toString()));
        QVERIFY(waitUntil([&] { return accepted.count() == 1; }));
        auto *connection = accepted.at(0).at(0).value<ServerConnection *>();
        QVERIFY2(connection->stats().peerCertificate.startsWith(
                     QStringLiteral("CN=qmasque-test-client issuer CN=QMasque Test CA")),
                 qPrintable(connection->stats().peerCertificate));

        // Unusable client identity files are refused before connecting.
        TlsSettings missing = trustingTestCa();
        missing.clientCertFile = pki.clientCert;
        QCOMPARE(connectWith(missing).error.code, ErrorCode::TlsClientCertificate);
    }

    void alpnDecidesTheProtocol()
    {
        // The listener prefers h2, but serves http/1.1 to a client that offers only that.
        QVERIFY(startServer(TlsTestServer::serverOptions()));
        QVERIFY(connectWith(trustingTestCa()).connected);
        QCOMPARE(m_client->stats().alpn, QStringLiteral("h2"));
        QVERIFY(connectWith(trustingTestCa(), 0, QStringLiteral("127.0.0.1"), true).connected);
        QCOMPARE(m_client->stats().alpn, QStringLiteral("http/1.1"));

        // A server without ALPN: fine for http/1.1 (its default), never for h2 (RFC 9113, 3.3).
        const TestPki &pki = TestPki::instance();
        QSslServer plain;
        QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
        configuration.setLocalCertificateChain(QSslCertificate::fromPath(pki.serverCert));
        QFile keyFile(pki.serverKey);
        QVERIFY(keyFile.open(QIODevice::ReadOnly));
        configuration.setPrivateKey(QSslKey(&keyFile, QSsl::Ec));
        plain.setSslConfiguration(configuration);
        QVERIFY(plain.listen(QHostAddress::LocalHost));
        QCOMPARE(connectWith(trustingTestCa(), plain.serverPort()).error.code,
                 ErrorCode::AlpnMismatch);
        QVERIFY(connectWith(trustingTestCa(), plain.serverPort(), QStringLiteral("127.0.0.1"), true)
                    .connected);
        QVERIFY(m_client->stats().alpn.isEmpty());
    }

    void negotiatedParameters()
    {
        QVERIFY(startServer(TlsTestServer::serverOptions()));
        QVERIFY(connectWith(trustingTestCa()).connected);
        const TransportStats stats = m_client->stats();
        QCOMPARE(stats.alpn, QStringLiteral("h2"));
        QCOMPARE(stats.tlsVersion, QStringLiteral("TLSv1.3"));
        QVERIFY(stats.tlsCipher.startsWith(QStringLiteral("TLS_")));
        // OpenSSL 3.0 prefers X25519; P-256 would show as "P-256".
        QVERIFY2(stats.tlsGroup == QStringLiteral("x25519") ||
                     stats.tlsGroup.startsWith(QStringLiteral("P-")),
                 qPrintable(stats.tlsGroup));
        QVERIFY(stats.peerCertificate.contains(QStringLiteral("expires 20")));
    }

    void silentServerTimesOut()
    {
        // TCP is accepted but TLS never answers: the connect deadline names the handshake.
        QVERIFY(startServer(TlsTestServer::serverOptions()));
        QTcpServer silent;
        QVERIFY(silent.listen(QHostAddress::LocalHost));
        m_client = std::make_unique<H2Transport>();
        QSignalSpy closed(m_client.get(), &HttpConnection::closed);
        ConnectOptions options = m_server->clientOptions();
        options.port = silent.serverPort();
        options.connectTimeoutMs = 1000;
        m_client->connectToProxy(options);
        QVERIFY(waitUntil([&] { return closed.count() == 1; }));
        QCOMPARE(closed.at(0).at(0).value<Error>().code, ErrorCode::HandshakeTimeout);
    }
};

QTEST_GUILESS_MAIN(TestTlsTrust)
#include "tst_tls_trust.moc"
