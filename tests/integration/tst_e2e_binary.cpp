// End to end with the qmasque-proxy binary as a child process (issue 6, "done when"):
//   qmasque-proxy --self-signed --listen 127.0.0.1:PORT --allow 127.0.0.0/8
// on a free port serves real tunnels to a TunnelClient pinned to the pin the binary printed:
// UDP, TCP (classic CONNECT and connect-tcp) and IP (address request, ping, UDP echo) over h3,
// h2 and h1. Then the binary is killed (SIGKILL: no GOAWAY, no CONNECTION_CLOSE) under open
// tunnels and started again on the same port (after the tunnels ended, or at once, so that h3
// meets a new process that does not know its connection): every tunnel ends with a typed error
// and the next one redials.

#include "proxy/IpResponder.h"
#include "support/E2eBench.h"
#include "support/H3TestPattern.h"
#include "support/ProxyProcess.h"
#include "support/ProxyTestTargets.h"
#include "support/TestPki.h"
#include "support/TunnelWaiter.h"
#include "wire/IpPacket.h"

#include <QtNetwork/QTcpServer>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

// freePort: a port number free on 127.0.0.1 for TCP and UDP alike (bound, then released: the
// caller retries if someone takes it meanwhile).
quint16 freePort()
{
    for (int attempt = 0; attempt < 20; ++attempt) {
        QTcpServer tcp;
        if (!tcp.listen(QHostAddress::LocalHost, 0))
            continue;
        QUdpSocket udp;
        if (udp.bind(QHostAddress::LocalHost, tcp.serverPort()))
            return tcp.serverPort();
    }
    return 0;
}

// startOnFreePort: starts the binary with `arguments` + --listen 127.0.0.1:<free port>, trying
// other ports when the one found was taken in between.
bool startOnFreePort(ProxyProcess &process, const QStringList &arguments, QString *error)
{
    for (int attempt = 0; attempt < 5; ++attempt) {
        const quint16 port = freePort();
        if (port == 0)
            continue;
        if (process.start(arguments + QStringList{QStringLiteral("--listen"),
                                                  QStringLiteral("127.0.0.1:%1").arg(port)})) {
            return process.port() == port;
        }
        *error = process.error();
    }
    return false;
}

void addKinds()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::newRow("h3") << TransportKind::H3;
    QTest::newRow("h2") << TransportKind::H2;
    QTest::newRow("h1") << TransportKind::H1;
}

} // namespace

class tst_E2eBinary : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void servesRealTunnels_data() { addKinds(); }
    void servesRealTunnels();
    void killedAndRestarted_data();
    void killedAndRestarted();

private:
    std::unique_ptr<ProxyProcess> m_binary;
    std::unique_ptr<UdpEchoTarget> m_udpEcho;
    std::unique_ptr<TcpTarget> m_tcpEcho;
};

void tst_E2eBinary::initTestCase()
{
    registerEngineMetaTypes();
    QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
    m_udpEcho = std::make_unique<UdpEchoTarget>();
    QVERIFY(m_udpEcho->start());
    m_tcpEcho = std::make_unique<TcpTarget>(TcpTarget::Mode::Echo);
    QVERIFY(m_tcpEcho->start());
    m_binary = std::make_unique<ProxyProcess>();
    QString error;
    QVERIFY2(startOnFreePort(*m_binary,
                             {QStringLiteral("--self-signed"), QStringLiteral("--allow"),
                              QStringLiteral("127.0.0.0/8")},
                             &error),
             qPrintable(error));
    QCOMPARE(m_binary->transports(),
             QStringList({QStringLiteral("h3"), QStringLiteral("h2"), QStringLiteral("h1")}));
    qInfo("qmasque-proxy on port %u, pin %s", m_binary->port(),
          m_binary->pin().toBase64().constData());
}

void tst_E2eBinary::cleanupTestCase()
{
    if (m_binary) {
        m_binary->terminate();
        QVERIFY2(m_binary->waitForExit(15000) == 0, qPrintable(m_binary->exitReport()));
    }
}

