// The JSON profile: round trips, validation messages that name the key, endpoint syntax.

#include "api/Profile.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using namespace qmasque;

class tst_Profile : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void endpoints_data();
    void endpoints();
    void forwards();
    void defaultsNeedAProxyOrDemo();
    void jsonRoundTrip();
    void saveAndLoad();
    void invalidValuesNameTheKey_data();
    void invalidValuesNameTheKey();
    void jsonErrorsNameTheKey_data();
    void jsonErrorsNameTheKey();
    void optionsCoverEveryKey();
    void applyOptions();
    void applyOptionErrorsNameTheKey();
};

void tst_Profile::endpoints_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::newRow("ipv4") << "127.0.0.1:1080" << true << "127.0.0.1" << 1080;
    QTest::newRow("ipv6") << "[::1]:1080" << true << "::1" << 1080;
    QTest::newRow("name") << "proxy.example:443" << true << "proxy.example" << 443;
    QTest::newRow("port only") << "1080" << true << "127.0.0.1" << 1080;
    QTest::newRow("port zero") << "127.0.0.1:0" << true << "127.0.0.1" << 0;
    QTest::newRow("bare ipv6") << "::1:1080" << false << "" << 0;
    QTest::newRow("port too big") << "127.0.0.1:65536" << false << "" << 0;
    QTest::newRow("port sign") << "127.0.0.1:+80" << false << "" << 0;
    QTest::newRow("empty port") << "127.0.0.1:" << false << "" << 0;
    QTest::newRow("bad host") << "a b:80" << false << "" << 0;
    QTest::newRow("v4 in brackets") << "[127.0.0.1]:80" << false << "" << 0;
    QTest::newRow("unclosed") << "[::1:80" << false << "" << 0;
}

void tst_Profile::endpoints()
{
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(QString, host);
    QFETCH(int, port);
    const auto endpoint = parseEndpoint(text, u"127.0.0.1");
    QCOMPARE(endpoint.ok(), ok);
    if (ok) {
        QCOMPARE(endpoint->host, host);
        QCOMPARE(int(endpoint->port), port);
    } else {
        QVERIFY(endpoint.error().detail.contains(text));
    }
}

void tst_Profile::forwards()
{
    const auto forward = parseForward(u"5353=[2001:db8::53]:53");
    QVERIFY(forward.ok());
    QCOMPARE(forward->local.toString(), QStringLiteral("127.0.0.1:5353"));
    QCOMPARE(forward->target.toString(), QStringLiteral("[2001:db8::53]:53"));
    QCOMPARE(parseForward(forward->toString()).value(), forward.value());
    QVERIFY(!parseForward(u"5353").ok());
    QVERIFY(!parseForward(u"=dns:53").ok());
    QVERIFY(!parseForward(u"5353=dns").ok());
    QVERIFY(!parseForward(u"5353=dns:0").ok());
}

void tst_Profile::defaultsNeedAProxyOrDemo()
{
    Profile profile;
    const Status missing = profile.validate();
    QVERIFY(!missing.ok());
    QCOMPARE(missing.error().code, ErrorCode::InvalidConfig);
    QVERIFY(missing.error().detail.startsWith(QStringLiteral("proxy:")));
    profile.demo = true;
    QVERIFY(profile.validate().ok());
    profile.demo = false;
    profile.proxy = QStringLiteral("https://proxy.example:8443");
    QVERIFY2(
        profile.validate().ok(),
        qPrintable(profile.validate().ok() ? QString() : profile.validate().error().toString()));
}

namespace {

Profile fullProfile()
{
    Profile p;
    p.name = QStringLiteral("work");
    p.proxy = QStringLiteral("https://[2001:db8::1]:8443");
    p.transports = {TransportKind::H2, TransportKind::H1};
    p.pinSha256 = {QStringLiteral("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")};
    p.insecure = false;
    p.sni = QStringLiteral("proxy.example");
    p.proxyAuth = QStringLiteral("basic:alice:s3cret:with:colons");
    p.headers = {QStringLiteral("x-client:qmasque")};
    p.udpTemplate = QStringLiteral("/masque{?target_host,target_port}");
    p.tcpMode = TcpMode::Template;
    p.socks = QStringLiteral("127.0.0.1:1080");
    p.socksAuth = QStringLiteral("u:p");
    p.httpProxy = QStringLiteral("[::1]:8080");
    p.udpForwards = {parseForward(u"5353=127.0.0.53:53").value()};
    p.tcpForwards = {parseForward(u"127.0.0.1:2222=host.example:22").value()};
    p.tun = QStringLiteral("qmasque0");
    p.poolIdleMs = 0;
    p.poolMaxStreams = 50;
    p.poolMaxConnections = 16;
    p.udpIdleMs = 5000;
    p.snapshot = QStringLiteral("/tmp/snapshot.json");
    p.snapshotMs = 250;
    p.metrics = QStringLiteral("127.0.0.1:9100");
    p.logLevel = QStringLiteral("debug");
    return p;
}

} // namespace

