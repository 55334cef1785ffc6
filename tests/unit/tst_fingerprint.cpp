// Pool fingerprints: which endpoints may share a connection (host normalisation, ALPN default,
// effective trust settings, SNI) and which may not.

#include "pool/Fingerprint.h"

#include <QtCore/QHash>
#include <QtCore/QSet>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <functional>

using namespace qmasque;

namespace {

using Tweak = std::function<void(UpstreamEndpoint &)>;

UpstreamEndpoint base(TransportKind kind = TransportKind::H3)
{
    UpstreamEndpoint endpoint;
    endpoint.transport = kind;
    endpoint.connect.host = QStringLiteral("proxy.example");
    endpoint.connect.port = 443;
    return endpoint;
}

QByteArray pin(char fill)
{
    return QByteArray(32, fill);
}

} // namespace

Q_DECLARE_METATYPE(Tweak)

class tst_Fingerprint : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void normalizeHost_data();
    void normalizeHost();
    void equal_data();
    void equal();
    void unequal_data();
    void unequal();
    void caFileContentsCount();
    void toStringForLogs();
    void usableAsHashKey();
};

void tst_Fingerprint::normalizeHost_data()
{
    QTest::addColumn<QString>("host");
    QTest::addColumn<QString>("normalized");
    QTest::newRow("lower-cased") << "Proxy.EXAMPLE"
                                 << "proxy.example";
    QTest::newRow("trimmed") << " proxy.example "
                             << "proxy.example";
    QTest::newRow("ipv4") << "192.0.2.1"
                          << "192.0.2.1";
    QTest::newRow("ipv6 compressed") << "::1"
                                     << "::1";
    QTest::newRow("ipv6 zeros") << "::0001"
                                << "::1";
    QTest::newRow("ipv6 long") << "0:0:0:0:0:0:0:1"
                               << "::1";
    QTest::newRow("ipv6 brackets") << "[::1]"
                                   << "::1";
    QTest::newRow("ipv6 upper") << "2001:DB8::A"
                                << "2001:db8::a";
    QTest::newRow("ipv4-mapped") << "::ffff:127.0.0.1"
                                 << "127.0.0.1";
    QTest::newRow("ipv4-mapped hex") << "[::FFFF:7f00:1]"
                                     << "127.0.0.1";
    QTest::newRow("idn") << QStringLiteral("B\u00dcCHER.example") << "xn--bcher-kva.example";
    QTest::newRow("empty") << ""
                           << "";
}

void tst_Fingerprint::normalizeHost()
{
    QFETCH(QString, host);
    QFETCH(QString, normalized);
    QCOMPARE(Fingerprint::normalizeHost(host), normalized);
}

void tst_Fingerprint::equal_data()
{
    QTest::addColumn<Tweak>("left");
    QTest::addColumn<Tweak>("right");
    const Tweak none = [](UpstreamEndpoint &) {
    };
    QTest::newRow("identical") << none << none;
    QTest::newRow("host case") << none << Tweak([](UpstreamEndpoint &e) {
        e.connect.host = QStringLiteral("PROXY.example");
    });
    QTest::newRow("ipv6 forms") << Tweak([](UpstreamEndpoint &e) {
        e.connect.host = QStringLiteral("::0001");
    }) << Tweak([](UpstreamEndpoint &e) { e.connect.host = QStringLiteral("[::1]"); });
    QTest::newRow("ipv4-mapped") << Tweak([](UpstreamEndpoint &e) {
        e.connect.host = QStringLiteral("::ffff:10.0.0.1");
    }) << Tweak([](UpstreamEndpoint &e) { e.connect.host = QStringLiteral("10.0.0.1"); });
    QTest::newRow("h3 alpn default")
        << none << Tweak([](UpstreamEndpoint &e) { e.connect.alpn = {"h3"}; });
    QTest::newRow("h2 alpn default")
        << Tweak([](UpstreamEndpoint &e) { e.transport = TransportKind::H2; })
        << Tweak([](UpstreamEndpoint &e) {
               e.transport = TransportKind::H2;
               e.connect.alpn = {"h2"};
           });
    QTest::newRow("sni equal to host")
        << none
        << Tweak([](UpstreamEndpoint &e) { e.connect.tls.sni = QStringLiteral("Proxy.Example"); });
    QTest::newRow("pins reordered and repeated") << Tweak([](UpstreamEndpoint &e) {
        e.connect.tls.pinsSha256 = {pin('a'), pin('b')};
    }) << Tweak([](UpstreamEndpoint &e) {
        e.connect.tls.pinsSha256 = {pin('b'), pin('a'), pin('b')};
    });
    QTest::newRow("pins make the stores irrelevant")
        << Tweak([](UpstreamEndpoint &e) { e.connect.tls.pinsSha256 = {pin('a')}; })
        << Tweak([](UpstreamEndpoint &e) {
               e.connect.tls.pinsSha256 = {pin('a')};
               e.connect.tls.useSystemTrust = false;
               e.connect.tls.caFile = QStringLiteral("/nonexistent/ca.pem");
           });
    QTest::newRow("insecure ignores anchors")
        << Tweak([](UpstreamEndpoint &e) { e.connect.tls.insecure = true; })
        << Tweak([](UpstreamEndpoint &e) {
               e.connect.tls.insecure = true;
               e.connect.tls.pinsSha256 = {pin('c')};
           });
    QTest::newRow("connection tuning is not identity") << none << Tweak([](UpstreamEndpoint &e) {
        e.connect.connectTimeoutMs = 1;
        e.connect.idleTimeoutMs = 2;
        e.connect.keepaliveMs = 3;
        e.connect.streamReceiveWindow = 4;
        e.connect.maxUdpPayload = 1200;
    });
}

