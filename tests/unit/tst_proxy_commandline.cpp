// The qmasque-proxy command line (ProxyCommandLine): every flag into ProxyConfig, defaults, and
// one clear message per mistake.

#include "proxy/ProxyCommandLine.h"

#include <QtTest/QTest>

using namespace qmasque;

namespace {

QStringList command(std::initializer_list<const char *> arguments)
{
    QStringList out{QStringLiteral("qmasque-proxy")};
    for (const char *argument : arguments)
        out.append(QString::fromLatin1(argument));
    return out;
}

} // namespace

class TstProxyCommandLine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyFlag()
    {
        auto line = ProxyCommandLine::parse(command({"--listen",
                                                     "127.0.0.1:8443",
                                                     "--listen",
                                                     "[::1]:9443",
                                                     "--cert",
                                                     "c.pem",
                                                     "--key",
                                                     "k.pem",
                                                     "--transports",
                                                     "h2,h1",
                                                     "--allow",
                                                     "127.0.0.0/8",
                                                     "--allow",
                                                     "fd00::/8",
                                                     "--auth",
                                                     "basic:alice:pa:ss",
                                                     "--auth",
                                                     "bearer:tok",
                                                     "--max-tunnels-per-connection",
                                                     "7",
                                                     "--max-tunnels",
                                                     "50",
                                                     "--udp-template",
                                                     "/u/{target_host}/{target_port}",
                                                     "--tcp-template",
                                                     "/t/{target_host}/{target_port}",
                                                     "--ip-template",
                                                     "/i/{target}/{ipproto}",
                                                     "--ip-pool",
                                                     "10.99.0.0/16",
                                                     "--ip-pool",
                                                     "fd99::/64",
                                                     "--tun",
                                                     "qm0",
                                                     "--idle-timeout-ms",
                                                     "5000",
                                                     "--connect-timeout-ms",
                                                     "2500",
                                                     "--drain-timeout-ms",
                                                     "100",
                                                     "--log-level",
                                                     "DEBUG"}));
        QVERIFY2(line, qPrintable(line ? QString() : line.error().detail));
        const ProxyConfig &config = line->config;
        QCOMPARE(line->action, ProxyCommandLine::Action::Run);
        QCOMPARE(config.listen.size(), 2);
        QCOMPARE(config.listen[0].address, QHostAddress(QHostAddress::LocalHost));
        QCOMPARE(config.listen[0].port, quint16(8443));
        QCOMPARE(config.listen[1].address, QHostAddress(QHostAddress::LocalHostIPv6));
        QCOMPARE(config.listen[1].port, quint16(9443));
        QCOMPARE(config.certificateFile, QStringLiteral("c.pem"));
        QCOMPARE(config.privateKeyFile, QStringLiteral("k.pem"));
        QVERIFY(!config.selfSigned);
        QVERIFY(!config.enableH3 && config.enableH2 && config.enableH1);
        QCOMPARE(config.allow.size(), 2);
        QCOMPARE(config.allow[1].toString(), QStringLiteral("fd00::/8"));
        QCOMPARE(config.credentials.size(), 2);
        QCOMPARE(config.credentials[0].user, QByteArray("alice"));
        QCOMPARE(config.credentials[0].secret, QByteArray("pa:ss"));
        QCOMPARE(config.credentials[1].scheme, ProxyCredential::Scheme::Bearer);
        QCOMPARE(config.credentials[1].secret, QByteArray("tok"));
        QCOMPARE(config.maxTunnelsPerConnection, 7);
        QCOMPARE(config.maxTunnels, 50);
        QCOMPARE(config.udpTemplate, QStringLiteral("/u/{target_host}/{target_port}"));
        QCOMPARE(config.ipPools.size(), 2);
        QCOMPARE(config.tunDevice, QStringLiteral("qm0"));
        QCOMPARE(config.idleTimeoutMs, 5000);
        QCOMPARE(config.connectTimeoutMs, 2500);
        QCOMPARE(config.drainTimeoutMs, 100);
        QCOMPARE(line->logLevel, QStringLiteral("debug"));
        const ServerOptions options = config.serverOptions();
        QCOMPARE(options.maxConcurrentStreams, quint32(7));
        QCOMPARE(options.idleTimeoutMs, 5000);
        QVERIFY(!options.enableH1 == !config.enableH1);
    }

    void defaults()
    {
        auto line = ProxyCommandLine::parse(command({"--self-signed"}));
        QVERIFY(line);
        const ProxyConfig &config = line->config;
        QVERIFY(config.selfSigned);
        QVERIFY(config.enableH3 && config.enableH2 && config.enableH1);
        QCOMPARE(config.maxTunnelsPerConnection, 100);
        QCOMPARE(config.maxTunnels, 0);
        const QList<ProxyListenAddress> listen = effectiveListen(config);
        QCOMPARE(listen.size(), 1);
        QCOMPARE(listen.first().address, QHostAddress(QHostAddress::LocalHost));
        QCOMPARE(listen.first().port, quint16(8443));
        const QList<wire::IpPrefix> pools = effectivePools(config);
        QCOMPARE(pools.size(), 2);
        QCOMPARE(pools[0].toString(), QStringLiteral("10.89.0.0/24"));
        QCOMPARE(pools[1].toString(), QStringLiteral("fd00:89::/64"));
        QCOMPARE(effectiveTemplate(config, TunnelProtocol::Udp),
                 QStringLiteral("/.well-known/masque/udp/{target_host}/{target_port}/"));
        QCOMPARE(line->logLevel, QStringLiteral("info"));
    }

    void dualStackWildcard()
    {
        auto line = ProxyCommandLine::parse(command({"--self-signed", "--listen", "[::]:443"}));
        QVERIFY(line);
        QCOMPARE(line->config.listen.first().address, QHostAddress(QHostAddress::Any));
    }

    void helpAndVersion()
    {
        auto help = ProxyCommandLine::parse(command({"--help"}));
        QVERIFY(help);
        QCOMPARE(help->action, ProxyCommandLine::Action::Help);
        QVERIFY(help->helpText.contains(QStringLiteral("--max-tunnels-per-connection")));
        auto version = ProxyCommandLine::parse(command({"--version"}));
        QVERIFY(version);
        QCOMPARE(version->action, ProxyCommandLine::Action::Version);
    }

    void mistakes_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("unknown") << command({"--self-signed", "--nope"}) << "nope";
        QTest::newRow("listen without port")
            << command({"--self-signed", "--listen", "127.0.0.1"}) << "--listen";
        QTest::newRow("listen host name")
            << command({"--self-signed", "--listen", "localhost:80"}) << "--listen";
        QTest::newRow("listen v6 without brackets")
            << command({"--self-signed", "--listen", "::1:80"}) << "--listen";
        QTest::newRow("listen port range")
            << command({"--self-signed", "--listen", "127.0.0.1:65536"}) << "--listen";
        QTest::newRow("cert without key") << command({"--cert", "c.pem"}) << "--key";
        QTest::newRow("both wildcards")
            << command({"--self-signed", "--listen", "0.0.0.0:443", "--listen", "[::]:443"})
            << "dual stack";
        QTest::newRow("self-signed and cert")
            << command({"--self-signed", "--cert", "c", "--key", "k"}) << "--self-signed";
        QTest::newRow("no transport")
            << command({"--self-signed", "--transports", ""}) << "--transports";
        QTest::newRow("allow with host bits")
            << command({"--self-signed", "--allow", "10.1.2.3/8"}) << "10.0.0.0/8";
        QTest::newRow("allow garbage") << command({"--self-signed", "--allow", "ten"}) << "--allow";
        QTest::newRow("auth empty password")
            << command({"--self-signed", "--auth", "basic:alice:"}) << "--auth";
        QTest::newRow("auth scheme")
            << command({"--self-signed", "--auth", "digest:x"}) << "--auth";
        QTest::newRow("two v4 pools")
            << command({"--self-signed", "--ip-pool", "10.1.0.0/16", "--ip-pool", "10.2.0.0/16"})
            << "--ip-pool";
        QTest::newRow("pool too small")
            << command({"--self-signed", "--ip-pool", "10.1.0.0/31"}) << "--ip-pool";
        QTest::newRow("template without port")
            << command({"--self-signed", "--udp-template", "/u/{target_host}"}) << "--udp-template";
        QTest::newRow("negative number")
            << command({"--self-signed", "--idle-timeout-ms", "-1"}) << "--idle-timeout-ms";
        QTest::newRow("log level")
            << command({"--self-signed", "--log-level", "loud"}) << "--log-level";
        QTest::newRow("positional") << command({"--self-signed", "now"}) << "now";
    }
    void mistakes()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, mentions);
        auto line = ProxyCommandLine::parse(arguments);
        QVERIFY(!line);
        QCOMPARE(line.error().code, ErrorCode::InvalidArgument);
        QVERIFY2(line.error().detail.contains(mentions), qPrintable(line.error().detail));
        QVERIFY(!line.error().detail.contains(u'\n'));
    }
};

QTEST_APPLESS_MAIN(TstProxyCommandLine)
#include "tst_proxy_commandline.moc"
