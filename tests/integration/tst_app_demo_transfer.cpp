// qmasque --demo as a child process, over each transport forced with --transports: curl
// downloads 64 MiB through the SOCKS5 listener (checksum checked against the README's
// definition of the generated content), and a scripted SOCKS5 UDP ASSOCIATE client sends
// 10 000 datagrams to the demo UDP echo and counts the echoes. Then SIGTERM: exit 0, with the
// tunnel open and close lines on stderr.

#include "support/AppProcess.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QRegularExpression>
#include <QtTest/QTest>

using namespace qmasque::test;

class tst_AppDemoTransfer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void transfer_data();
    void transfer();

private:
    QByteArray m_expected64;
};

void tst_AppDemoTransfer::initTestCase()
{
    QVERIFY2(QFileInfo::exists(AppProcess::executable()), "build app/qmasque first");
    m_expected64 = demoSha256(64 << 20);
}

void tst_AppDemoTransfer::transfer_data()
{
    QTest::addColumn<QString>("transport");
    QTest::newRow("h3") << QStringLiteral("h3");
    QTest::newRow("h2") << QStringLiteral("h2");
    QTest::newRow("h1") << QStringLiteral("h1");
}

void tst_AppDemoTransfer::transfer()
{
    QFETCH(QString, transport);
    AppProcess app;
    QVERIFY2(app.start({QStringLiteral("--headless"), QStringLiteral("--demo"),
                        QStringLiteral("--socks"), QStringLiteral("127.0.0.1:0"),
                        QStringLiteral("--transports"), transport}),
             qPrintable(app.error()));
    const QString socks = app.listener(QStringLiteral("socks5"));
    const QString http = app.listener(QStringLiteral("demo-http"));
    const QString echo = app.listener(QStringLiteral("demo-udp-echo"));
    QVERIFY(!socks.endsWith(u":0") && !http.isEmpty() && !echo.isEmpty());
    QVERIFY(!app.hints().isEmpty());

    // 64 MiB through CONNECT over `transport`; the name goes to the proxy unresolved.
    QElapsedTimer clock;
    clock.start();
    const CommandResult download = runCommand(
        QStringLiteral("bash"),
        {QStringLiteral("-o"), QStringLiteral("pipefail"), QStringLiteral("-c"),
         QStringLiteral("curl -sS --fail --max-time 100 --socks5-hostname %1 http://%2/64M "
                        "| sha256sum")
             .arg(socks, http)},
        110000);
    QVERIFY2(download.exitCode == 0, download.err.constData());
    QCOMPARE(download.out.left(64), m_expected64);
    qInfo("%s: 64 MiB in %lld ms", qPrintable(transport), clock.elapsed());

    // 10 000 datagrams through UDP ASSOCIATE -> CONNECT-UDP over `transport`.
    const CommandResult udp =
        runCommand(QStringLiteral("python3"),
                   {scriptPath(QStringLiteral("socks5_udp_echo.py")), QStringLiteral("--socks"),
                    socks, QStringLiteral("--target"), echo, QStringLiteral("--count"),
                    QStringLiteral("10000"), QStringLiteral("--size"), QStringLiteral("512"),
                    QStringLiteral("--window"), QStringLiteral("64")},
                   120000);
    QVERIFY2(udp.exitCode == 0, QByteArray(udp.out + udp.err).constData());
    const QJsonObject result = QJsonDocument::fromJson(udp.out).object();
    const int received = result.value(QStringLiteral("received")).toInt();
    qInfo("%s: UDP %d of 10000 echoed, %d lost, %d bad, %.3f s", qPrintable(transport), received,
          result.value(QStringLiteral("lost")).toInt(), result.value(QStringLiteral("bad")).toInt(),
          result.value(QStringLiteral("seconds")).toDouble());
    QCOMPARE(result.value(QStringLiteral("sent")).toInt(), 10000);
    QCOMPARE(result.value(QStringLiteral("bad")).toInt(), 0);
    // Loopback, a window of 64: nothing should be lost; allow 1% for an h3 queue hiccup.
    QVERIFY2(received >= 9900, qPrintable(QString::number(received)));

    // The demo proxy allows its own address, not the rest of loopback: SOCKS5 reply 2
    // (connection not allowed by ruleset), from the proxy's 403.
    const CommandResult denied = runCommand(
        QStringLiteral("curl"),
        {QStringLiteral("-sS"), QStringLiteral("--socks5"), socks,
         QStringLiteral("http://127.0.0.2:%1/1M").arg(http.mid(http.lastIndexOf(u':') + 1)),
         QStringLiteral("-o"), QStringLiteral("/dev/null")},
        30000);
    QVERIFY2(denied.exitCode == 97 && denied.err.contains("(2)"), denied.err.constData());

    app.terminate();
    QVERIFY2(app.waitForExit(15000) == 0, qPrintable(app.exitReport()));
    const QByteArray log = app.standardError();
    const QByteArray tag = "transport=" + transport.toLatin1();
    QVERIFY2(log.contains("qmasque.engine: tunnel-open id=") &&
                 log.contains(QByteArray(tag + " protocol=tcp target=" + http.toLatin1())),
             log.right(3000).constData());
    QVERIFY(log.contains(QByteArray(tag + " protocol=udp target=" + echo.toLatin1())));
    QVERIFY(log.contains("qmasque.engine: tunnel-close id="));
    // The TCP tunnel carried the whole body (plus the HTTP response head) back.
    bool sawTcpClose = false;
    const QRegularExpression bytesReceived(QStringLiteral(" bytes_received=(\\d+) "));
    for (const QByteArray &line : app.stderrLines()) {
        if (!line.contains("qmasque.engine: tunnel-close id=") || !line.contains("protocol=tcp"))
            continue;
        sawTcpClose = true;
        const qint64 bytes =
            bytesReceived.match(QString::fromLatin1(line)).captured(1).toLongLong();
        QVERIFY2(bytes >= (qint64(64) << 20) && bytes < (qint64(64) << 20) + 4096,
                 line.constData());
    }
    QVERIFY(sawTcpClose);
}

QTEST_GUILESS_MAIN(tst_AppDemoTransfer)
#include "tst_app_demo_transfer.moc"
