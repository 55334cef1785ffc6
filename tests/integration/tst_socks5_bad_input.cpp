// Bad SOCKS5 input against qmasque's listener: garbage, truncated greetings, unsupported
// commands, bad address types, invalid and oversized domain names, methods the server does not
// offer, wrong credentials, refused and forbidden targets. Each gets the reply RFC 1928 / RFC
// 1929 prescribe (or none, for what is not SOCKS5) and only that client is closed: a download in
// progress at the same time completes with the right checksum.

#include "support/AppProcess.h"
#include "support/ProxyTestTargets.h"

#include <QtNetwork/QTcpSocket>
#include <QtTest/QTest>

#include <sys/socket.h>

using namespace qmasque::test;

namespace {

QByteArray greeting()
{
    return QByteArray::fromHex("050100"); // SOCKS5, one method: no authentication
}

QByteArray request(quint8 command, const QByteArray &address)
{
    return QByteArray::fromHex("05") + char(command) + '\0' + address;
}

QByteArray ipv4(const char *hexAddress, quint16 port)
{
    return QByteArray::fromHex("01") + QByteArray::fromHex(hexAddress) + char(port >> 8) +
           char(port & 0xff);
}

QByteArray domain(const QByteArray &name, quint16 port)
{
    return QByteArray::fromHex("03") + char(name.size()) + name + char(port >> 8) +
           char(port & 0xff);
}

// Exchange: what the server answered to `bytes` and whether it then closed the connection.
struct Exchange
{
    QByteArray answer;
    bool closed = false;
};

Exchange exchange(quint16 port, const QByteArray &bytes, bool closeAfterSending = false)
{
    Exchange result;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return result;
    socket.write(bytes);
    socket.flush();
    // Half-close (FIN) rather than disconnectFromHost(), which would also stop reading: what the
    // server answered before it saw the end of the input must still arrive.
    if (closeAfterSending)
        ::shutdown(int(socket.socketDescriptor()), SHUT_WR);
    QElapsedTimer clock;
    clock.start();
    while (socket.state() == QAbstractSocket::ConnectedState && clock.elapsed() < 10000) {
        socket.waitForReadyRead(100);
        result.answer += socket.readAll();
    }
    result.answer += socket.readAll();
    result.closed = socket.state() != QAbstractSocket::ConnectedState;
    return result;
}

QByteArray reply(quint8 code)
{
    // VER REP RSV, then BND.ADDR 0.0.0.0:0.
    return QByteArray::fromHex("05") + char(code) + QByteArray::fromHex("00010000000000 00");
}

} // namespace

class tst_Socks5BadInput : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void badInput_data();
    void badInput();
    void credentials();
    void transferSurvived();

private:
    AppProcess m_app;
    QProcess m_download;
    quint16 m_socksPort = 0;
    QString m_http;
};

