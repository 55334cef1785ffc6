// Our clients against real proxies on loopback: H2Transport makes classic CONNECT tunnels
// through nghttpx in HTTP/2 proxy mode (TLS frontend, h2), H1Transport through the same nghttpx
// frontend over HTTP/1.1 (ALPN http/1.1); nghttpx forwards both to tinyproxy, which connects to
// an echo server in the test. Bytes must come back exactly.

#include "support/H2InteropHelpers.h"
#include "support/H2StreamRecorder.h"
#include "support/H2TestUtil.h"
#include "support/TestPki.h"
#include "transport/h1/H1Transport.h"
#include "transport/h2/H2Transport.h"

#include <QtCore/QFile>
#include <QtCore/QRandomGenerator>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

bool writeFile(const QString &path, const QByteArray &text)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(text) == text.size();
}

QByteArray randomBytes(qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    QRandomGenerator generator(20240611);
    for (char &byte : bytes)
        byte = char(generator.bounded(256));
    return bytes;
}

} // namespace

class TestInteropNghttpx : public QObject
{
    Q_OBJECT

private:
    EchoTcpServer m_echo;
    std::unique_ptr<ExternalServer> m_tinyproxy;
    std::unique_ptr<ExternalServer> m_nghttpx;

    ConnectOptions proxyOptions() const
    {
        ConnectOptions options;
        options.host = QStringLiteral("127.0.0.1");
        options.port = m_nghttpx->port();
        options.tls.useSystemTrust = false;
        options.tls.caFile = TestPki::instance().caCert;
        return options;
    }

    QByteArray echoAuthority() const { return "127.0.0.1:" + QByteArray::number(m_echo.port()); }

    // tunnel: one classic CONNECT to the echo server over `transport`; sends `payload` in pieces
    // as the transport accepts it and checks that exactly it comes back.
    static bool roundTrip(Transport &transport, const QByteArray &authority,
                          const QByteArray &payload, QString &why)
    {
        Request request;
        request.authority = authority;
        auto id = transport.submitRequest(request);
        if (!id) {
            why = id.error().toString();
            return false;
        }
        H2StreamRecorder recorder(&transport);
        recorder.attach(*id);
        qint64 sent = 0;
        const auto pump = [&] {
            while (sent < payload.size()) {
                auto accepted = transport.sendStreamData(*id, QByteArrayView(payload).sliced(sent));
                if (!accepted || *accepted == 0)
                    return;
                sent += *accepted;
            }
        };
        QObject::connect(&recorder, &H2StreamRecorder::writable, &recorder, pump);
        pump();
        const bool done = waitUntil(
            [&] {
                return recorder.data.size() >= payload.size() || recorder.reset || recorder.fin;
            },
            30000);
        if (!done || !recorder.response || recorder.response->status != 200 ||
            recorder.data != payload) {
            why = QStringLiteral("status %1, %2 of %3 bytes back, reset %4")
                      .arg(recorder.response ? recorder.response->status : 0)
                      .arg(recorder.data.size())
                      .arg(payload.size())
                      .arg(recorder.reset ? recorder.reset->toString() : QStringLiteral("none"));
            return false;
        }
        transport.resetStream(*id, StreamResetReason::Cancel);
        return true;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
        const QString nghttpx = programPath(QStringLiteral("nghttpx"));
        const QString tinyproxy = programPath(QStringLiteral("tinyproxy"));
        if (nghttpx.isEmpty() || tinyproxy.isEmpty())
            QSKIP("nghttpx and tinyproxy are needed (scripts/setup.sh installs them)");
        QVERIFY(m_echo.listen());

        m_tinyproxy =
            std::make_unique<ExternalServer>(tinyproxy, [](quint16 port, const QString &dir) {
                // No ConnectPort lines: CONNECT to any port; no Allow lines: any client (loopback).
                writeFile(dir + QStringLiteral("/tinyproxy.conf"),
                          "Port " + QByteArray::number(port) +
                              "\nListen 127.0.0.1\nTimeout 60\nMaxClients 50\nLogLevel Info\n"
                              "LogFile \"" +
                              dir.toUtf8() +
                              "/tinyproxy.log\"\n"
                              "PidFile \"" +
                              dir.toUtf8() + "/tinyproxy.pid\"\n");
                return QStringList{QStringLiteral("-d"), QStringLiteral("-c"),
                                   dir + QStringLiteral("/tinyproxy.conf")};
            });
        QVERIFY2(m_tinyproxy->start(), qPrintable(m_tinyproxy->diagnostics()));

        const TestPki &pki = TestPki::instance();
        const quint16 backend = m_tinyproxy->port();
        m_nghttpx = std::make_unique<ExternalServer>(nghttpx, [&pki, backend](quint16 port,
                                                                              const QString &dir) {
            writeFile(dir + QStringLiteral("/nghttpx.conf"),
                      "frontend=127.0.0.1," + QByteArray::number(port) + "\nbackend=127.0.0.1," +
                          QByteArray::number(backend) +
                          "\nhttp2-proxy=yes\nworkers=1\nsingle-process=yes\nno-ocsp=yes\n"
                          "private-key-file=" +
                          pki.serverKey.toUtf8() + "\ncertificate-file=" + pki.serverCert.toUtf8() +
                          "\npid-file=" + dir.toUtf8() +
                          "/nghttpx.pid"
                          "\nerrorlog-file=" +
                          dir.toUtf8() +
                          "/nghttpx.log"
                          "\naccesslog-file=" +
                          dir.toUtf8() + "/access.log\n");
            return QStringList{QStringLiteral("--conf=") + dir + QStringLiteral("/nghttpx.conf")};
        });
        QVERIFY2(m_nghttpx->start(), qPrintable(m_nghttpx->diagnostics()));
    }

