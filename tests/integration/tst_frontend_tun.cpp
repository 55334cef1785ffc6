// The TUN front end for real. The test re-runs itself inside a fresh user + network namespace
// (unshare --user --map-root-user --net), where it is root of its own network: there the front
// end creates qmtun0, gets its addresses from the proxy's pool (10.89.0.0/24, fd00:89::/64)
// through ADDRESS_ASSIGN, applies them and the advertised routes with rtnetlink, and
// `ping -c 3` to a public address (answered by the proxy's internal responder at the far end of
// the CONNECT-IP tunnel) succeeds, IPv4 and IPv6, over h3, h2 and h1. Stopping removes the
// device. Without CAP_NET_ADMIN (a user namespace without a root mapping) start() fails with
// permission_denied naming the capability. Skipped only where namespaces or /dev/net/tun are
// unavailable.

#include "local/TunFrontEnd.h"
#include "support/FrontEndPinger.h"
#include "support/FrontEndTestBench.h"

#include <QtCore/QFileInfo>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <net/if.h>

using namespace qmasque;
using namespace qmasque::test;

namespace {

const char *kInsideVariable = "QMASQUE_TEST_IN_NETNS";
const char *kDeviceName = "qmtun0";

wire::IpAddress ip(const char16_t *text)
{
    return *wire::IpAddress::fromString(QStringView(text));
}

bool hasAddressIn(const QList<wire::IpPrefix> &addresses, const wire::IpPrefix &pool)
{
    return std::any_of(addresses.begin(), addresses.end(),
                       [&](const wire::IpPrefix &prefix) { return pool.contains(prefix.address); });
}

// ping: `ping -c 3` when installed, else the same exchange from a raw socket.
bool ping(const wire::IpAddress &target, QString *how)
{
    const QString tool = findTool(QStringLiteral("ping"));
    if (tool.isEmpty()) {
        *how = QStringLiteral("raw ICMP socket (ping is not installed)");
        return rawPing(target, 3) == 3;
    }
    *how = QStringLiteral("ping -c 3");
    QProcess process;
    process.start(tool, {target.isIpv4() ? QStringLiteral("-4") : QStringLiteral("-6"),
                         QStringLiteral("-c"), QStringLiteral("3"), QStringLiteral("-W"),
                         QStringLiteral("5"), target.toString()});
    if (!process.waitForStarted(5000) || !runToEnd(process, 30000))
        return false;
    const QByteArray output = process.readAllStandardOutput();
    if (process.exitCode() != 0)
        qWarning("ping: %s %s", output.constData(), process.readAllStandardError().constData());
    return process.exitCode() == 0 && output.contains("3 received");
}

// reRun: this test binary's `function` inside `unshareArguments`; PASS expected.
void reRun(const QStringList &unshareArguments, const char *function)
{
    const QString unshare = findTool(QStringLiteral("unshare"));
    QProcess inside;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QString::fromLatin1(kInsideVariable), QStringLiteral("1"));
    inside.setProcessEnvironment(environment);
    inside.setProcessChannelMode(QProcess::MergedChannels);
    inside.start(unshare, unshareArguments + QStringList{QCoreApplication::applicationFilePath(),
                                                         QString::fromLatin1(function)});
    QVERIFY(inside.waitForFinished(120000));
    const QByteArray output = inside.readAll();
    QVERIFY2(inside.exitStatus() == QProcess::NormalExit && inside.exitCode() == 0,
             output.constData());
    const QByteArray passed = QByteArray("PASS   : TstFrontendTun::") + function + "()";
    QVERIFY2(output.contains(passed), output.constData());
    qInfo("%s", output.constData());
}

} // namespace

class TstFrontendTun : public QObject
{
    Q_OBJECT

private:
    bool inside() const { return qEnvironmentVariableIsSet(kInsideVariable); }

    void skipWithoutNamespaces()
    {
        if (findTool(QStringLiteral("unshare")).isEmpty())
            QSKIP("unshare (util-linux) is not installed");
        QProcess probe;
        probe.start(findTool(QStringLiteral("unshare")),
                    {QStringLiteral("--user"), QStringLiteral("--map-root-user"),
                     QStringLiteral("--net"), QStringLiteral("true")});
        if (!probe.waitForFinished(10000) || probe.exitCode() != 0)
            QSKIP("user and network namespaces are not available here");
        if (!QFileInfo::exists(QStringLiteral("/dev/net/tun")))
            QSKIP("/dev/net/tun does not exist (no TUN driver)");
    }

