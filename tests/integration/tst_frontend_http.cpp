// The HTTP proxy front end with real programs: curl downloads 64 MiB through it from a local
// origin (tests/support/FrontEndTargets.py) over each of h3, h2 and h1, both as a CONNECT
// tunnel (curl -p) and as an absolute-form GET, checksum checked; keep-alive across requests,
// chunked and unframed responses, a chunked upload; and bad input (garbage, a truncated head, an
// oversized head, unsupported forms and versions, refused targets) answered with the right
// status while a download through the same port goes on and completes intact.

#include "local/HttpProxyServer.h"
#include "support/FrontEndTestBench.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QFile>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

constexpr qint64 kBigFile = 64 * 1024 * 1024;

QByteArray sha256Hex(QByteArrayView data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

QByteArray fileSha256Hex(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(&file);
    return hash.result().toHex();
}

// The pattern FrontEndTargets.py answers /chunked and /unframed with.
QByteArray targetPattern(qsizetype n)
{
    QByteArray block(65536, '\0');
    for (int i = 0; i < block.size(); ++i)
        block[i] = char((i * 7 + 3) & 0xff);
    QByteArray out;
    while (out.size() < n)
        out.append(block);
    return out.left(n);
}

// bytes: a literal with its embedded NULs.
template<qsizetype N>
QByteArray bytes(const char (&literal)[N])
{
    return QByteArray(literal, N - 1);
}

int statusOf(const QByteArray &response)
{
    if (!response.startsWith("HTTP/1.1 ") || response.size() < 12)
        return 0;
    return response.mid(9, 3).toInt();
}

} // namespace