void tst_E2eBinary::servesRealTunnels()
{
    QFETCH(TransportKind, kind);
    const QString pin = QString::fromLatin1(m_binary->pin().toBase64());
    Profile profile = e2eProfile(m_binary->port(), pin, {kind});

    // CONNECT-UDP: a hundred datagrams round trip.
    E2eClient client(profile);
    QVERIFY2(client.configured.ok(), qPrintable(why(client.configured)));
    auto udp = client.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
    QVERIFY2(udp, qPrintable(why(udp)));
    QCOMPARE((*udp)->transport(), kind);
    int echoed = 0;
    for (int i = 0; i < 100; ++i)
        echoed += udpRoundTrip(*udp, QByteArray::number(i).repeated(50)) ? 1 : 0;
    QCOMPARE(echoed, 100);

    // TCP, classic CONNECT and connect-tcp: 1 MiB round trip each.
    const QByteArray megabyte = H3TestPattern::chunk(0, 1024 * 1024);
    for (bool templated : {false, true}) {
        profile.tcpMode = templated ? TcpMode::Template : TcpMode::Connect;
        E2eClient tcpClient(profile);
        QVERIFY(tcpClient.configured.ok());
        auto tcp = tcpClient.openTcp(QStringLiteral("127.0.0.1"), m_tcpEcho->port());
        QVERIFY2(tcp, qPrintable(why(tcp)));
        QVERIFY(tcpRoundTrip(*tcp, megabyte, 20000) == megabyte);
        (*tcp)->close();
        QVERIFY(waitClosed(*tcp));
    }

    // CONNECT-IP: an address of our own, then ping and UDP echo through the responder.
    auto ip = client.openIp();
    QVERIFY2(ip, qPrintable(why(ip)));
    auto ids = (*ip)->requestAddresses({wire::IpPrefix::host(wire::IpAddress::zero(4))});
    QVERIFY(ids);
    QTRY_VERIFY_WITH_TIMEOUT((*ip)->pendingRequests().isEmpty(), 10000);
    wire::IpAddress mine;
    for (const wire::AssignedAddress &assigned : (*ip)->assignedAddresses()) {
        if (assigned.requestId == ids->first())
            mine = assigned.prefix.address;
    }
    QVERIFY(mine.isIpv4() && !mine.isZero());
    const wire::IpAddress gateway = *wire::IpAddress::fromString(u"10.89.0.1");
    QList<QByteArray> replies;
    TunnelWaiter waiter;
    (*ip)->setReceiver([&](QByteArrayView packet) {
        replies.append(packet.toByteArray());
        waiter.poke();
    });
    for (int attempt = 0; attempt < 5 && replies.size() < 2; ++attempt) {
        replies.clear();
        QVERIFY((*ip)->sendPacket(icmpEchoRequest(mine, gateway, 7, quint16(attempt), "ping")));
        QVERIFY((*ip)->sendPacket(
            udpPacket(mine, gateway, 40000, IpResponder::kEchoPort, "udp over ip")));
        waiter.wait([&] { return replies.size() >= 2; }, 2000);
    }
    QCOMPARE(replies.size(), 2);
    for (const QByteArray &packet : std::as_const(replies)) {
        auto info = wire::inspectIpPacket(packet);
        QVERIFY(info);
        QCOMPARE(info->source, gateway);
        QCOMPARE(info->destination, mine);
        QVERIFY(info->protocol == 1 || info->protocol == 17);
    }
    (*ip)->close();
    (*udp)->close();
    QVERIFY(waitClosed(*udp));
}

void tst_E2eBinary::killedAndRestarted_data()
{
    QTest::addColumn<bool>("restartAtOnce");
    QTest::newRow("restarted after the tunnels ended") << false;
    QTest::newRow("restarted at once") << true;
}

