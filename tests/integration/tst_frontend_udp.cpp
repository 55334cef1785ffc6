// The udp-forward front end with real programs, over each of h3, h2 and h1: dig asks a local
// dnsmasq through it (one CONNECT-UDP tunnel per local peer), and Debian's gtlsclient fetches a
// file from gtlsserver through it (QUIC inside CONNECT-UDP), byte-exact. Then the peer rules:
// one tunnel per peer address, the idle timeout closing them, the peer limit, datagrams queued
// while a tunnel opens.

#include "local/UdpForwarder.h"
#include "support/FrontEndTestBench.h"
#include "support/TestPki.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

void addTransportRows()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::newRow("h3") << TransportKind::H3;
    QTest::newRow("h2") << TransportKind::H2;
    QTest::newRow("h1") << TransportKind::H1;
}

// UdpEcho: an in-process UDP echo target.
class UdpEcho : public QObject
{
public:
    UdpEcho()
    {
        m_socket.bind(QHostAddress::LocalHost, 0);
        connect(&m_socket, &QUdpSocket::readyRead, this, [this] {
            while (m_socket.hasPendingDatagrams()) {
                QHostAddress from;
                quint16 port = 0;
                QByteArray data(int(m_socket.pendingDatagramSize()), '\0');
                m_socket.readDatagram(data.data(), data.size(), &from, &port);
                ++received;
                m_socket.writeDatagram(data, from, port);
            }
        });
    }
    quint16 port() const { return m_socket.localPort(); }
    int received = 0;

private:
    QUdpSocket m_socket;
};

QByteArray receiveOne(QUdpSocket &socket, int timeoutMs = 10000)
{
    if (!QTest::qWaitFor([&] { return socket.hasPendingDatagrams(); }, timeoutMs))
        return {};
    QByteArray data(int(socket.pendingDatagramSize()), '\0');
    socket.readDatagram(data.data(), data.size());
    return data;
}

} // namespace

