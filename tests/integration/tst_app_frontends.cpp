// qmasque --demo as a child process with every socket front end the profile offers, over h3 and
// h2: curl through the HTTP proxy port (absolute-form GET and CONNECT), a UDP port forward to a
// UDP echo in this process (CONNECT-UDP), a TCP port forward to a TCP echo in this process
// (CONNECT). Checks the bytes, and that a bad forward spec is a command-line error (exit 2).

#include "support/AppProcess.h"

#include <QtCore/QElapsedTimer>
#include <QtNetwork/QNetworkDatagram>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QTest>

#include <memory>
#include <vector>

using namespace qmasque::test;

namespace {

// forwardPort: the local port of a "LOCAL=TARGET" forward listener ("127.0.0.1:5353=h:53").
quint16 forwardPort(const QString &listener)
{
    const QString local = listener.section(u'=', 0, 0);
    return quint16(local.mid(local.lastIndexOf(u':') + 1).toUInt());
}

} // namespace

class tst_AppFrontEnds : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void frontEnds_data();
    void frontEnds();
    void badForwardIsUsageError();

private:
    QUdpSocket m_udpEcho;
    QTcpServer m_tcpEcho;
    std::vector<std::unique_ptr<QTcpSocket>> m_tcpPeers;
};

void tst_AppFrontEnds::initTestCase()
{
    QVERIFY2(QFileInfo::exists(AppProcess::executable()), "build app/qmasque first");
    QVERIFY(m_udpEcho.bind(QHostAddress::LocalHost, 0));
    connect(&m_udpEcho, &QUdpSocket::readyRead, this, [this] {
        while (m_udpEcho.hasPendingDatagrams()) {
            const QNetworkDatagram datagram = m_udpEcho.receiveDatagram();
            m_udpEcho.writeDatagram(datagram.makeReply(datagram.data()));
        }
    });
    QVERIFY(m_tcpEcho.listen(QHostAddress::LocalHost, 0));
    connect(&m_tcpEcho, &QTcpServer::newConnection, this, [this] {
        while (QTcpSocket *peer = m_tcpEcho.nextPendingConnection()) {
            connect(peer, &QTcpSocket::readyRead, peer, [peer] { peer->write(peer->readAll()); });
            m_tcpPeers.emplace_back(peer);
        }
    });
}

void tst_AppFrontEnds::frontEnds_data()
{
    QTest::addColumn<QString>("transport");
    QTest::newRow("h3") << QStringLiteral("h3");
    QTest::newRow("h2") << QStringLiteral("h2");
}

void tst_AppFrontEnds::frontEnds()
{
    QFETCH(QString, transport);
    AppProcess app;
    const QString udpTarget = QStringLiteral("127.0.0.1:%1").arg(m_udpEcho.localPort());
    const QString tcpTarget = QStringLiteral("127.0.0.1:%1").arg(m_tcpEcho.serverPort());
    QVERIFY2(app.start({QStringLiteral("--headless"), QStringLiteral("--demo"),
                        QStringLiteral("--socks"), QStringLiteral("127.0.0.1:0"),
                        QStringLiteral("--http-proxy"), QStringLiteral("127.0.0.1:0"),
                        QStringLiteral("--udp-forward"), QStringLiteral("127.0.0.1:0=") + udpTarget,
                        QStringLiteral("--tcp-forward"), QStringLiteral("127.0.0.1:0=") + tcpTarget,
                        QStringLiteral("--transports"), transport}),
             qPrintable(app.error()));
    const QString httpProxy = app.listener(QStringLiteral("http-proxy"));
    const QString demoHttp = app.listener(QStringLiteral("demo-http"));
    const quint16 udpPort = forwardPort(app.listener(QStringLiteral("udp-forward")));
    const quint16 tcpPort = forwardPort(app.listener(QStringLiteral("tcp-forward")));
    QVERIFY(!httpProxy.isEmpty() && !demoHttp.isEmpty() && udpPort != 0 && tcpPort != 0);
    QVERIFY(app.listener(QStringLiteral("udp-forward")).endsWith(QStringLiteral("=") + udpTarget));

    // The HTTP proxy port: an absolute-form GET (forwarded through a CONNECT tunnel) and curl's
    // own CONNECT (-p), each 4 MiB checked against the demo content's definition.
    const QByteArray expected = demoSha256(4 << 20);
    for (const QString &mode : {QString(), QStringLiteral("-p")}) {
        const CommandResult download = runCommand(
            QStringLiteral("bash"),
            {QStringLiteral("-o"), QStringLiteral("pipefail"), QStringLiteral("-c"),
             QStringLiteral(
                 "curl -sS --fail --max-time 60 %1 -x http://%2 http://%3/4M | sha256sum")
                 .arg(mode, httpProxy, demoHttp)},
            70000);
        QVERIFY2(download.exitCode == 0, download.err.constData());
        QCOMPARE(download.out.left(64), expected);
    }

    // The UDP forward: 200 datagrams of different sizes, every one echoed intact.
    QUdpSocket udp;
    QVERIFY(udp.bind(QHostAddress::LocalHost, 0));
    int echoed = 0;
    bool intact = true;
    connect(&udp, &QUdpSocket::readyRead, this, [&] {
        while (udp.hasPendingDatagrams()) {
            const QNetworkDatagram datagram = udp.receiveDatagram();
            const QByteArray data = datagram.data();
            intact = intact && !data.isEmpty() && data == QByteArray(data.size(), data.at(0));
            ++echoed;
        }
    });
    for (int i = 0; i < 200; ++i) {
        udp.writeDatagram(QByteArray(100 + i * 5, char('a' + i % 26)), QHostAddress::LocalHost,
                          udpPort);
        if (i % 20 == 19)
            QTest::qWait(1); // let the first datagrams open the tunnel before the burst goes on
    }
    QTRY_VERIFY_WITH_TIMEOUT(echoed >= 195, 15000); // UDP: loopback, but allow a few drops
    QVERIFY(intact);

    // The TCP forward: 1 MiB echoed back in order.
    QTcpSocket tcp;
    tcp.connectToHost(QHostAddress::LocalHost, tcpPort);
    QVERIFY(tcp.waitForConnected(5000));
    QByteArray sent(1 << 20, Qt::Uninitialized);
    for (qsizetype i = 0; i < sent.size(); ++i)
        sent[i] = char((i * 7 + i / 4096) & 0xff);
    tcp.write(sent);
    QByteArray received;
    QTRY_VERIFY_WITH_TIMEOUT((received += tcp.readAll()).size() >= sent.size(), 20000);
    QVERIFY(received == sent);
    tcp.close();

    app.terminate();
    QVERIFY2(app.waitForExit(15000) == 0, qPrintable(app.exitReport()));
    const QByteArray log = app.standardError();
    const QByteArray tag = "transport=" + transport.toLatin1();
    QVERIFY2(log.contains(QByteArray(tag + " protocol=udp target=" + udpTarget.toLatin1())),
             log.right(2000).constData());
    QVERIFY(log.contains(QByteArray(tag + " protocol=tcp target=" + tcpTarget.toLatin1())));
}

void tst_AppFrontEnds::badForwardIsUsageError()
{
    AppProcess app;
    QCOMPARE(app.run({QStringLiteral("--headless"), QStringLiteral("--demo"),
                      QStringLiteral("--udp-forward"), QStringLiteral("5353=nowhere")}),
             2);
    QVERIFY(app.standardError().contains("udp-forward"));
}

QTEST_GUILESS_MAIN(tst_AppFrontEnds)
#include "tst_app_frontends.moc"