void tst_Profile::jsonRoundTrip()
{
    const Profile p = fullProfile();
    QVERIFY2(p.validate().ok(),
             qPrintable(p.validate().ok() ? QString() : p.validate().error().toString()));
    const QJsonObject json = p.toJson();
    QCOMPARE(json.value(QStringLiteral("transports")).toArray().size(), 2);
    QCOMPARE(json.value(QStringLiteral("udp-forward")).toArray().first().toString(),
             QStringLiteral("127.0.0.1:5353=127.0.0.53:53"));
    const auto back = Profile::fromJson(json);
    QVERIFY(back.ok());
    QCOMPARE(back.value(), p);
    // Keys not given keep their defaults.
    const auto partial = Profile::fromJson(QJsonObject{{QStringLiteral("demo"), true}});
    QVERIFY(partial.ok());
    QCOMPARE(partial->transports, Profile().transports);
    QVERIFY(partial->demo);
}

void tst_Profile::saveAndLoad()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("nested/profile.json"));
    const Profile p = fullProfile();
    QVERIFY(p.save(path).ok());
    const auto loaded = Profile::load(path);
    QVERIFY(loaded.ok());
    QCOMPARE(loaded.value(), p);

    QFile broken(dir.filePath(QStringLiteral("broken.json")));
    QVERIFY(broken.open(QIODevice::WriteOnly));
    broken.write("{\"proxy\": ");
    broken.close();
    const auto bad = Profile::load(broken.fileName());
    QVERIFY(!bad.ok());
    QVERIFY(bad.error().detail.contains(QStringLiteral("JSON error")));
    QVERIFY(!Profile::load(dir.filePath(QStringLiteral("missing.json"))).ok());
}

void tst_Profile::invalidValuesNameTheKey_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QJsonValue>("value");
    QTest::newRow("http proxy url") << "proxy" << QJsonValue(QStringLiteral("http://p:80"));
    QTest::newRow("proxy path") << "proxy" << QJsonValue(QStringLiteral("https://p/x"));
    QTest::newRow("proxy userinfo") << "proxy" << QJsonValue(QStringLiteral("https://u:p@p"));
    QTest::newRow("no transports") << "transports" << QJsonValue(QJsonArray());
    QTest::newRow("dup transports")
        << "transports" << QJsonValue(QJsonArray{QStringLiteral("h2"), QStringLiteral("h2")});
    QTest::newRow("ca missing") << "ca" << QJsonValue(QStringLiteral("/nonexistent/ca.pem"));
    QTest::newRow("bad pin") << "pin-sha256" << QJsonValue(QJsonArray{QStringLiteral("abc")});
    QTest::newRow("cert without key") << "client-cert" << QJsonValue(QStringLiteral("/etc/hosts"));
    QTest::newRow("auth scheme") << "proxy-auth" << QJsonValue(QStringLiteral("digest:x"));
    QTest::newRow("auth no user") << "proxy-auth" << QJsonValue(QStringLiteral("basic::pw"));
    QTest::newRow("auth crlf") << "proxy-auth" << QJsonValue(QStringLiteral("bearer:a\r\nb"));
    QTest::newRow("header form") << "header" << QJsonValue(QJsonArray{QStringLiteral("novalue")});
    QTest::newRow("header reserved")
        << "header" << QJsonValue(QJsonArray{QStringLiteral("capsule-protocol:?0")});
    QTest::newRow("header pseudo") << "header" << QJsonValue(QJsonArray{QStringLiteral(":path:/")});
    QTest::newRow("header crlf") << "header"
                                 << QJsonValue(QJsonArray{QStringLiteral("x-a:b\r\nevil: 1")});
    QTest::newRow("udp template vars") << "udp-template" << QJsonValue(QStringLiteral("/udp/{h}"));
    QTest::newRow("ip template vars")
        << "ip-template" << QJsonValue(QStringLiteral("/ip/{target}/"));
    QTest::newRow("socks") << "socks" << QJsonValue(QStringLiteral("127.0.0.1:99999"));
    QTest::newRow("socks auth") << "socks-auth" << QJsonValue(QStringLiteral("nocolon"));
    QTest::newRow("http proxy") << "http-proxy" << QJsonValue(QStringLiteral("x y"));
    QTest::newRow("tun name") << "tun" << QJsonValue(QStringLiteral("much-too-long-name0"));
    QTest::newRow("idle") << "pool-idle-ms" << QJsonValue(-1);
    QTest::newRow("max streams") << "pool-max-streams" << QJsonValue(-5);
    QTest::newRow("timeout") << "connect-timeout-ms" << QJsonValue(10);
    QTest::newRow("snapshot ms") << "snapshot-ms" << QJsonValue(1);
    QTest::newRow("log level") << "log-level" << QJsonValue(QStringLiteral("chatty"));
}

