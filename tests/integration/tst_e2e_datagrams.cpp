// End to end, datagrams: TunnelClient -> qmasque-proxy (MasqueProxy on a thread of its own) over
// h1, h2 and h3 forced by the profile.
//  - CONNECT-UDP: 100 000 numbered datagrams through the proxy to a local UDP echo and back. The
//    loss is reported per hop (client -> proxy -> echo -> proxy -> client) from each hop's own
//    counters; it must be small on loopback (none on h1/h2, whose capsules ride the stream), and
//    every datagram that did not come back is accounted for by a counter: refused at the sender
//    (queue_full), lost by QUIC (the sending side's lost-datagram count), or dropped on the way.
//  - CONNECT-IP through the proxy's internal responder: the client asks for an IPv4 and an IPv6
//    address (ADDRESS_REQUEST), gets them (ADDRESS_ASSIGN echoing its request ids) and routes,
//    then pings the gateway (ICMP and ICMPv6 echo) and sends UDP to port 7 from those addresses;
//    every reply is checked (addresses, ids, checksums).
//  - Large and too-large datagrams: the largest payload the path carries goes through both ways
//    intact; one byte more is refused at the client with a typed error (datagram_too_large on
//    h3, payload_too_large above 65527 everywhere) and counted as a drop; a reply from the
//    target larger than the proxy's QUIC path carries is dropped by the proxy and counted in
//    its datagramsDropped (on h1/h2 every UDP payload fits a capsule, so there is no such drop).
//  - h1/h2 tunnels ride TLS over TCP: both ends of the connection send without Nagle's delay
//    (TCP_NODELAY), or every small write after the first waits for the peer's delayed ACK (a
//    window of 64 DATAGRAM capsules took ~20 ms per round trip instead of ~2 ms).

#include "proxy/IpResponder.h"
#include "support/E2eBench.h"
#include "support/ProxyTestTargets.h"
#include "support/TunnelWaiter.h"
#include "wire/InternetChecksum.h"
#include "wire/IpPacket.h"

#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtTest/QTest>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

using namespace qmasque;
using namespace qmasque::test;
using wire::IpAddress;
using wire::IpPrefix;

namespace {

constexpr int kDatagrams = 100000;
constexpr int kWindow = 64;
constexpr qsizetype kDatagramSize = 1000;

void addKinds()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::newRow("h1") << TransportKind::H1;
    QTest::newRow("h2") << TransportKind::H2;
    QTest::newRow("h3") << TransportKind::H3;
}

quint16 readU16(QByteArrayView data, qsizetype at)
{
    return quint16(quint8(data[at]) << 8 | quint8(data[at + 1]));
}

// TcpSockets: this process's connected TCP sockets with `port` at either end (the client's and,
// with the proxy in process, the proxy's side), and how many of them still use Nagle.
struct TcpSockets
{
    int count = 0;
    int withNagle = 0;
};

quint16 portOf(const sockaddr_storage &address)
{
    if (address.ss_family == AF_INET)
        return ntohs(reinterpret_cast<const sockaddr_in &>(address).sin_port);
    if (address.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6 &>(address).sin6_port);
    return 0;
}

TcpSockets tcpSocketsOnPort(quint16 port)
{
    TcpSockets sockets;
    const QStringList fds = QDir(QStringLiteral("/proc/self/fd"))
                                .entryList(QDir::AllEntries | QDir::System | QDir::NoDotAndDotDot);
    for (const QString &name : fds) {
        const int fd = name.toInt();
        int type = 0;
        socklen_t length = sizeof(type);
        if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM)
            continue;
        sockaddr_storage local{};
        sockaddr_storage peer{};
        socklen_t localLength = sizeof(local);
        socklen_t peerLength = sizeof(peer);
        if (::getsockname(fd, reinterpret_cast<sockaddr *>(&local), &localLength) != 0 ||
            ::getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &peerLength) != 0)
            continue; // not connected (a listener)
        if (portOf(local) != port && portOf(peer) != port)
            continue;
        int noDelay = 0;
        length = sizeof(noDelay);
        ++sockets.count;
        if (::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &noDelay, &length) != 0 || noDelay == 0)
            ++sockets.withNagle;
    }
    return sockets;
}

} // namespace

