// Tunnels over real h1, h2 and h3 on loopback (TunnelClient -> TunnelTestProxy's echo): the
// request forms as the server receives them, 10 000 UDP datagrams round trip (loss counted),
// CONNECT-IP capsules both ways and packets round trip, refusals with their Proxy-Status.

#include "pool/UpstreamPool.h"
#include "support/TestPackets.h"
#include "support/TestPki.h"
#include "support/TunnelTestProxy.h"
#include "support/TunnelWaiter.h"
#include "tunnel/TunnelClient.h"

#include <QtCore/QSet>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

// Client: a pool and a TunnelClient for one transport against the test proxy.
struct Client
{
    std::unique_ptr<UpstreamPool> pool;
    std::unique_ptr<TunnelClient> tunnels;

    Client(const TunnelTestProxy &proxy, TransportKind kind, Profile profile = {})
    {
        PoolOptions options;
        options.factory = defaultTransportFactory();
        pool = std::make_unique<UpstreamPool>(options);
        tunnels = std::make_unique<TunnelClient>(pool.get(), defaultTransportFactory());
        if (profile.proxy.isEmpty())
            profile = proxy.profile({kind});
        const Status configured = tunnels->configure(profile);
        if (!configured)
            qFatal("configure: %s", qPrintable(configured.error().toString()));
    }
};

template<typename T>
struct Opened
{
    QPointer<T> tunnel;
    std::optional<Error> error;
    bool done = false;

    std::function<void(const Result<T *> &)> callback()
    {
        return [this](const Result<T *> &result) {
            done = true;
            if (result)
                tunnel = *result;
            else
                error = result.error();
        };
    }
};

void addKinds()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::newRow("h1") << TransportKind::H1;
    QTest::newRow("h2") << TransportKind::H2;
    QTest::newRow("h3") << TransportKind::H3;
}

bool hasHeader(const HeaderList &headers, const QByteArray &name, const QByteArray &value)
{
    for (const Header &header : headers) {
        if (header.name.toLower() == name && header.value == value)
            return true;
    }
    return false;
}

} // namespace

class tst_TunnelTransports : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void requestsOnTheWire_data() { addKinds(); }
    void requestsOnTheWire();
    void udpRoundTrip_data() { addKinds(); }
    void udpRoundTrip();
    void ipCapsulesAndPackets_data() { addKinds(); }
    void ipCapsulesAndPackets();
    void refusalReachesTheUser_data() { addKinds(); }
    void refusalReachesTheUser();

private:
    TunnelTestProxy m_proxy;
};

void tst_TunnelTransports::initTestCase()
{
    registerEngineMetaTypes();
    QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
    QVERIFY2(m_proxy.start(), qPrintable(m_proxy.error));
}

void tst_TunnelTransports::requestsOnTheWire()
{
    QFETCH(TransportKind, kind);
    Profile profile = m_proxy.profile({kind});
    profile.proxyAuth = QStringLiteral("basic:user:pass");
    profile.headers = {QStringLiteral("X-Test: yes")};
    const QByteArray authority = "127.0.0.1:" + QByteArray::number(m_proxy.port());
    const QByteArray basic = "Basic " + QByteArray("user:pass").toBase64();

    for (int form = 0; form < 4; ++form) {
        profile.tcpMode = form == 2 ? TcpMode::Template : TcpMode::Connect;
        Client client(m_proxy, kind, profile);
        const qsizetype before = m_proxy.echo().requests().size();
        Opened<TunnelSession> opened;
        auto done = [&opened](auto result) {
            opened.done = true;
            if (result)
                opened.tunnel = *result;
            else
                opened.error = result.error();
        };
        if (form == 0)
            client.tunnels->openUdp(QStringLiteral("dns.example"), 53, this, done);
        else if (form == 3)
            client.tunnels->openIp(wire::IpScope{}, this, done);
        else
            client.tunnels->openTcp(QStringLiteral("web.example"), 443, this, done);
        QTRY_VERIFY_WITH_TIMEOUT(opened.done, 10000);
        QVERIFY2(opened.tunnel, qPrintable(opened.error ? opened.error->toString() : QString()));
        QCOMPARE(m_proxy.echo().requests().size(), before + 1);
        const IncomingRequest request = m_proxy.echo().requests().last();
        QCOMPARE(request.method, QByteArray("CONNECT"));
        QVERIFY(hasHeader(request.headers, "proxy-authorization", basic));
        QVERIFY(hasHeader(request.headers, "x-test", "yes"));
        switch (form) {
        case 0: // RFC 9298, 3: the proxy in :authority (Host on h1), the target in the path
            QCOMPARE(request.protocol, QByteArray("connect-udp"));
            QCOMPARE(request.authority, authority);
            QCOMPARE(request.path, QByteArray("/.well-known/masque/udp/dns.example/53/"));
            QVERIFY(hasHeader(request.headers, "capsule-protocol", "?1"));
            break;
        case 1: // RFC 9110, 9.3.6
            QVERIFY(request.protocol.isEmpty());
            QCOMPARE(request.authority, QByteArray("web.example:443"));
            QVERIFY(!hasHeader(request.headers, "capsule-protocol", "?1"));
            break;
        case 2:
            QCOMPARE(request.protocol, QByteArray("connect-tcp"));
            QCOMPARE(request.authority, authority);
            QCOMPARE(request.path, QByteArray("/.well-known/masque/tcp/web.example/443/"));
            break;
        case 3: // RFC 9484, 3
            QCOMPARE(request.protocol, QByteArray("connect-ip"));
            QCOMPARE(request.authority, authority);
            QCOMPARE(request.path, QByteArray("/.well-known/masque/ip/%2A/%2A/"));
            QVERIFY(hasHeader(request.headers, "capsule-protocol", "?1"));
            break;
        }
        if (kind != TransportKind::H1 && form != 1)
            QCOMPARE(request.scheme, QByteArray("https"));
        opened.tunnel->close();
    }
}