void tst_Socks5BadInput::initTestCase()
{
    QVERIFY2(m_app.start({QStringLiteral("--headless"), QStringLiteral("--demo"),
                          QStringLiteral("--socks"), QStringLiteral("127.0.0.1:0"),
                          QStringLiteral("--transports"), QStringLiteral("h2")}),
             qPrintable(m_app.error()));
    m_socksPort = m_app.listenerPort(QStringLiteral("socks5"));
    m_http = m_app.listener(QStringLiteral("demo-http"));
    // A download that runs while the bad clients come and go (16 MiB/s of 64 MiB).
    m_download.start(QStringLiteral("bash"),
                     {QStringLiteral("-o"), QStringLiteral("pipefail"), QStringLiteral("-c"),
                      QStringLiteral("curl -sS --fail --limit-rate 16M --socks5-hostname %1 "
                                     "http://%2/64M | sha256sum")
                          .arg(m_app.listener(QStringLiteral("socks5")), m_http)});
    QVERIFY(m_download.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(m_app.standardError().contains("qmasque.engine: tunnel-open id="),
                             10000);
}

void tst_Socks5BadInput::cleanupTestCase()
{
    m_app.terminate();
    QVERIFY2(m_app.waitForExit(15000) == 0, qPrintable(m_app.exitReport()));
}

void tst_Socks5BadInput::badInput_data()
{
    const quint16 httpPort = quint16(m_http.mid(m_http.lastIndexOf(u':') + 1).toUInt());
    QTest::addColumn<QByteArray>("sent");
    QTest::addColumn<bool>("closeAfterSending");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("garbage (an HTTP request)")
        << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r\n") << false << QByteArray();
    QTest::newRow("SOCKS4") << QByteArray::fromHex("04010050 7f000001 00") << false << QByteArray();
    QTest::newRow("truncated greeting") << QByteArray::fromHex("0502 00") << true << QByteArray();
    QTest::newRow("greeting without methods")
        << QByteArray::fromHex("0500") << false << QByteArray::fromHex("05ff");
    QTest::newRow("no acceptable method")
        << QByteArray::fromHex("050102") << false << QByteArray::fromHex("05ff");
    QTest::newRow("truncated request")
        << greeting() + QByteArray::fromHex("050100017f00") << true << QByteArray::fromHex("0500");
    QTest::newRow("BIND") << greeting() + request(0x02, ipv4("7f000001", httpPort)) << false
                          << QByteArray::fromHex("0500") + reply(0x07);
    QTest::newRow("unknown command") << greeting() + request(0x09, ipv4("7f000001", httpPort))
                                     << false << QByteArray::fromHex("0500") + reply(0x07);
    QTest::newRow("bad address type") << greeting() + QByteArray::fromHex("05010002 7f000001 0050")
                                      << false << QByteArray::fromHex("0500") + reply(0x08);
    QTest::newRow("reserved byte set") << greeting() + QByteArray::fromHex("05010101 7f000001 0050")
                                       << false << QByteArray::fromHex("0500") + reply(0x01);
    QTest::newRow("empty domain") << greeting() + request(0x01, domain("", 80)) << false
                                  << QByteArray::fromHex("0500") + reply(0x01);
    QTest::newRow("domain with a slash") << greeting() + request(0x01, domain("a/b.example", 80))
                                         << false << QByteArray::fromHex("0500") + reply(0x01);
    QTest::newRow("domain with a space") << greeting() + request(0x01, domain("a b.example", 80))
                                         << false << QByteArray::fromHex("0500") + reply(0x01);
    QTest::newRow("oversized domain (255 bytes)")
        << greeting() + request(0x01, domain(QByteArray(251, 'a') + ".com", 80)) << false
        << QByteArray::fromHex("0500") + reply(0x01);
    QTest::newRow("port 0") << greeting() + request(0x01, ipv4("7f000001", 0)) << false
                            << QByteArray::fromHex("0500") + reply(0x01);
    QTest::newRow("refused target") << greeting() + request(0x01, ipv4("7f000001", unusedTcpPort()))
                                    << false << QByteArray::fromHex("0500") + reply(0x05);
    QTest::newRow("forbidden target (10.255.255.1)")
        << greeting() + request(0x01, ipv4("0affff01", 80)) << false
        << QByteArray::fromHex("0500") + reply(0x02);
}

void tst_Socks5BadInput::badInput()
{
    QFETCH(QByteArray, sent);
    QFETCH(bool, closeAfterSending);
    QFETCH(QByteArray, expected);
    const Exchange result = exchange(m_socksPort, sent, closeAfterSending);
    QCOMPARE(result.answer.toHex(), expected.toHex());
    QVERIFY(result.closed);
    QCOMPARE(m_download.state(), QProcess::Running);
}

void tst_Socks5BadInput::credentials()
{
    // A second listener that requires RFC 1929 credentials.
    AppProcess app;
    QVERIFY2(app.start({QStringLiteral("--headless"), QStringLiteral("--demo"),
                        QStringLiteral("--socks"), QStringLiteral("127.0.0.1:0"),
                        QStringLiteral("--socks-auth"), QStringLiteral("alice:s3cret")}),
             qPrintable(app.error()));
    const quint16 port = app.listenerPort(QStringLiteral("socks5"));
    // Offering only "no authentication" is not acceptable.
    QCOMPARE(exchange(port, greeting()).answer.toHex(), QByteArray("05ff"));
    // Wrong password: status 1, closed (RFC 1929, 2).
    const QByteArray wrong = QByteArray::fromHex("050102") + QByteArray::fromHex("01") + char(5) +
                             "alice" + char(5) + "wrong";
    const Exchange refused = exchange(port, wrong);
    QCOMPARE(refused.answer.toHex(), QByteArray("05020101"));
    QVERIFY(refused.closed);
    // Right credentials: curl gets its file.
    const CommandResult download = runCommand(
        QStringLiteral("curl"),
        {QStringLiteral("-sS"), QStringLiteral("--fail"), QStringLiteral("-x"),
         QStringLiteral("socks5h://alice:s3cret@%1").arg(app.listener(QStringLiteral("socks5"))),
         QStringLiteral("http://%1/1K").arg(app.listener(QStringLiteral("demo-http")))},
        20000);
    QVERIFY2(download.exitCode == 0, download.err.constData());
    QCOMPARE(download.out.size(), 1024);
    app.terminate();
    QVERIFY2(app.waitForExit(15000) == 0, qPrintable(app.exitReport()));
}

void tst_Socks5BadInput::transferSurvived()
{
    QVERIFY(m_download.waitForFinished(60000));
    QCOMPARE(m_download.exitCode(), 0);
    QCOMPARE(m_download.readAllStandardOutput().left(64), demoSha256(64 << 20));
}

QTEST_GUILESS_MAIN(tst_Socks5BadInput)
#include "tst_socks5_bad_input.moc"