    void runInside()
    {
        // The loopback interface is down in a new network namespace; the proxy listens there.
        QCOMPARE(QProcess::execute(findTool(QStringLiteral("ip")),
                                   {QStringLiteral("link"), QStringLiteral("set"),
                                    QStringLiteral("lo"), QStringLiteral("up")}),
                 0);
        FrontEndTestBench bench;
        QVERIFY2(bench.start(), qPrintable(bench.error));
        const wire::IpPrefix pool4 = *wire::IpPrefix::fromString(u"10.89.0.0/24");
        const wire::IpPrefix pool6 = *wire::IpPrefix::fromString(u"fd00:89::/64");

        for (const TransportKind kind : {TransportKind::H3, TransportKind::H2, TransportKind::H1}) {
            qInfo("transport %s", transportKindName(kind));
            TunFrontEnd tun(bench.client(kind), QString::fromLatin1(kDeviceName));
            QSignalSpy ready(&tun, &TunFrontEnd::ready);
            QSignalSpy interrupted(&tun, &TunFrontEnd::interrupted);
            const Status started = tun.start();
            QVERIFY2(started, qPrintable(started.error().toString()));
            QVERIFY(if_nametoindex(kDeviceName) != 0);
            QVERIFY2(ready.wait(15000) || ready.size() == 1,
                     qPrintable(interrupted.isEmpty()
                                    ? QStringLiteral("no ready()")
                                    : interrupted.first().first().value<Error>().toString()));
            QVERIFY(tun.isReady());
            QCOMPARE(tun.activeClients(), 1);
            QVERIFY(hasAddressIn(tun.addresses(), pool4));
            QVERIFY(hasAddressIn(tun.addresses(), pool6));
            QVERIFY(tun.mtu() >= int(IpTunnel::kMinMtu));
            // The advertised routes cover public addresses and the default route was not
            // touched (never /0); the proxy's own address (127.0.0.1) is cut out.
            QVERIFY(!tun.routes().isEmpty());
            for (const wire::IpPrefix &route : tun.routes()) {
                QVERIFY(route.length >= 1);
                QVERIFY(!route.contains(ip(u"127.0.0.1")));
            }
            QString how;
            QVERIFY2(ping(ip(u"1.1.1.1"), &how), qPrintable(how));
            QVERIFY2(ping(ip(u"2606:4700::1111"), &how), qPrintable(how));
            qInfo("pinged with %s", qPrintable(how));
            QVERIFY(tun.counters().packetsUp >= 6);
            QVERIFY(tun.counters().packetsDown >= 6);
            QVERIFY(tun.description().startsWith(QStringLiteral("tun qmtun0 10.89.0.")));

            tun.stop();
            QCOMPARE(if_nametoindex(kDeviceName), 0u); // removed with its addresses and routes
            QCOMPARE(tun.activeClients(), 0);
        }
    }

private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<qmasque::Error>(); }

    void pingThroughConnectIp()
    {
        if (inside()) {
            runInside();
            return;
        }
        skipWithoutNamespaces();
        reRun(
            {QStringLiteral("--user"), QStringLiteral("--map-root-user"), QStringLiteral("--net")},
            "pingThroughConnectIp");
    }

    void withoutCapNetAdmin()
    {
        if (inside()) {
            // A user namespace without a mapping: no capability over the host's network.
            TunFrontEnd tun(nullptr, QString::fromLatin1(kDeviceName));
            const Status started = tun.start();
            QVERIFY(!started);
            QCOMPARE(started.error().code, ErrorCode::PermissionDenied);
            QVERIFY2(started.error().detail.contains(QStringLiteral("CAP_NET_ADMIN")),
                     qPrintable(started.error().detail));
            QCOMPARE(tun.activeClients(), 0);
            return;
        }
        skipWithoutNamespaces();
        reRun({QStringLiteral("--user")}, "withoutCapNetAdmin");
    }

    void badDeviceName()
    {
        TunFrontEnd tun(nullptr, QStringLiteral("a-name-far-too-long-for-linux"));
        QCOMPARE(tun.start().error().code, ErrorCode::InvalidConfig);
    }
};

QTEST_GUILESS_MAIN(TstFrontendTun)
#include "tst_frontend_tun.moc"