    void cleanupTestCase()
    {
        m_nghttpx.reset();
        m_tinyproxy.reset();
    }

    void h2ClassicConnectThroughNghttpx()
    {
        H2Transport client;
        QSignalSpy connected(&client, &HttpConnection::connected);
        client.connectToProxy(proxyOptions());
        QVERIFY(connected.wait(10000));
        QCOMPARE(client.stats().alpn, QStringLiteral("h2"));
        QVERIFY(client.peerSettings().received);

        // Three tunnels at once on the one connection, then a 4 MiB one.
        QString why;
        for (int i = 0; i < 3; ++i)
            QVERIFY2(roundTrip(client, echoAuthority(), "tunnel " + QByteArray::number(i), why),
                     qPrintable(why + m_nghttpx->diagnostics()));
        const QByteArray payload = randomBytes(4 * 1024 * 1024);
        QVERIFY2(roundTrip(client, echoAuthority(), payload, why),
                 qPrintable(why + m_nghttpx->diagnostics()));
        QVERIFY(client.stats().bytesReceived > quint64(payload.size()));
    }

    void h1ClassicConnectThroughNghttpx()
    {
        H1Transport client;
        QSignalSpy connected(&client, &HttpConnection::connected);
        client.connectToProxy(proxyOptions());
        QVERIFY(connected.wait(10000));
        QCOMPARE(client.stats().alpn, QStringLiteral("http/1.1"));
        const QByteArray payload = randomBytes(1024 * 1024);
        QString why;
        QVERIFY2(roundTrip(client, echoAuthority(), payload, why),
                 qPrintable(why + m_nghttpx->diagnostics()));
    }

    void h2RefusalFromTheRealProxy()
    {
        // tinyproxy cannot reach port 1 (privileged, nothing listens): the refusal travels back
        // through nghttpx.
        H2Transport client;
        QSignalSpy connected(&client, &HttpConnection::connected);
        client.connectToProxy(proxyOptions());
        QVERIFY(connected.wait(10000));
        Request request;
        request.authority = "127.0.0.1:1";
        auto id = client.submitRequest(request);
        QVERIFY(id.ok());
        H2StreamRecorder recorder(&client);
        QVERIFY(recorder.attach(*id));
        QVERIFY(waitUntil([&] { return recorder.response || recorder.reset; }, 15000));
        QVERIFY(recorder.response);
        QVERIFY2(recorder.response->status >= 400,
                 qPrintable(QString::number(recorder.response->status)));
    }
};

QTEST_GUILESS_MAIN(TestInteropNghttpx)
#include "tst_interop_h2_nghttpx.moc"