class TstFrontendUdp : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    FrontEndTestBench m_bench;

    std::unique_ptr<UdpForwarder> forwarder(TransportKind kind, quint16 targetPort,
                                            int idleMs = 30000,
                                            const UdpForwarderOptions &options = {})
    {
        const Forward forward{Endpoint{QStringLiteral("127.0.0.1"), 0},
                              Endpoint{QStringLiteral("127.0.0.1"), targetPort}};
        auto udp = std::make_unique<UdpForwarder>(m_bench.client(kind), forward, idleMs, options);
        const Status started = udp->start();
        if (!started)
            qWarning("udp-forward: %s", qPrintable(started.error().toString()));
        return started ? std::move(udp) : nullptr;
    }

    // startDnsmasq: dnsmasq in the foreground on a free port, answering for example.test.
    bool startDnsmasq(QProcess &process, quint16 *port)
    {
        for (int attempt = 0; attempt < 5; ++attempt) {
            *port = freeUdpPort();
            process.start(findTool(QStringLiteral("dnsmasq")),
                          {QStringLiteral("--no-daemon"), QStringLiteral("--conf-file=/dev/null"),
                           QStringLiteral("--port=%1").arg(*port),
                           QStringLiteral("--listen-address=127.0.0.1"),
                           QStringLiteral("--bind-interfaces"), QStringLiteral("--no-resolv"),
                           QStringLiteral("--no-hosts"), QStringLiteral("--pid-file="),
                           QStringLiteral("--address=/example.test/192.0.2.7"),
                           QStringLiteral("--address=/example.test/2001:db8::7")});
            if (!process.waitForStarted(5000))
                return false;
            // It either keeps running (bound) or exits at once (port taken).
            if (!process.waitForFinished(300))
                return true;
        }
        return false;
    }

    QByteArray dig(quint16 port, const QString &type)
    {
        QProcess process;
        process.start(findTool(QStringLiteral("dig")),
                      {QStringLiteral("@127.0.0.1"), QStringLiteral("-p"), QString::number(port),
                       QStringLiteral("+short"), QStringLiteral("+tries=1"),
                       QStringLiteral("+time=10"), QStringLiteral("example.test"), type});
        if (!process.waitForStarted(5000) || !runToEnd(process, 20000)) {
            stopProcess(process);
            return {};
        }
        return process.readAllStandardOutput().trimmed();
    }

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<qmasque::Error>();
        QVERIFY(m_dir.isValid());
        QVERIFY2(m_bench.start(), qPrintable(m_bench.error));
    }

    void digThroughDnsmasq_data() { addTransportRows(); }
    void digThroughDnsmasq()
    {
        QFETCH(TransportKind, kind);
        if (findTool(QStringLiteral("dig")).isEmpty() ||
            findTool(QStringLiteral("dnsmasq")).isEmpty())
            QSKIP("dig (dnsutils) and dnsmasq are needed");
        QProcess dnsmasq;
        const auto stop = qScopeGuard([&] { stopProcess(dnsmasq); });
        quint16 dnsPort = 0;
        QVERIFY2(startDnsmasq(dnsmasq, &dnsPort), dnsmasq.readAllStandardError().constData());
        auto udp = forwarder(kind, dnsPort);
        QVERIFY(udp);
        const quint16 port = udp->boundEndpoint().port;
        QCOMPARE(dig(port, QStringLiteral("A")), QByteArray("192.0.2.7"));
        QCOMPARE(dig(port, QStringLiteral("AAAA")), QByteArray("2001:db8::7"));
        // Each dig run is a new local peer (port): its own tunnel.
        QVERIFY(udp->counters().peersOpened >= 2);
        QCOMPARE(udp->counters().drops(), quint64(0));
        udp->stop();
        QCOMPARE(udp->activeClients(), 0);
    }

    void quicInsideConnectUdp_data() { addTransportRows(); }
    void quicInsideConnectUdp()
    {
        QFETCH(TransportKind, kind);
        const QString server = findTool(QStringLiteral("gtlsserver"));
        const QString client = findTool(QStringLiteral("gtlsclient"));
        if (server.isEmpty() || client.isEmpty())
            QSKIP("gtlsserver and gtlsclient (Debian's ngtcp2 examples) are needed");
        const TestPki &pki = TestPki::instance();
        QVERIFY2(pki.isValid(), qPrintable(pki.error));

        const QString root = m_dir.filePath(QStringLiteral("htdocs"));
        const QString downloads = m_dir.filePath(QStringLiteral("downloads-%1").arg(int(kind)));
        QVERIFY(QDir().mkpath(root) && QDir().mkpath(downloads));
        QByteArray body(2 * 1024 * 1024 + 333, Qt::Uninitialized);
        QRandomGenerator generator(77);
        generator.fillRange(reinterpret_cast<quint32 *>(body.data()), body.size() / 4);
        QFile file(root + QStringLiteral("/file.bin"));
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(body), body.size());
        file.close();

        QProcess gtlsServer;
        const auto stop = qScopeGuard([&] { stopProcess(gtlsServer); });
        quint16 serverPort = 0;
        bool running = false;
        for (int attempt = 0; attempt < 5 && !running; ++attempt) {
            serverPort = freeUdpPort();
            gtlsServer.start(server, {QStringLiteral("-q"), QStringLiteral("-d"), root,
                                      QStringLiteral("127.0.0.1"), QString::number(serverPort),
                                      pki.serverKey, pki.serverCert});
            QVERIFY(gtlsServer.waitForStarted(5000));
            running = !gtlsServer.waitForFinished(300);
        }
        QVERIFY2(running, gtlsServer.readAllStandardError().constData());

        auto udp = forwarder(kind, serverPort);
        QVERIFY(udp);
        const QString port = QString::number(udp->boundEndpoint().port);
        QProcess fetch;
        fetch.start(client,
                    {QStringLiteral("-q"), QStringLiteral("--exit-on-all-streams-close"),
                     QStringLiteral("--download"), downloads, QStringLiteral("127.0.0.1"), port,
                     QStringLiteral("https://localhost:%1/file.bin").arg(serverPort)});
        QVERIFY(fetch.waitForStarted(5000));
        QVERIFY2(runToEnd(fetch, 60000), "gtlsclient did not finish");
        QCOMPARE(fetch.exitStatus(), QProcess::NormalExit);
        QVERIFY2(fetch.exitCode() == 0, fetch.readAllStandardError().constData());
        QFile fetched(downloads + QStringLiteral("/file.bin"));
        QVERIFY(fetched.open(QIODevice::ReadOnly));
        QVERIFY(fetched.readAll() == body);
        QCOMPARE(udp->counters().peersOpened, quint64(1));
        QVERIFY(udp->counters().datagramsDown > 1000);
    }

    void peersIdleTimeoutAndLimits()
    {
        UdpEcho echo;
        UdpForwarderOptions options;
        options.maxPeers = 2;
        auto udp = forwarder(TransportKind::H2, echo.port(), 300, options);
        QVERIFY(udp);
        const QHostAddress local(QHostAddress::LocalHost);
        const quint16 port = udp->boundEndpoint().port;

        // Datagrams sent while the tunnel opens are queued and all arrive, in order.
        QUdpSocket a, b, c;
        QVERIFY(a.bind(local, 0) && b.bind(local, 0) && c.bind(local, 0));
        for (int i = 0; i < 5; ++i)
            QCOMPARE(a.writeDatagram(QByteArray("a") + QByteArray::number(i), local, port),
                     qint64(2));
        for (int i = 0; i < 5; ++i)
            QCOMPARE(receiveOne(a), QByteArray("a") + QByteArray::number(i));
        QCOMPARE(b.writeDatagram("b", local, port), qint64(1));
        QCOMPARE(receiveOne(b), QByteArray("b"));
        QCOMPARE(udp->activeClients(), 2);
        QCOMPARE(udp->counters().peersOpened, quint64(2));

        // A third peer is over the limit: dropped and counted.
        QCOMPARE(c.writeDatagram("c", local, port), qint64(1));
        QTRY_COMPARE_WITH_TIMEOUT(udp->counters().dropPeerLimit, quint64(1), 5000);

        // Idle peers are closed; the next datagram opens a new tunnel.
        QTRY_COMPARE_WITH_TIMEOUT(udp->activeClients(), 0, 5000);
        QCOMPARE(c.writeDatagram("c2", local, port), qint64(2));
        QCOMPARE(receiveOne(c), QByteArray("c2"));
        QCOMPARE(udp->counters().peersOpened, quint64(3));
        QCOMPARE(
            udp->description(),
            QStringLiteral("udp-forward 127.0.0.1:%1=127.0.0.1:%2").arg(port).arg(echo.port()));

        // The same port twice: address_in_use.
        UdpForwarder twice(m_bench.client(TransportKind::H2),
                           Forward{Endpoint{QStringLiteral("127.0.0.1"), port},
                                   Endpoint{QStringLiteral("127.0.0.1"), echo.port()}},
                           1000);
        QCOMPARE(twice.start().error().code, ErrorCode::AddressInUse);
    }

    void failedOpenDropsTheQueue()
    {
        // The proxy refuses loopback targets here: each open fails with a 403.
        FrontEndTestBench strict(proxyTestConfig(false));
        QVERIFY2(strict.start(), qPrintable(strict.error));
        UdpEcho echo;
        UdpForwarder udp(strict.client(TransportKind::H2),
                         Forward{Endpoint{QStringLiteral("127.0.0.1"), 0},
                                 Endpoint{QStringLiteral("127.0.0.1"), echo.port()}},
                         1000);
        QVERIFY(udp.start());
        QUdpSocket a;
        QVERIFY(a.bind(QHostAddress::LocalHost, 0));
        QCOMPARE(a.writeDatagram("x", QHostAddress::LocalHost, udp.boundEndpoint().port),
                 qint64(1));
        QCOMPARE(a.writeDatagram("y", QHostAddress::LocalHost, udp.boundEndpoint().port),
                 qint64(1));
        QTRY_COMPARE_WITH_TIMEOUT(udp.counters().dropOpenFailed, quint64(2), 10000);
        QCOMPARE(udp.activeClients(), 0);
        QCOMPARE(echo.received, 0);
    }
};

QTEST_GUILESS_MAIN(TstFrontendUdp)
#include "tst_frontend_udp.moc"