void tst_TunnelTransports::udpRoundTrip()
{
    QFETCH(TransportKind, kind);
    Client client(m_proxy, kind);
    Opened<UdpTunnel> opened;
    client.tunnels->openUdp(QStringLiteral("dns.example"), 53, this, opened.callback());
    QTRY_VERIFY_WITH_TIMEOUT(opened.done, 10000);
    QVERIFY2(opened.tunnel, qPrintable(opened.error ? opened.error->toString() : QString()));
    UdpTunnel *tunnel = opened.tunnel;

    constexpr int kTotal = 10000;
    constexpr int kWindow = 64;
    constexpr qsizetype kSize = 1000;
    QSet<quint32> seen;
    int received = 0;
    int corrupt = 0;
    TunnelWaiter waiter;
    tunnel->setReceiver([&](QByteArrayView payload) {
        const quint32 sequence = sequenceOf(payload);
        if (payload.size() != kSize || payload != numberedPayload(sequence, kSize) ||
            seen.contains(sequence))
            ++corrupt;
        seen.insert(sequence);
        ++received;
        waiter.poke();
    });

    // Bursts of kWindow, each waited for (a lost datagram only costs the wait's timeout).
    int sent = 0;
    int refused = 0;
    while (sent < kTotal) {
        const int burstEnd = qMin(kTotal, sent + kWindow);
        for (; sent < burstEnd; ++sent) {
            if (!tunnel->send(numberedPayload(quint32(sent), kSize)))
                ++refused;
        }
        const int expected = sent - refused;
        waiter.wait([&] { return received >= expected; }, 1000);
    }
    waiter.wait([&] { return received >= sent - refused; }, 2000);
    const int lost = kTotal - received;
    qInfo("%s: %d datagrams, %d received, %d lost (%d refused at the sender: queue_full), "
          "%llu dropped by counters",
          transportKindName(kind), kTotal, received, lost, refused, tunnel->counters().drops());
    QCOMPARE(corrupt, 0);
    QCOMPARE(quint64(refused), tunnel->counters().dropQueueFull);
    QCOMPARE(tunnel->counters().datagramsSent, quint64(kTotal - refused));
    if (kind == TransportKind::H3) {
        QVERIFY2(received >= kTotal * 98 / 100, qPrintable(QString::number(received)));
        QVERIFY(m_proxy.echo().datagramsEchoed() > 0);
    } else {
        // DATAGRAM capsules ride the stream: reliable once accepted.
        QCOMPARE(received, kTotal - refused);
        QVERIFY(refused < kTotal / 10);
    }
    QSignalSpy closed(tunnel, &TunnelSession::closed);
    tunnel->close();
    QVERIFY(closed.wait(2000));
}