class tst_E2eDatagrams : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void udp100k_data() { addKinds(); }
    void udp100k();
    void ipPingAndUdp_data() { addKinds(); }
    void ipPingAndUdp();
    void largeAndTooLarge_data() { addKinds(); }
    void largeAndTooLarge();
    void tlsWithoutNagle_data();
    void tlsWithoutNagle();

private:
    std::unique_ptr<E2eProxy> m_proxy;
    std::unique_ptr<UdpEchoTarget> m_echo;
};

void tst_E2eDatagrams::initTestCase()
{
    registerEngineMetaTypes();
    m_proxy = std::make_unique<E2eProxy>(e2eProxyConfig(), true);
    QVERIFY2(m_proxy->start(), qPrintable(m_proxy->error));
    m_echo = std::make_unique<UdpEchoTarget>();
    QVERIFY(m_echo->start());
}

void tst_E2eDatagrams::udp100k()
{
    QFETCH(TransportKind, kind);
    E2eClient client(m_proxy->profile({kind}));
    QVERIFY2(client.configured.ok(), qPrintable(why(client.configured)));
    auto opened = client.openUdp(QStringLiteral("127.0.0.1"), m_echo->port());
    QVERIFY2(opened, qPrintable(why(opened)));
    UdpTunnel *tunnel = *opened;
    QCOMPARE(tunnel->transport(), kind);
    const ProxyStats proxyBefore = m_proxy->stats();
    const quint64 echoedBefore = m_echo->echoed();

    std::vector<bool> seen(kDatagrams, false);
    int received = 0;
    int corrupt = 0;
    TunnelWaiter waiter;
    tunnel->setReceiver([&](QByteArrayView payload) {
        const quint32 sequence = sequenceOf(payload);
        if (sequence >= quint32(kDatagrams) || seen[sequence] ||
            payload != numberedPayload(sequence, kDatagramSize)) {
            ++corrupt;
        } else {
            seen[sequence] = true;
            ++received;
        }
        waiter.poke();
    });

    // Windows of kWindow in flight; the next window goes when the echo of this one is back, or
    // when nothing arrived for 100 ms (a lost datagram costs that much, once per window).
    QElapsedTimer clock;
    clock.start();
    int sent = 0;
    int refused = 0;
    while (sent < kDatagrams) {
        const int end = qMin(kDatagrams, sent + kWindow);
        for (; sent < end; ++sent) {
            if (!tunnel->send(numberedPayload(quint32(sent), kDatagramSize)))
                ++refused;
        }
        const int expected = sent - refused;
        int before = -1;
        while (received < expected && received != before) {
            before = received;
            waiter.wait([&] { return received >= expected; }, 100);
        }
    }
    const qint64 elapsedMs = qMax<qint64>(1, clock.elapsed());
    QCOMPARE(corrupt, 0);

    // The hops, each by its own counters. The proxy's drops (queue full, too large, send
    // failed) are counted when the tunnel closes; its QUIC losses are on its connections.
    const TunnelCounters counters = tunnel->counters();
    const TransportStats clientLink = client.pool->owners().isEmpty()
                                          ? TransportStats()
                                          : client.pool->owners().first()->transport()->stats();
    const QList<TransportStats> proxyLinks = m_proxy->connectionStats();
    tunnel->close();
    QVERIFY(waitClosed(tunnel));
    QTRY_COMPARE_WITH_TIMEOUT(m_proxy->stats().tunnelsActive, quint64(0), 10000);
    const ProxyStats proxyAfter = m_proxy->stats();
    const quint64 atProxy = proxyAfter.datagramsUp - proxyBefore.datagramsUp; // sent to the echo
    const quint64 echoed = m_echo->echoed() - echoedBefore;
    const quint64 fromProxy = proxyAfter.datagramsDown - proxyBefore.datagramsDown;
    const quint64 proxyDrops = proxyAfter.datagramsDropped - proxyBefore.datagramsDropped;
    quint64 proxyQuicLost = 0;
    for (const TransportStats &link : proxyLinks)
        proxyQuicLost += link.packetsLost;

    const qint64 upLost = qint64(counters.datagramsSent) - qint64(atProxy);
    const qint64 echoLost = qint64(atProxy) - qint64(echoed);
    const qint64 backLost = qint64(echoed) - qint64(fromProxy);
    const qint64 downLost = qint64(fromProxy) - received;
    const int lost = kDatagrams - received;
    qInfo("%s: %d datagrams of %lld bytes in %lld ms (%.0f/s): %d back, %d lost = %d refused "
          "at the sender (queue_full) + %lld client->proxy + %lld proxy->echo + %lld echo->proxy "
          "+ %lld proxy->client; QUIC lost datagram frames: client %llu, proxy %llu; proxy "
          "drops %llu, client tunnel drops %llu",
          transportKindName(kind), kDatagrams, static_cast<long long>(kDatagramSize),
          static_cast<long long>(elapsedMs), kDatagrams * 1000.0 / double(elapsedMs), received,
          lost, refused, static_cast<long long>(upLost), static_cast<long long>(echoLost),
          static_cast<long long>(backLost), static_cast<long long>(downLost),
          clientLink.packetsLost, proxyQuicLost, proxyDrops, counters.drops());

    // Every hop only loses: nothing is duplicated or invented on the way.
    QVERIFY(upLost >= 0 && echoLost >= 0 && backLost >= 0 && downLost >= 0);
    QCOMPARE(qint64(lost), refused + upLost + echoLost + backLost + downLost);
    // The sender's refusals are exactly its queue_full drops; what it sent is the rest.
    QCOMPARE(quint64(refused), counters.dropQueueFull);
    QCOMPARE(counters.datagramsSent, quint64(kDatagrams - refused));
    QCOMPARE(counters.datagramsReceived, quint64(received));
    if (kind == TransportKind::H3) {
        QVERIFY2(lost <= kDatagrams / 100, qPrintable(QString::number(lost)));
        // QUIC DATAGRAM frames are not retransmitted (RFC 9221, 5): what went missing on a
        // QUIC hop was declared lost by that hop's sender (or dropped, and counted, by the
        // receiving tunnel).
        QVERIFY(quint64(upLost) <= clientLink.packetsLost + proxyDrops);
        QVERIFY(quint64(downLost) <= proxyQuicLost + counters.drops());
    } else {
        // DATAGRAM capsules ride the stream: reliable once accepted.
        QCOMPARE(refused, 0);
        QCOMPARE(upLost, qint64(0));
        QCOMPARE(downLost, qint64(0));
    }
    // Between the proxy and the echo it is plain loopback UDP: only the proxy's own drops (on
    // the way back: queue full, too large) may be missing, and the kernel's if a socket
    // buffer overflowed, which a window of 64 KB does not do.
    QCOMPARE(echoLost, qint64(0));
    QVERIFY(quint64(backLost) <= proxyDrops);
}

