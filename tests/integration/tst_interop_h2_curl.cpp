// Real clients against our servers on loopback: curl makes classic CONNECT tunnels through our
// TLS listener (HTTP/1.1: this curl's HTTPS-proxy support is HTTP/1.1 only, `--proxy-http2`
// needs curl 8.1, used directly when present), and through nghttpx, whose HTTP/2 backend
// connection reaches our HTTP/2 server. A relay in the test connects each tunnel to a small HTTP
// server; curl's download must be byte-exact.

#include "support/H2InteropHelpers.h"
#include "support/H2TestUtil.h"
#include "support/TestPki.h"
#include "support/TlsTestServer.h"
#include "transport/ServerConnection.h"
#include "transport/StreamHandler.h"
#include "transport/tls/TlsServerListener.h"

#include <QtCore/QFile>
#include <QtCore/QPointer>
#include <QtCore/QRandomGenerator>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QTest>

#include <map>
#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

bool writeFile(const QString &path, const QByteArray &text)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(text) == text.size();
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// RelayTunnel: one classic CONNECT stream relayed to a TCP target, flow-controlled both ways:
// client bytes are consumed once written to the target; target bytes are read only while the
// stream accepts them.
class RelayTunnel final : public QObject, public StreamHandler
{
public:
    RelayTunnel(ServerConnection *connection, StreamId id, const QByteArray &authority)
        : m_connection(connection)
        , m_id(id)
    {
        const qsizetype colon = authority.lastIndexOf(':');
        connect(&m_target, &QTcpSocket::connected, this, [this] {
            (void)m_connection->submitResponse(m_id, Response{200, {}}, false);
            flushToTarget();
        });
        connect(&m_target, &QTcpSocket::readyRead, this, &RelayTunnel::pumpFromTarget);
        connect(&m_target, &QTcpSocket::bytesWritten, this, [this](qint64 bytes) {
            if (m_connection)
                m_connection->consumeStreamData(m_id, bytes);
        });
        connect(&m_target, &QTcpSocket::disconnected, this, [this] {
            m_targetClosed = true;
            pumpFromTarget();
        });
        connect(&m_target, &QTcpSocket::errorOccurred, this, [this] {
            if (m_connection && m_target.state() != QAbstractSocket::ConnectedState &&
                !m_responded) {
                (void)m_connection->submitResponse(m_id, Response{502, {}}, true);
            }
        });
        m_target.connectToHost(QString::fromLatin1(authority.left(colon)),
                               authority.mid(colon + 1).toUShort());
    }

    ~RelayTunnel() override
    {
        if (m_connection)
            m_connection->clearStreamHandler(m_id);
    }

    void onStreamResponse(StreamId, const Response &) override {}

    void onStreamData(StreamId, QByteArrayView data, bool fin) override
    {
        m_toTarget.append(data.data(), data.size());
        m_clientEnded = m_clientEnded || fin;
        flushToTarget();
    }

    void onStreamReset(StreamId, const Error &) override { m_target.abort(); }
    void onStreamWritable(StreamId) override { pumpFromTarget(); }

private:
    void flushToTarget()
    {
        if (m_target.state() != QAbstractSocket::ConnectedState)
            return;
        m_responded = true;
        if (!m_toTarget.isEmpty())
            m_target.write(m_toTarget);
        m_toTarget.clear();
        if (m_clientEnded)
            m_target.disconnectFromHost();
    }

    void pumpFromTarget()
    {
        if (!m_connection)
            return;
        while (m_target.bytesAvailable() > 0) {
            const QByteArray chunk = m_target.peek(64 * 1024);
            auto accepted = m_connection->sendStreamData(m_id, chunk);
            if (!accepted || *accepted == 0)
                return; // resumed by onStreamWritable()
            m_target.skip(*accepted);
        }
        if (m_targetClosed && !m_ended) {
            m_ended = true;
            (void)m_connection->endStream(m_id);
        }
    }

    QPointer<ServerConnection> m_connection;
    const StreamId m_id;
    QTcpSocket m_target;
    QByteArray m_toTarget;
    bool m_clientEnded = false;
    bool m_targetClosed = false;
    bool m_responded = false;
    bool m_ended = false;
};

// ConnectRelay: serves classic CONNECT on every connection of a listener.
class ConnectRelay : public QObject
{
public:
    explicit ConnectRelay(ServerListener *listener)
    {
        connect(
            listener, &ServerListener::newConnection, this, [this](ServerConnection *connection) {
                kinds.append(connection->kind());
                connect(connection, &ServerConnection::requestReceived, this,
                        [this, connection](StreamId id, const IncomingRequest &request) {
                            requests.append(request);
                            if (!request.protocol.isEmpty() || request.method != "CONNECT") {
                                (void)connection->submitResponse(id, Response{501, {}}, true);
                                return;
                            }
                            auto tunnel =
                                std::make_unique<RelayTunnel>(connection, id, request.authority);
                            (void)connection->setStreamHandler(id, tunnel.get());
                            m_tunnels.push_back(std::move(tunnel));
                        });
            });
    }

    QList<TransportKind> kinds;
    QList<IncomingRequest> requests;

private:
    std::vector<std::unique_ptr<RelayTunnel>> m_tunnels;
};

} // namespace

class TestInteropCurl : public QObject
{
    Q_OBJECT

private:
    QByteArray m_body;
    QString m_curl;

    // curlHasProxyHttp2: whether this curl can speak HTTP/2 to an HTTPS proxy (curl >= 8.1).
    bool curlHasProxyHttp2() const
    {
        QProcess curl;
        curl.start(m_curl, {QStringLiteral("--help"), QStringLiteral("all")});
        curl.waitForFinished(10000); // no connection of ours is open meanwhile
        return curl.readAllStandardOutput().contains("--proxy-http2");
    }