void tst_TunnelTransports::ipCapsulesAndPackets()
{
    QFETCH(TransportKind, kind);
    Client client(m_proxy, kind);
    Opened<IpTunnel> opened;
    client.tunnels->openIp(wire::IpScope{}, this, opened.callback());
    QTRY_VERIFY_WITH_TIMEOUT(opened.done, 10000);
    QVERIFY2(opened.tunnel, qPrintable(opened.error ? opened.error->toString() : QString()));
    IpTunnel *tunnel = opened.tunnel;
    QVERIFY(tunnel->mtu() >= IpTunnel::kMinMtu);

    // The echo plays the peer: our ADDRESS_REQUEST comes back as its request, which we answer;
    // our ADDRESS_ASSIGN then comes back as the assignment to us.
    QSignalSpy requested(tunnel, &IpTunnel::addressesRequested);
    QSignalSpy assigned(tunnel, &IpTunnel::addressesAssigned);
    QSignalSpy routes(tunnel, &IpTunnel::routesAdvertised);
    auto ids = tunnel->requestAddresses({*wire::IpPrefix::fromString(u"0.0.0.0/32")});
    QVERIFY(ids);
    QVERIFY(requested.wait(5000));
    QCOMPARE(tunnel->pendingPeerRequests().size(), 1);
    const wire::AssignedAddress answer{ids->first(), *wire::IpPrefix::fromString(u"192.0.2.33/32")};
    QVERIFY(tunnel->assignAddresses({answer}));
    QVERIFY(assigned.wait(5000));
    QCOMPARE(tunnel->assignedAddresses(), QList<wire::AssignedAddress>({answer}));
    QVERIFY(tunnel->pendingRequests().isEmpty()); // our request 1 was answered
    const QList<wire::IpAddressRange> advertised = {
        {*wire::IpAddress::fromString(u"198.51.100.0"),
         *wire::IpAddress::fromString(u"198.51.100.255"), 17}};
    QVERIFY(tunnel->advertiseRoutes(advertised));
    QVERIFY(routes.wait(5000));
    QCOMPARE(tunnel->advertisedRoutes(), advertised);

    // Packets as context-0 datagrams, up to the MTU.
    int received = 0;
    int intact = 0;
    TunnelWaiter waiter;
    tunnel->setReceiver([&](QByteArrayView packet) {
        ++received;
        intact += packet == numberedPayload(sequenceOf(packet), packet.size()) ? 1 : 0;
        waiter.poke();
    });
    const qsizetype sizes[] = {20, 576, 1280, tunnel->mtu()};
    int sent = 0;
    for (int round = 0; round < 25; ++round) {
        for (qsizetype size : sizes) {
            QVERIFY(tunnel->sendPacket(numberedPayload(quint32(sent++), size)));
        }
        waiter.wait([&] { return received >= sent; }, 1000);
    }
    QCOMPARE(tunnel->sendPacket(QByteArray(tunnel->mtu() + 1, 'x')).error().code,
             ErrorCode::PacketTooLarge);
    if (kind == TransportKind::H3)
        QVERIFY2(received >= sent * 95 / 100, qPrintable(QString::number(received)));
    else
        QCOMPARE(received, sent);
    QCOMPARE(intact, received);
    tunnel->close();
}

void tst_TunnelTransports::refusalReachesTheUser()
{
    QFETCH(TransportKind, kind);
    m_proxy.echo().setPolicy([](const IncomingRequest &) {
        return Response{403,
                        {{"proxy-status", "qmasque-test; error=destination_ip_prohibited; "
                                          "details=\"192.168.0.1 is private\""}}};
    });
    Client client(m_proxy, kind);
    QSignalSpy closed(client.tunnels.get(), &TunnelClient::tunnelClosed);
    Opened<UdpTunnel> opened;
    client.tunnels->openUdp(QStringLiteral("192.168.0.1"), 53, this, opened.callback());
    QTRY_VERIFY_WITH_TIMEOUT(opened.done, 10000);
    m_proxy.echo().setPolicy(&TunnelTestProxy::defaultResponse);
    QVERIFY(opened.error);
    QCOMPARE(opened.error->code, ErrorCode::HandshakeRejected);
    QCOMPARE(opened.error->httpStatus, 403);
    QCOMPARE(opened.error->proxyErrorType, QStringLiteral("destination_ip_prohibited"));
    QCOMPARE(opened.error->proxyErrorDetails, QStringLiteral("192.168.0.1 is private"));
    QCOMPARE(closed.count(), 1);
    QCOMPARE(closed.first().first().value<TunnelRecord>().responseStatus, 403);
}

QTEST_GUILESS_MAIN(tst_TunnelTransports)
#include "tst_tunnel_transports.moc"