void tst_E2eDatagrams::ipPingAndUdp()
{
    QFETCH(TransportKind, kind);
    E2eClient client(m_proxy->profile({kind}));
    QVERIFY2(client.configured.ok(), qPrintable(why(client.configured)));
    auto opened = client.openIp();
    QVERIFY2(opened, qPrintable(why(opened)));
    IpTunnel *tunnel = *opened;
    QCOMPARE(tunnel->transport(), kind);
    QVERIFY(tunnel->mtu() >= IpTunnel::kMinMtu);

    // RFC 9484, 4.7.2: ask for one address of each version; the proxy answers with
    // ADDRESS_ASSIGN echoing our request ids (4.7.1).
    auto ids = tunnel->requestAddresses(
        {IpPrefix::host(IpAddress::zero(4)), IpPrefix::host(IpAddress::zero(6))});
    QVERIFY2(ids, qPrintable(why(ids)));
    QCOMPARE(ids->size(), 2);
    QTRY_VERIFY_WITH_TIMEOUT(tunnel->pendingRequests().isEmpty(), 10000);
    IpAddress mine[2];
    for (const wire::AssignedAddress &assigned : tunnel->assignedAddresses()) {
        if (assigned.requestId == ids->at(0))
            mine[0] = assigned.prefix.address;
        if (assigned.requestId == ids->at(1))
            mine[1] = assigned.prefix.address;
    }
    QVERIFY(mine[0].isIpv4() && !mine[0].isZero());
    QVERIFY(mine[1].isIpv6() && !mine[1].isZero());
    const IpAddress gateway[2] = {*IpAddress::fromString(u"10.89.0.1"),
                                  *IpAddress::fromString(u"fd00:89::1")};
    QVERIFY(IpPrefix::fromString(u"10.89.0.0/24")->contains(mine[0]));
    // ROUTE_ADVERTISEMENT (4.7.3): the gateway is reachable.
    QTRY_VERIFY_WITH_TIMEOUT(!tunnel->advertisedRoutes().isEmpty(), 10000);
    for (const IpAddress &address : gateway) {
        bool routed = false;
        for (const wire::IpAddressRange &range : tunnel->advertisedRoutes())
            routed = routed || (range.start <= address && address <= range.end);
        QVERIFY2(routed, qPrintable(address.toString()));
    }

    // Pings and UDP echoes from our addresses, each reply checked.
    QList<QByteArray> replies;
    TunnelWaiter waiter;
    tunnel->setReceiver([&](QByteArrayView packet) {
        replies.append(packet.toByteArray());
        waiter.poke();
    });
    constexpr int kRounds = 50;
    int expected = 0;
    int good = 0;
    for (int round = 0; round < kRounds; ++round) {
        const int v = round % 2;
        const QByteArray data = QByteArray::number(round).repeated(40);
        const int first = int(replies.size());
        QVERIFY(
            tunnel->sendPacket(icmpEchoRequest(mine[v], gateway[v], 0x4242, quint16(round), data)));
        QVERIFY(tunnel->sendPacket(
            udpPacket(mine[v], gateway[v], 40000 + round, IpResponder::kEchoPort, data)));
        expected += 2;
        waiter.wait([&] { return replies.size() >= first + 2; }, 2000);
        for (int i = first; i < replies.size(); ++i) {
            const QByteArray &packet = replies[i];
            auto info = wire::inspectIpPacket(packet);
            QVERIFY2(info, qPrintable(why(info)));
            QCOMPARE(info->source, gateway[v]);
            QCOMPARE(info->destination, mine[v]);
            const QByteArrayView body = QByteArrayView(packet).sliced(info->headerLength);
            if (info->protocol == 17) {
                QCOMPARE(readU16(body, 0), IpResponder::kEchoPort);
                QCOMPARE(readU16(body, 2), quint16(40000 + round));
                QCOMPARE(body.sliced(8), QByteArrayView(data));
                QCOMPARE(wire::pseudoHeaderChecksum(gateway[v], mine[v], 17, body), quint16(0));
            } else {
                QCOMPARE(info->protocol, quint8(v == 0 ? 1 : 58));
                QCOMPARE(quint8(body[0]), quint8(v == 0 ? 0 : 129)); // Echo Reply
                QCOMPARE(readU16(body, 4), quint16(0x4242));
                QCOMPARE(readU16(body, 6), quint16(round));
                QCOMPARE(body.sliced(8), QByteArrayView(data));
                const quint16 checksum =
                    v == 0 ? wire::internetChecksum(body)
                           : wire::pseudoHeaderChecksum(gateway[v], mine[v], 58, body);
                QCOMPARE(checksum, quint16(0));
            }
            ++good;
        }
    }
    qInfo("%s: %d packets sent, %d intact replies", transportKindName(kind), expected, good);
    if (kind == TransportKind::H3)
        QVERIFY(good >= expected * 95 / 100);
    else
        QCOMPARE(good, expected);
    tunnel->close();
    QVERIFY(waitClosed(tunnel));
}

