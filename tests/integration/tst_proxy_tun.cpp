// qmasque-proxy --tun: CONNECT-IP packets forwarded to a real Linux TUN device and back. The
// test re-runs itself inside a fresh user + network namespace (unshare), where it may create
// interfaces without touching the host; it is skipped where user namespaces are unavailable.
// Inside, the proxy gives the device its gateway address (10.89.0.1): the kernel answers pings
// to it, and a UDP socket bound there talks to the tunnel's client through the device.

#include "proxy/IpResponder.h"
#include "proxy/MasqueProxy.h"
#include "support/H2TestUtil.h"
#include "support/ProxyTestClient.h"
#include "support/TestPackets.h"
#include "wire/Capsule.h"
#include "wire/InternetChecksum.h"
#include "wire/IpCapsules.h"
#include "wire/IpPacket.h"

#include <QtCore/QProcess>
#include <QtCore/QStandardPaths>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;
using wire::IpAddress;

namespace {

const char *kInsideVariable = "QMASQUE_TEST_IN_NETNS";

IpAddress ip(const char16_t *text)
{
    return *IpAddress::fromString(QStringView(text));
}

} // namespace

class TstProxyTun : public QObject
{
    Q_OBJECT

private:
    void runInside()
    {
        // Loopback is down in a new network namespace.
        QCOMPARE(
            QProcess::execute(QStringLiteral("ip"), {QStringLiteral("link"), QStringLiteral("set"),
                                                     QStringLiteral("lo"), QStringLiteral("up")}),
            0);
        ProxyConfig config = proxyTestConfig(true);
        config.tunDevice = QStringLiteral("qmtun0");
        ProxyTestServer server(config);
        QVERIFY2(server.start(), qPrintable(server.error));

        Error error;
        Transport *transport =
            connectTransport(TransportKind::H2, server.clientOptions(), this, &error);
        QVERIFY2(transport, qPrintable(error.toString()));
        ProxyTestStream stream(transport, true);
        QVERIFY(stream.open(ipRequest(server.authority())).ok());
        QVERIFY(stream.waitForResponse() && stream.isSuccess());
        QVERIFY(waitUntil([&] { return !stream.capsules.isEmpty(); }));
        auto assigned = wire::parseAddressAssign(stream.capsules.first().second);
        QVERIFY(assigned);
        IpAddress client;
        for (const wire::AssignedAddress &address : std::as_const(*assigned)) {
            if (address.prefix.address.isIpv4())
                client = address.prefix.address;
        }
        QVERIFY(!client.isNull());

        // The kernel owns 10.89.0.1 on the device and answers the ping.
        const IpAddress gateway = ip(u"10.89.0.1");
        QVERIFY(stream.sendDatagram(icmpEchoRequest(client, gateway, 0xabcd, 1, "tun ping"), 65535)
                    .ok());
        QVERIFY(waitUntil([&] { return !stream.datagrams.isEmpty(); }));
        auto reply = wire::inspectIpPacket(stream.datagrams.first());
        QVERIFY(reply);
        QCOMPARE(reply->source, gateway);
        QCOMPARE(reply->destination, client);
        const QByteArrayView icmp = QByteArrayView(stream.datagrams.first()).sliced(20);
        QCOMPARE(quint8(icmp[0]), quint8(0));
        QCOMPARE(icmp.sliced(8), QByteArrayView("tun ping"));

        // A UDP socket on the device's address: packets both ways through the device.
        QUdpSocket socket;
        QVERIFY(socket.bind(QHostAddress(QStringLiteral("10.89.0.1")), 0));
        QVERIFY(
            stream.sendDatagram(udpPacket(client, gateway, 5555, socket.localPort(), "up"), 65535)
                .ok());
        QVERIFY(waitUntil([&] { return socket.hasPendingDatagrams(); }));
        QHostAddress from;
        quint16 fromPort = 0;
        QByteArray buffer(100, '\0');
        const qint64 size = socket.readDatagram(buffer.data(), buffer.size(), &from, &fromPort);
        QCOMPARE(QByteArray(buffer.constData(), size), QByteArray("up"));
        QCOMPARE(from, QHostAddress(client.toString()));
        QCOMPARE(fromPort, quint16(5555));
        QCOMPARE(socket.writeDatagram("down", from, fromPort), qint64(4));
        QVERIFY(waitUntil([&] { return stream.datagrams.size() == 2; }));
        auto down = wire::inspectIpPacket(stream.datagrams[1]);
        QVERIFY(down);
        QCOMPARE(down->protocol, quint8(17));
        QCOMPARE(QByteArrayView(stream.datagrams[1]).sliced(28), QByteArrayView("down"));

        QVERIFY(transport->endStream(stream.id).ok());
        QVERIFY(waitUntil([&] { return server.proxy().stats().tunnelsActive == 0; }));
        delete transport;
    }

private Q_SLOTS:
    void forwardsThroughTheDevice()
    {
        if (qEnvironmentVariableIsSet(kInsideVariable)) {
            runInside();
            return;
        }
        const QString unshare = QStandardPaths::findExecutable(QStringLiteral("unshare"));
        const QString ipTool = QStandardPaths::findExecutable(QStringLiteral("ip"));
        if (unshare.isEmpty() || ipTool.isEmpty())
            QSKIP("unshare or ip is not installed");
        QProcess probe;
        probe.start(unshare, {QStringLiteral("--user"), QStringLiteral("--map-root-user"),
                              QStringLiteral("--net"), QStringLiteral("true")});
        if (!probe.waitForFinished(10000) || probe.exitCode() != 0)
            QSKIP("user and network namespaces are not available here");

        QProcess inside;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QString::fromLatin1(kInsideVariable), QStringLiteral("1"));
        inside.setProcessEnvironment(environment);
        inside.setProcessChannelMode(QProcess::MergedChannels);
        inside.start(unshare, {QStringLiteral("--user"), QStringLiteral("--map-root-user"),
                               QStringLiteral("--net"), QCoreApplication::applicationFilePath(),
                               QStringLiteral("forwardsThroughTheDevice")});
        QVERIFY(inside.waitForFinished(60000));
        const QByteArray output = inside.readAll();
        QVERIFY2(inside.exitStatus() == QProcess::NormalExit && inside.exitCode() == 0,
                 output.constData());
        QVERIFY2(output.contains("PASS   : TstProxyTun::forwardsThroughTheDevice()"),
                 output.constData());
    }
};

QTEST_MAIN(TstProxyTun)
#include "tst_proxy_tun.moc"