void tst_Profile::invalidValuesNameTheKey()
{
    QFETCH(QString, key);
    QFETCH(QJsonValue, value);
    QJsonObject json{{QStringLiteral("proxy"), QStringLiteral("https://proxy.example")}};
    json.insert(key, value);
    const auto parsed = Profile::fromJson(json);
    Error error;
    if (!parsed.ok()) {
        error = parsed.error();
    } else {
        const Status status = parsed->validate();
        QVERIFY2(!status.ok(), qPrintable(key));
        error = status.error();
    }
    QCOMPARE(error.code, ErrorCode::InvalidConfig);
    QVERIFY2(error.detail.startsWith(key + QStringLiteral(":")), qPrintable(error.detail));
}

void tst_Profile::jsonErrorsNameTheKey_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("key");
    QTest::newRow("unknown key") << QByteArray(R"({"proxi": "https://x"})") << "proxi";
    QTest::newRow("string expected") << QByteArray(R"({"proxy": 5})") << "proxy";
    QTest::newRow("bool expected") << QByteArray(R"({"insecure": "yes"})") << "insecure";
    QTest::newRow("int expected") << QByteArray(R"({"snapshot-ms": 2.5})") << "snapshot-ms";
    QTest::newRow("list expected") << QByteArray(R"({"header": "a:b"})") << "header";
    QTest::newRow("bad transport") << QByteArray(R"({"transports": ["h4"]})") << "transports";
    QTest::newRow("bad tcp mode") << QByteArray(R"({"tcp-mode": "raw"})") << "tcp-mode";
    QTest::newRow("bad forward") << QByteArray(R"({"udp-forward": ["53"]})") << "udp-forward";
}

void tst_Profile::jsonErrorsNameTheKey()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, key);
    const auto parsed = Profile::fromJson(QJsonDocument::fromJson(json).object());
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().code, ErrorCode::InvalidConfig);
    QVERIFY2(parsed.error().detail.startsWith(key + QStringLiteral(":")),
             qPrintable(parsed.error().detail));
}

void tst_Profile::optionsCoverEveryKey()
{
    QStringList optionKeys;
    for (const ProfileOption &option : Profile::options()) {
        QVERIFY2(!option.help.isEmpty(), qPrintable(option.key));
        optionKeys << option.key;
    }
    QStringList jsonKeys = Profile().toJson().keys();
    optionKeys.sort();
    jsonKeys.sort();
    QCOMPARE(optionKeys, jsonKeys);
}

void tst_Profile::applyOptions()
{
    Profile p;
    QVERIFY(p.applyOption(QStringLiteral("proxy"),
                          {QStringLiteral("https://a"), QStringLiteral("https://b:8443")})
                .ok());
    QCOMPARE(p.proxy, QStringLiteral("https://b:8443")); // last wins
    QVERIFY(p.applyOption(QStringLiteral("insecure"), {}).ok());
    QVERIFY(p.insecure);
    QVERIFY(p.applyOption(QStringLiteral("header"), {QStringLiteral("a:1"), QStringLiteral("b:2")})
                .ok());
    QCOMPARE(p.headers.size(), 2);
    QVERIFY(p.applyOption(QStringLiteral("pool-max-streams"), {QStringLiteral("dynamic")}).ok());
    QCOMPARE(p.poolMaxStreams, 0);
    QVERIFY(p.applyOption(QStringLiteral("pool-max-streams"), {QStringLiteral("50")}).ok());
    QCOMPARE(p.poolMaxStreams, 50);
    QVERIFY(p.applyOption(QStringLiteral("pool-max-connections"), {QStringLiteral("200")}).ok());
    QCOMPARE(p.poolMaxConnections, 200);
    QVERIFY(!p.applyOption(QStringLiteral("pool-max-connections"), {QStringLiteral("x")}).ok());
    QVERIFY(p.applyOption(QStringLiteral("transports"), {QStringLiteral("h2, h1")}).ok());
    QCOMPARE(p.transports, QList<TransportKind>({TransportKind::H2, TransportKind::H1}));
    QVERIFY(p.applyOption(QStringLiteral("tcp-mode"), {QStringLiteral("template")}).ok());
    QCOMPARE(p.tcpMode, TcpMode::Template);
    QVERIFY(p.applyOption(QStringLiteral("udp-forward"),
                          {QStringLiteral("5353=10.0.0.1:53"), QStringLiteral("5354=h:53")})
                .ok());
    QCOMPARE(p.udpForwards.size(), 2);
    QVERIFY(p.validate().ok());
}

void tst_Profile::applyOptionErrorsNameTheKey()
{
    Profile p;
    const QList<QPair<QString, QString>> bad = {
        {QStringLiteral("snapshot-ms"), QStringLiteral("soon")},
        {QStringLiteral("transports"), QStringLiteral("h3,quic")},
        {QStringLiteral("tcp-mode"), QStringLiteral("raw")},
        {QStringLiteral("tcp-forward"), QStringLiteral("22")},
        {QStringLiteral("no-such-option"), QStringLiteral("x")},
    };
    for (const auto &[key, value] : bad) {
        const Status status = p.applyOption(key, {value});
        QVERIFY2(!status.ok(), qPrintable(key));
        QVERIFY2(status.error().detail.startsWith(key + QLatin1Char(':')),
                 qPrintable(status.error().detail));
    }
}

QTEST_GUILESS_MAIN(tst_Profile)
#include "tst_profile.moc"