    // runCurl: downloads http://127.0.0.1:<origin>/file through the proxy; returns the file.
    QByteArray runCurl(quint16 proxyPort, quint16 originPort, const QString &outDir, QString &log,
                       bool proxyHttp2 = false)
    {
        const QString out = outDir + QStringLiteral("/download.bin");
        QFile::remove(out);
        QStringList arguments{QStringLiteral("-sS"),
                              QStringLiteral("--fail"),
                              QStringLiteral("-p"),
                              QStringLiteral("-x"),
                              QStringLiteral("https://127.0.0.1:%1").arg(proxyPort),
                              QStringLiteral("--proxy-cacert"),
                              TestPki::instance().caCert,
                              QStringLiteral("--max-time"),
                              QStringLiteral("30"),
                              QStringLiteral("-o"),
                              out,
                              QStringLiteral("http://127.0.0.1:%1/file").arg(originPort)};
        if (proxyHttp2)
            arguments.prepend(QStringLiteral("--proxy-http2"));
        QProcess curl;
        curl.setProcessChannelMode(QProcess::MergedChannels);
        curl.start(m_curl, arguments);
        // Our servers run in this thread: wait on the event loop, never block it.
        waitUntil([&] { return curl.state() == QProcess::NotRunning; }, 40000);
        log = QString::fromLocal8Bit(curl.readAll()) +
              QStringLiteral(" exit %1").arg(curl.exitCode());
        return curl.exitStatus() == QProcess::NormalExit && curl.exitCode() == 0 ? readFile(out)
                                                                                 : QByteArray();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
        m_curl = programPath(QStringLiteral("curl"));
        if (m_curl.isEmpty())
            QSKIP("curl is needed (scripts/setup.sh installs it)");
        m_body.resize(3 * 1024 * 1024 + 17);
        QRandomGenerator generator(77);
        for (char &byte : m_body)
            byte = char(generator.bounded(256));
    }

    void curlThroughOurH1Server()
    {
        H2TinyHttpServer origin(m_body);
        QVERIFY(origin.listen());
        TlsServerListener listener(TlsTestServer::serverOptions());
        ConnectRelay relay(&listener);
        QVERIFY(listener.listen(QHostAddress::LocalHost, 0).ok());
        QTemporaryDir dir;
        QString log;
        const QByteArray downloaded =
            runCurl(listener.serverPort(), origin.port(), dir.path(), log);
        QVERIFY2(downloaded == m_body, qPrintable(log));
        QCOMPARE(origin.requests(), 1);
        QCOMPARE(relay.kinds, QList<TransportKind>{TransportKind::H1});
        QCOMPARE(relay.requests.value(0).authority,
                 "127.0.0.1:" + QByteArray::number(origin.port()));
    }

    void curlViaNghttpxToOurH2Server()
    {
        const QString nghttpx = programPath(QStringLiteral("nghttpx"));
        if (nghttpx.isEmpty())
            QSKIP("nghttpx is needed (scripts/setup.sh installs it)");
        H2TinyHttpServer origin(m_body);
        QVERIFY(origin.listen());
        ServerOptions options = TlsTestServer::serverOptions();
        options.enableH1 = false; // only h2 may reach us
        TlsServerListener listener(options);
        ConnectRelay relay(&listener);
        QVERIFY(listener.listen(QHostAddress::LocalHost, 0).ok());

        // curl --(h1 CONNECT over TLS)--> nghttpx --(h2 CONNECT over TLS)--> our h2 server.
        const TestPki &pki = TestPki::instance();
        const quint16 ours = listener.serverPort();
        ExternalServer front(nghttpx, [&pki, ours](quint16 port, const QString &path) {
            writeFile(path + QStringLiteral("/nghttpx.conf"),
                      "frontend=127.0.0.1," + QByteArray::number(port) + "\nbackend=127.0.0.1," +
                          QByteArray::number(ours) +
                          ";;proto=h2;tls;sni=localhost"
                          "\nhttp2-proxy=yes\nworkers=1\nsingle-process=yes\nno-ocsp=yes\n"
                          "cacert=" +
                          pki.caCert.toUtf8() + "\nprivate-key-file=" + pki.serverKey.toUtf8() +
                          "\ncertificate-file=" + pki.serverCert.toUtf8() +
                          "\npid-file=" + path.toUtf8() +
                          "/nghttpx.pid"
                          "\nerrorlog-file=" +
                          path.toUtf8() + "/nghttpx.log\n");
            return QStringList{QStringLiteral("--conf=") + path + QStringLiteral("/nghttpx.conf")};
        });
        QVERIFY2(front.start(), qPrintable(front.diagnostics()));
        QTemporaryDir dir;
        QString log;
        const QByteArray downloaded = runCurl(front.port(), origin.port(), dir.path(), log);
        QVERIFY2(downloaded == m_body, qPrintable(log + front.diagnostics()));
        QVERIFY(relay.kinds.contains(TransportKind::H2));
        QCOMPARE(relay.requests.value(0).method, QByteArray("CONNECT"));
        QCOMPARE(relay.requests.value(0).authority,
                 "127.0.0.1:" + QByteArray::number(origin.port()));

        // A curl that speaks HTTP/2 to proxies itself (8.1 and later) talks to us directly too.
        if (curlHasProxyHttp2()) {
            const QByteArray direct = runCurl(ours, origin.port(), dir.path(), log, true);
            QVERIFY2(direct == m_body, qPrintable(log));
        }
    }
};

QTEST_GUILESS_MAIN(TestInteropCurl)
#include "tst_interop_h2_curl.moc"