void tst_Fingerprint::equal()
{
    QFETCH(Tweak, left);
    QFETCH(Tweak, right);
    UpstreamEndpoint a = base();
    UpstreamEndpoint b = base();
    left(a);
    right(b);
    const Fingerprint fa = Fingerprint::of(a);
    const Fingerprint fb = Fingerprint::of(b);
    QCOMPARE(fa.trustHash().size(), 32);
    QVERIFY(fa == fb);
    QCOMPARE(qHash(fa), qHash(fb));
}

void tst_Fingerprint::unequal_data()
{
    QTest::addColumn<Tweak>("tweak");
    QTest::newRow("host") << Tweak(
        [](UpstreamEndpoint &e) { e.connect.host = QStringLiteral("other.example"); });
    QTest::newRow("port") << Tweak([](UpstreamEndpoint &e) { e.connect.port = 8443; });
    QTest::newRow("transport") << Tweak(
        [](UpstreamEndpoint &e) { e.transport = TransportKind::H2; });
    QTest::newRow("alpn") << Tweak([](UpstreamEndpoint &e) { e.connect.alpn = {"h3-29"}; });
    QTest::newRow("alpn order") << Tweak([](UpstreamEndpoint &e) {
        e.connect.alpn = {"h3-29", "h3"};
    });
    QTest::newRow("insecure") << Tweak([](UpstreamEndpoint &e) { e.connect.tls.insecure = true; });
    QTest::newRow("no system trust")
        << Tweak([](UpstreamEndpoint &e) { e.connect.tls.useSystemTrust = false; });
    QTest::newRow("ca file") << Tweak(
        [](UpstreamEndpoint &e) { e.connect.tls.caFile = QStringLiteral("/etc/other.pem"); });
    QTest::newRow("pin") << Tweak(
        [](UpstreamEndpoint &e) { e.connect.tls.pinsSha256 = {pin('x')}; });
    QTest::newRow("sni") << Tweak(
        [](UpstreamEndpoint &e) { e.connect.tls.sni = QStringLiteral("front.example"); });
    QTest::newRow("client certificate") << Tweak([](UpstreamEndpoint &e) {
        e.connect.tls.clientCertFile = QStringLiteral("/etc/me.pem");
        e.connect.tls.clientKeyFile = QStringLiteral("/etc/me.key");
    });
    QTest::newRow("name vs address")
        << Tweak([](UpstreamEndpoint &e) { e.connect.host = QStringLiteral("127.0.0.1"); });
}

void tst_Fingerprint::unequal()
{
    QFETCH(Tweak, tweak);
    UpstreamEndpoint changed = base();
    tweak(changed);
    QVERIFY(!(Fingerprint::of(base()) == Fingerprint::of(changed)));
}

void tst_Fingerprint::caFileContentsCount()
{
    // Same path, different trust anchors inside: not the same trust.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("ca.pem"));
    UpstreamEndpoint endpoint = base();
    endpoint.connect.tls.caFile = path;
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("first");
    file.close();
    const Fingerprint before = Fingerprint::of(endpoint);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write("second");
    file.close();
    QVERIFY(!(Fingerprint::of(endpoint) == before));
}

void tst_Fingerprint::toStringForLogs()
{
    UpstreamEndpoint endpoint = base();
    endpoint.connect.host = QStringLiteral("[::1]");
    endpoint.connect.port = 4433;
    const Fingerprint fingerprint = Fingerprint::of(endpoint);
    const QString text = fingerprint.toString();
    QVERIFY2(text.startsWith(QStringLiteral("h3 [::1]:4433 ")), qPrintable(text));
    QCOMPARE(text.size(), QStringLiteral("h3 [::1]:4433 ").size() + 8);
    QVERIFY(Fingerprint().isNull());
    QVERIFY(!fingerprint.isNull());
    QCOMPARE(fingerprint.host(), QStringLiteral("::1"));
    QCOMPARE(fingerprint.port(), quint16(4433));
    QCOMPARE(fingerprint.transport(), TransportKind::H3);
}

void tst_Fingerprint::usableAsHashKey()
{
    QSet<Fingerprint> set;
    set.insert(Fingerprint::of(base()));
    UpstreamEndpoint upper = base();
    upper.connect.host = QStringLiteral("PROXY.EXAMPLE");
    set.insert(Fingerprint::of(upper));
    set.insert(Fingerprint::of(base(TransportKind::H2)));
    QCOMPARE(set.size(), 2);
}

QTEST_GUILESS_MAIN(tst_Fingerprint)
#include "tst_fingerprint.moc"