class TstFrontendHttp : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    FrontEndTestBench m_bench;
    QProcess m_origin;
    quint16 m_originPort = 0;
    QByteArray m_bigSha;

    std::unique_ptr<HttpProxyServer> startProxy(TransportKind kind)
    {
        HttpProxyOptions options;
        options.lingerMs = 300;
        auto server = std::make_unique<HttpProxyServer>(
            m_bench.client(kind), Endpoint{QStringLiteral("127.0.0.1"), 0}, options);
        const Status started = server->start();
        if (!started)
            qWarning("http-proxy: %s", qPrintable(started.error().toString()));
        return started ? std::move(server) : nullptr;
    }

    QString originUrl(const QString &path) const
    {
        return QStringLiteral("http://127.0.0.1:%1%2").arg(m_originPort).arg(path);
    }

    // curl: runs curl through the proxy; returns its exit code (-1 when it did not finish).
    int curl(quint16 proxyPort, const QStringList &arguments, QByteArray *output = nullptr,
             int timeoutMs = 120000)
    {
        QProcess process;
        process.start(findTool(QStringLiteral("curl")),
                      QStringList{QStringLiteral("-sS"), QStringLiteral("--proxy"),
                                  QStringLiteral("http://127.0.0.1:%1").arg(proxyPort)} +
                          arguments);
        if (!process.waitForStarted(10000) || !runToEnd(process, timeoutMs)) {
            stopProcess(process);
            return -1;
        }
        if (output)
            *output = process.readAllStandardOutput();
        if (process.exitCode() != 0)
            qWarning("curl: %s", process.readAllStandardError().constData());
        return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    }

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<qmasque::Error>();
        if (findTool(QStringLiteral("curl")).isEmpty() ||
            findTool(QStringLiteral("python3")).isEmpty())
            QSKIP("curl and python3 are needed");
        QVERIFY(m_dir.isValid());
        QVERIFY2(m_bench.start(), qPrintable(m_bench.error));

        // 64 MiB of seeded random bytes: a shifted or repeated block would change the digest.
        QByteArray big(kBigFile, Qt::Uninitialized);
        QRandomGenerator generator(20240607);
        generator.fillRange(reinterpret_cast<quint32 *>(big.data()), big.size() / 4);
        m_bigSha = sha256Hex(big);
        QFile file(m_dir.filePath(QStringLiteral("big.bin")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(big), big.size());
        file.close();

        QString error;
        QVERIFY2(
            startTarget(m_origin, {QStringLiteral("http"), m_dir.path()}, &m_originPort, &error),
            qPrintable(error));
    }

    void cleanupTestCase() { stopProcess(m_origin); }

    void download_data()
    {
        QTest::addColumn<TransportKind>("kind");
        QTest::addColumn<bool>("connect");
        for (const TransportKind kind : {TransportKind::H3, TransportKind::H2, TransportKind::H1}) {
            const char *name = transportKindName(kind);
            QTest::addRow("%s-connect", name) << kind << true;
            QTest::addRow("%s-get", name) << kind << false;
        }
    }

    void download()
    {
        QFETCH(TransportKind, kind);
        QFETCH(bool, connect);
        auto proxy = startProxy(kind);
        QVERIFY(proxy);
        const QString out = m_dir.filePath(QStringLiteral("out.bin"));
        QFile::remove(out);
        QStringList arguments = {QStringLiteral("-o"), out, originUrl(QStringLiteral("/big.bin"))};
        if (connect)
            arguments.prepend(QStringLiteral("-p")); // CONNECT even for an http:// URL
        QCOMPARE(curl(proxy->boundEndpoint().port, arguments), 0);
        QCOMPARE(QFileInfo(out).size(), kBigFile);
        QCOMPARE(fileSha256Hex(out), m_bigSha);
        QTRY_COMPARE_WITH_TIMEOUT(proxy->activeClients(), 0, 5000);
        proxy->stop();
    }

    void keepAliveChunkedAndUnframed_data()
    {
        QTest::addColumn<TransportKind>("kind");
        QTest::newRow("h3") << TransportKind::H3;
        QTest::newRow("h2") << TransportKind::H2;
        QTest::newRow("h1") << TransportKind::H1;
    }

    void keepAliveChunkedAndUnframed()
    {
        QFETCH(TransportKind, kind);
        auto proxy = startProxy(kind);
        QVERIFY(proxy);
        const quint16 port = proxy->boundEndpoint().port;

        // Two requests on one client connection: the second one reuses it (num_connects 0).
        const QString a = m_dir.filePath(QStringLiteral("a.bin"));
        const QString b = m_dir.filePath(QStringLiteral("b.bin"));
        QByteArray output;
        QCOMPARE(curl(port,
                      {QStringLiteral("-w"), QStringLiteral("%{num_connects}\\n"),
                       QStringLiteral("-o"), a, originUrl(QStringLiteral("/chunked?n=300000")),
                       QStringLiteral("-o"), b, originUrl(QStringLiteral("/chunked?n=70001"))},
                      &output),
                 0);
        QCOMPARE(output, QByteArray("1\n0\n"));
        QFile fa(a), fb(b);
        QVERIFY(fa.open(QIODevice::ReadOnly) && fb.open(QIODevice::ReadOnly));
        QVERIFY(fa.readAll() == targetPattern(300000));
        QVERIFY(fb.readAll() == targetPattern(70001));

        // A response without framing ends with the origin's close: the client's too.
        QCOMPARE(
            curl(port, {QStringLiteral("-o"), a, originUrl(QStringLiteral("/unframed?n=1234567"))}),
            0);
        fa.close();
        QVERIFY(fa.open(QIODevice::ReadOnly));
        QVERIFY(fa.readAll() == targetPattern(1234567));

        // A chunked upload passes through as the client framed it.
        const QByteArray body = targetPattern(3 * 1024 * 1024 + 17);
        QFile upload(m_dir.filePath(QStringLiteral("upload.bin")));
        QVERIFY(upload.open(QIODevice::WriteOnly));
        upload.write(body);
        upload.close();
        QCOMPARE(curl(port,
                      {QStringLiteral("-H"), QStringLiteral("Transfer-Encoding: chunked"),
                       QStringLiteral("--data-binary"), QStringLiteral("@") + upload.fileName(),
                       originUrl(QStringLiteral("/digest"))},
                      &output),
                 0);
        QCOMPARE(output, QByteArray::number(body.size()) + ' ' + sha256Hex(body));
        // And one with Content-Length (curl waits for 100-continue: relayed).
        QCOMPARE(curl(port,
                      {QStringLiteral("--data-binary"), QStringLiteral("@") + upload.fileName(),
                       originUrl(QStringLiteral("/digest"))},
                      &output),
                 0);
        QCOMPARE(output, QByteArray::number(body.size()) + ' ' + sha256Hex(body));
        proxy->stop();
    }

    void badInputWhileATransferRuns()
    {
        auto proxy = startProxy(TransportKind::H2);
        QVERIFY(proxy);
        const quint16 port = proxy->boundEndpoint().port;

        // A 64 MiB download, slowed down so it is surely running while the bad clients come.
        const QString out = m_dir.filePath(QStringLiteral("during.bin"));
        QFile::remove(out);
        QProcess download;
        download.start(findTool(QStringLiteral("curl")),
                       {QStringLiteral("-sS"), QStringLiteral("-p"), QStringLiteral("--proxy"),
                        QStringLiteral("http://127.0.0.1:%1").arg(port),
                        QStringLiteral("--limit-rate"), QStringLiteral("24M"), QStringLiteral("-o"),
                        out, originUrl(QStringLiteral("/big.bin"))});
        QVERIFY(download.waitForStarted(10000));
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(out).size() > 1024 * 1024, 20000);

        struct Case
        {
            const char *name;
            QByteArray request;
            bool halfClose;
            int status;
            QByteArray mention; // in the body
        };
        QByteArray oversized = "GET http://127.0.0.1/ HTTP/1.1\r\n";
        while (oversized.size() <= 17 * 1024)
            oversized += "X-Filler: " + QByteArray(100, 'f') + "\r\n";
        const QByteArray refusedPort = QByteArray::number(freeTcpPort());
        const QList<Case> cases = {
            {"garbage", bytes("\x16\x03\x01\x02\x00 not http at all\r\n\r\n"), false, 400,
             "malformed_header"},
            {"truncated head", "GET http://127.0.0.1/ HTTP/1.1\r\nHost: 127.0", true, 400,
             "middle of the request head"},
            {"oversized head", oversized, false, 431, "head_too_large"},
            {"http/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", true, 505, "not_supported"},
            {"origin-form without host", "GET /index.html HTTP/1.1\r\n\r\n", true, 400,
             "without Host"},
            {"https absolute-form",
             "GET https://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", true, 400,
             "use CONNECT"},
            {"ftp scheme", "GET ftp://example.com/x HTTP/1.1\r\n\r\n", true, 400, "bad_target"},
            {"connect without port", "CONNECT example.com HTTP/1.1\r\n\r\n", true, 400,
             "host:port"},
            {"unknown transfer coding",
             "POST http://127.0.0.1:9/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", true, 501,
             "transfer coding"},
            {"forbidden target", "CONNECT 10.255.255.1:80 HTTP/1.1\r\n\r\n", true, 403, "HTTP 403"},
            {"refused target", "CONNECT 127.0.0.1:" + refusedPort + " HTTP/1.1\r\n\r\n", true, 502,
             "HTTP 502"},
        };
        for (const Case &test : cases) {
            bool closed = false;
            const QByteArray response = rawExchange(port, test.request, test.halfClose, &closed);
            QVERIFY2(closed, test.name);
            QVERIFY2(statusOf(response) == test.status,
                     qPrintable(QStringLiteral("%1: %2").arg(
                         QString::fromLatin1(test.name), QString::fromLatin1(response.left(300)))));
            QVERIFY2(response.contains("Connection: close\r\n"), test.name);
            QVERIFY2(response.contains(test.mention),
                     qPrintable(QStringLiteral("%1: %2").arg(QString::fromLatin1(test.name),
                                                             QString::fromLatin1(response))));
            QVERIFY2(download.state() != QProcess::NotRunning, "the download ended too early");
        }

        QVERIFY(runToEnd(download, 60000));
        QCOMPARE(download.exitCode(), 0);
        QCOMPARE(fileSha256Hex(out), m_bigSha);
        QTRY_COMPARE_WITH_TIMEOUT(proxy->activeClients(), 0, 5000);
    }

    void stopEndsClientsAndFreesThePort()
    {
        auto proxy = startProxy(TransportKind::H2);
        QVERIFY(proxy);
        const quint16 port = proxy->boundEndpoint().port;
        QCOMPARE(proxy->description(), QStringLiteral("http-proxy 127.0.0.1:%1").arg(port));
        // A second listener on the same port is refused with address_in_use.
        HttpProxyServer second(m_bench.client(TransportKind::H2),
                               Endpoint{QStringLiteral("127.0.0.1"), port});
        QCOMPARE(second.start().error().code, ErrorCode::AddressInUse);
        HttpProxyServer named(m_bench.client(TransportKind::H2),
                              Endpoint{QStringLiteral("proxy.example"), 0});
        QCOMPARE(named.start().error().code, ErrorCode::InvalidConfig);
        proxy->stop();
        QVERIFY(second.start());
    }
};

QTEST_GUILESS_MAIN(TstFrontendHttp)
#include "tst_frontend_http.moc"