void tst_E2eDatagrams::largeAndTooLarge()
{
    QFETCH(TransportKind, kind);
    UdpEchoTarget echo; // its own: largest() and reply are per test
    QVERIFY(echo.start());
    E2eClient client(m_proxy->profile({kind}));
    QVERIFY2(client.configured.ok(), qPrintable(why(client.configured)));
    auto opened = client.openUdp(QStringLiteral("127.0.0.1"), echo.port());
    QVERIFY2(opened, qPrintable(why(opened)));
    UdpTunnel *tunnel = *opened;
    QTRY_COMPARE_WITH_TIMEOUT(m_proxy->stats().tunnelsActive, quint64(1), 10000);
    const ProxyStats before = m_proxy->stats();

    // The largest payload the path carries, both ways. On h1/h2 a capsule carries any UDP
    // payload, bounded here by what IPv4 UDP carries between the proxy and the echo (65507).
    const qint64 max = tunnel->maxPayload();
    if (kind == TransportKind::H3)
        QVERIFY2(max >= 1000 && max < 1500, qPrintable(QString::number(max)));
    else
        QCOMPARE(max, UdpTunnel::kMaxUdpPayload);
    const qsizetype large = qsizetype(qMin<qint64>(max, 65507));
    QByteArray payload(large, 'L');
    payload[0] = 'x';
    QVERIFY(udpRoundTrip(tunnel, payload));
    QCOMPARE(echo.largest(), qint64(large));

    // One byte more than the path carries, and one more than UDP carries: typed, counted.
    quint64 refusedHere = 0;
    if (kind == TransportKind::H3) {
        const Status status = tunnel->send(QByteArray(max + 1, 'T'));
        QVERIFY(!status);
        QCOMPARE(status.error().code, ErrorCode::DatagramTooLarge);
        ++refusedHere;
    }
    const Status status = tunnel->send(QByteArray(UdpTunnel::kMaxUdpPayload + 1, 'T'));
    QVERIFY(!status);
    QCOMPARE(status.error().code, ErrorCode::PayloadTooLarge);
    ++refusedHere;
    QCOMPARE(tunnel->counters().dropTooLarge, refusedHere);

    // A target reply larger than the proxy's path carries (h3): the proxy drops and counts it.
    // The small round trip after it follows it through the proxy's socket, so by then the
    // proxy has handled the large one.
    const quint64 receivedBefore = tunnel->counters().datagramsReceived;
    echo.reply = [](QByteArrayView data) {
        return data.startsWith("grow") ? QByteArray(3000, 'G') : data.toByteArray();
    };
    if (kind == TransportKind::H3)
        QVERIFY(tunnel->send("grow").ok());
    QVERIFY(udpRoundTrip(tunnel, "small"));
    echo.reply = {};
    const quint64 receivedAfter = tunnel->counters().datagramsReceived;
    tunnel->close();
    QVERIFY(waitClosed(tunnel));
    QTRY_COMPARE_WITH_TIMEOUT(m_proxy->stats().tunnelsActive, quint64(0), 10000);
    const ProxyStats after = m_proxy->stats();
    // Nothing oversized reached the client: only the echoes of "small" (retried if lost).
    QVERIFY(receivedAfter - receivedBefore >= 1);
    QCOMPARE(after.datagramsDropped - before.datagramsDropped,
             quint64(kind == TransportKind::H3 ? 1 : 0));
}

void tst_E2eDatagrams::tlsWithoutNagle_data()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::newRow("h1") << TransportKind::H1;
    QTest::newRow("h2") << TransportKind::H2;
}

void tst_E2eDatagrams::tlsWithoutNagle()
{
    QFETCH(TransportKind, kind);
    E2eClient client(m_proxy->profile({kind}));
    QVERIFY(client.configured.ok());
    auto opened = client.openUdp(QStringLiteral("127.0.0.1"), m_echo->port());
    QVERIFY2(opened, qPrintable(why(opened)));
    QVERIFY(udpRoundTrip(*opened, "small"));
    const TcpSockets sockets = tcpSocketsOnPort(m_proxy->port());
    QVERIFY(sockets.count >= 2); // at least the client's end and the proxy's end
    QCOMPARE(sockets.withNagle, 0);
    (*opened)->close();
    QVERIFY(waitClosed(*opened));
}

QTEST_GUILESS_MAIN(tst_E2eDatagrams)
#include "tst_e2e_datagrams.moc"