void tst_E2eBinary::killedAndRestarted()
{
    QFETCH(bool, restartAtOnce);
    // A certificate that survives the restart, so the pinned client trusts the new process.
    const TestPki &pki = TestPki::instance();
    const QStringList arguments{QStringLiteral("--cert"),  pki.serverCert,
                                QStringLiteral("--key"),   pki.serverKey,
                                QStringLiteral("--allow"), QStringLiteral("127.0.0.0/8")};
    auto first = std::make_unique<ProxyProcess>();
    QString error;
    QVERIFY2(startOnFreePort(*first, arguments, &error), qPrintable(error));
    const quint16 port = first->port();
    const QString pin = QString::fromLatin1(pki.serverSpkiSha256.toBase64());

    // Short idle timeouts: a killed QUIC peer says nothing, so h3 learns it from silence.
    ConnectOptions tuning;
    tuning.idleTimeoutMs = 3000;
    tuning.keepaliveMs = 1000;
    struct Side
    {
        std::unique_ptr<E2eClient> client;
        QPointer<UdpTunnel> udp;
        QList<std::pair<TunnelProtocol, Error>> ended; // close reasons, as they come
    };
    const QList<TransportKind> kinds = {TransportKind::H3, TransportKind::H2, TransportKind::H1};
    std::vector<Side> sides(size_t(kinds.size()));
    for (qsizetype i = 0; i < kinds.size(); ++i) {
        Side &side = sides[size_t(i)];
        side.client = std::make_unique<E2eClient>(e2eProfile(port, pin, {kinds[i]}), tuning);
        QVERIFY(side.client->configured.ok());
        auto udp = side.client->openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
        QVERIFY2(udp, qPrintable(why(udp)));
        auto tcp = side.client->openTcp(QStringLiteral("127.0.0.1"), m_tcpEcho->port());
        QVERIFY2(tcp, qPrintable(why(tcp)));
        QVERIFY(udpRoundTrip(*udp, "alive"));
        for (TunnelSession *tunnel :
             {static_cast<TunnelSession *>(*udp), static_cast<TunnelSession *>(*tcp)}) {
            connect(tunnel, &TunnelSession::closed, this,
                    [&side, protocol = tunnel->protocol()](const Error &reason) {
                        side.ended.append({protocol, reason});
                    });
        }
        side.udp = *udp;
    }

    first->process().kill();
    QVERIFY(first->process().waitForFinished(5000));
    first.reset();
    ProxyProcess second;
    auto startSecond = [&] {
        for (int attempt = 0; attempt < 20; ++attempt) {
            if (second.start(arguments + QStringList{QStringLiteral("--listen"),
                                                     QStringLiteral("127.0.0.1:%1").arg(port)}))
                return true;
            QTest::qWait(100); // the port may still be held for a moment
        }
        return false;
    };
    if (restartAtOnce)
        QVERIFY2(startSecond(), qPrintable(second.error()));
    // A killed QUIC peer is silent. Our next packet gets an ICMP port unreachable, or, when the
    // new process already listens, a stateless reset we cannot authenticate (its secret is not
    // the old one's), so the client learns it from the idle timeout.
    for (Side &side : sides) {
        if (side.udp)
            (void)side.udp->send("anyone there?");
    }
    for (qsizetype i = 0; i < kinds.size(); ++i) {
        Side &side = sides[size_t(i)];
        QTRY_COMPARE_WITH_TIMEOUT(side.ended.size(), 2, 20000);
        for (const auto &[protocol, reason] : std::as_const(side.ended)) {
            qInfo("%s %s tunnel after the kill: %s", transportKindName(kinds[i]),
                  tunnelProtocolName(protocol), qPrintable(reason.toString()));
            QVERIFY2(endedByTheConnection(reason, kinds[i]), qPrintable(reason.toString()));
        }
    }

    if (!restartAtOnce)
        QVERIFY2(startSecond(), qPrintable(second.error()));
    for (qsizetype i = 0; i < kinds.size(); ++i) {
        E2eClient &client = *sides[size_t(i)].client;
        auto udp = client.openUdp(QStringLiteral("127.0.0.1"), m_udpEcho->port());
        QVERIFY2(udp, qPrintable(why(udp)));
        QCOMPARE((*udp)->transport(), kinds[i]);
        QVERIFY(udpRoundTrip(*udp, "redialed"));
        auto tcp = client.openTcp(QStringLiteral("127.0.0.1"), m_tcpEcho->port());
        QVERIFY2(tcp, qPrintable(why(tcp)));
        QCOMPARE(tcpRoundTrip(*tcp, "redialed"), QByteArray("redialed"));
    }
    sides.clear();
    second.terminate();
    QVERIFY2(second.waitForExit(15000) == 0, qPrintable(second.exitReport()));
}

QTEST_GUILESS_MAIN(tst_E2eBinary)
#include "tst_e2e_binary.moc"
