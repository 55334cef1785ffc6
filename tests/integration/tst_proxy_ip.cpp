// qmasque-proxy, CONNECT-IP (RFC 9484) over h1, h2 and h3 with the internal responder (no TUN):
// the unprompted ADDRESS_ASSIGN from the pool, ROUTE_ADVERTISEMENT, ADDRESS_REQUEST answered,
// ICMP / ICMPv6 echo and UDP echo with every checksum verified, and the packets the proxy must
// drop: spoofed source, forbidden destination, hop limit exhausted (answered with ICMP Time
// Exceeded from the proxy's gateway address).

#include "proxy/IpResponder.h"
#include "proxy/MasqueProxy.h"
#include "support/H2TestUtil.h"
#include "support/ProxyTestClient.h"
#include "support/TestPackets.h"
#include "wire/Capsule.h"
#include "wire/InternetChecksum.h"
#include "wire/IpCapsules.h"
#include "wire/IpPacket.h"

#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;
using wire::IpAddress;
using wire::IpPrefix;

namespace {

IpAddress ip(const char16_t *text)
{
    return *IpAddress::fromString(QStringView(text));
}

quint16 readU16(QByteArrayView data, qsizetype at)
{
    return quint16(quint8(data[at]) << 8 | quint8(data[at + 1]));
}

// echoRequest: identifier 0x1234, 8 bytes of data.
QByteArray echoRequest(const IpAddress &from, const IpAddress &to, quint16 sequence,
                       quint8 hopLimit = 64)
{
    return icmpEchoRequest(from, to, 0x1234, sequence, "pppppppp", hopLimit);
}

} // namespace

class TstProxyIp : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<ProxyTestServer> m_server;

    struct Tunnel
    {
        Transport *transport = nullptr;
        std::unique_ptr<ProxyTestStream> stream;
        IpAddress v4;
        IpAddress v6;
        QList<wire::IpAddressRange> routes;
    };

    // openTunnel: a CONNECT-IP tunnel with its first ADDRESS_ASSIGN and ROUTE_ADVERTISEMENT.
    bool openTunnel(TransportKind kind, Tunnel &tunnel)
    {
        Error error;
        tunnel.transport = connectTransport(kind, m_server->clientOptions(), this, &error);
        if (!tunnel.transport)
            return false;
        tunnel.stream = std::make_unique<ProxyTestStream>(tunnel.transport, true);
        if (!tunnel.stream->open(ipRequest(m_server->authority())).ok() ||
            !tunnel.stream->waitForResponse() || !tunnel.stream->isSuccess())
            return false;
        if (!waitUntil([&] { return tunnel.stream->capsules.size() >= 2; }))
            return false;
        const auto &[assignType, assignValue] = tunnel.stream->capsules[0];
        const auto &[routeType, routeValue] = tunnel.stream->capsules[1];
        auto assigned = wire::parseAddressAssign(assignValue);
        auto routes = wire::parseRouteAdvertisement(routeValue);
        if (assignType != quint64(wire::CapsuleType::AddressAssign) || !assigned ||
            routeType != quint64(wire::CapsuleType::RouteAdvertisement) || !routes)
            return false;
        for (const wire::AssignedAddress &address : std::as_const(*assigned)) {
            if (address.requestId != 0)
                return false; // RFC 9484, 4.7.1: unprompted
            (address.prefix.address.isIpv4() ? tunnel.v4 : tunnel.v6) = address.prefix.address;
        }
        tunnel.routes = *routes;
        return !tunnel.v4.isNull() && !tunnel.v6.isNull();
    }

    static bool routed(const QList<wire::IpAddressRange> &routes, const IpAddress &address)
    {
        for (const wire::IpAddressRange &range : routes) {
            if (range.start.version() == address.version() && range.start <= address &&
                address <= range.end)
                return true;
        }
        return false;
    }

    // waitForPacket: the next datagram after `count` received, inspected.
    static std::optional<wire::IpPacketInfo> waitForPacket(ProxyTestStream &stream, int index)
    {
        if (!waitUntil([&] { return stream.datagrams.size() > index; }))
            return std::nullopt;
        auto info = wire::inspectIpPacket(stream.datagrams[index]);
        if (!info)
            return std::nullopt;
        return *info;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_server = std::make_unique<ProxyTestServer>();
        QVERIFY2(m_server->start(), qPrintable(m_server->error));
    }

    void cleanupTestCase() { m_server.reset(); }

    void tunnel_data()
    {
        QTest::addColumn<TransportKind>("kind");
        QTest::newRow("h1") << TransportKind::H1;
        QTest::newRow("h2") << TransportKind::H2;
        QTest::newRow("h3") << TransportKind::H3;
    }
    void tunnel()
    {
        QFETCH(TransportKind, kind);
        Tunnel tunnel;
        QVERIFY(openTunnel(kind, tunnel));
        ProxyTestStream &stream = *tunnel.stream;
        QCOMPARE(stream.header("capsule-protocol"), QByteArray("?1"));

        // Addresses from the default pools; the gateway (.1) is never handed out.
        QVERIFY(IpPrefix::fromString(u"10.89.0.0/24")->contains(tunnel.v4));
        QVERIFY(IpPrefix::fromString(u"fd00:89::/64")->contains(tunnel.v6));
        QVERIFY(tunnel.v4 != ip(u"10.89.0.1"));
        // Routes: what access control permits, the gateway included; private space not.
        QVERIFY(wire::validateRouteAdvertisement(tunnel.routes).ok());
        QVERIFY(routed(tunnel.routes, ip(u"1.1.1.1")));
        QVERIFY(routed(tunnel.routes, ip(u"2606:4700::1111")));
        QVERIFY(routed(tunnel.routes, ip(u"10.89.0.1")));
        QVERIFY(routed(tunnel.routes, ip(u"127.0.0.1"))); // the test allows loopback
        QVERIFY(!routed(tunnel.routes, ip(u"10.1.2.3")));
        QVERIFY(!routed(tunnel.routes, ip(u"fe80::1")));

        // ADDRESS_REQUEST: answered with the address already assigned, echoing the id.
        auto request = wire::encodeAddressRequest(
            {wire::RequestedAddress{7, IpPrefix::host(IpAddress::zero(4))}});
        QVERIFY(stream.sendCapsule(quint64(wire::CapsuleType::AddressRequest), *request).ok());
        QVERIFY(waitUntil([&] { return stream.capsules.size() >= 3; }));
        QCOMPARE(stream.capsules[2].first, quint64(wire::CapsuleType::AddressAssign));
        auto answer = wire::parseAddressAssign(stream.capsules[2].second);
        QVERIFY(answer && answer->size() == 1);
        QCOMPARE(answer->first().requestId, quint64(7));
        QCOMPARE(answer->first().prefix, IpPrefix::host(tunnel.v4));

        int next = 0;
        // ICMP Echo to a public address: the reply comes from it, TTL 64 - 1 (the proxy
        // forwarded it into the tunnel), identifier, sequence and data echoed.
        const IpAddress remote4 = ip(u"1.1.1.1");
        QVERIFY(stream.sendDatagram(echoRequest(tunnel.v4, remote4, 1), 65535).ok());
        auto reply = waitForPacket(stream, next);
        QVERIFY(reply);
        QByteArray packet = stream.datagrams[next++];
        QCOMPARE(reply->source, remote4);
        QCOMPARE(reply->destination, tunnel.v4);
        QCOMPARE(reply->protocol, quint8(1));
        QCOMPARE(reply->hopLimit, quint8(63));
        QByteArrayView icmp = QByteArrayView(packet).sliced(reply->headerLength);
        QCOMPARE(quint8(icmp[0]), quint8(0)); // Echo Reply
        QCOMPARE(readU16(icmp, 4), quint16(0x1234));
        QCOMPARE(readU16(icmp, 6), quint16(1));
        QCOMPARE(wire::internetChecksum(icmp), quint16(0));

        // ICMPv6 Echo.
        const IpAddress remote6 = ip(u"2606:4700::1111");
        QVERIFY(stream.sendDatagram(echoRequest(tunnel.v6, remote6, 2), 65535).ok());
        reply = waitForPacket(stream, next);
        QVERIFY(reply);
        packet = stream.datagrams[next++];
        QCOMPARE(reply->source, remote6);
        QCOMPARE(reply->protocol, quint8(58));
        icmp = QByteArrayView(packet).sliced(reply->headerLength);
        QCOMPARE(quint8(icmp[0]), quint8(129));
        QCOMPARE(readU16(icmp, 6), quint16(2));
        QCOMPARE(wire::pseudoHeaderChecksum(remote6, tunnel.v6, 58, icmp), quint16(0));

        // UDP echo (port 7) over both versions.
        for (const auto &[from, to] : {std::pair{tunnel.v4, ip(u"8.8.8.8")},
                                       std::pair{tunnel.v6, ip(u"2001:4860:4860::8888")}}) {
            QVERIFY(
                stream
                    .sendDatagram(
                        udpPacket(from, to, 40000, IpResponder::kEchoPort, "ping over udp"), 65535)
                    .ok());
            reply = waitForPacket(stream, next);
            QVERIFY(reply);
            packet = stream.datagrams[next++];
            QCOMPARE(reply->source, to);
            QCOMPARE(reply->protocol, quint8(17));
            const QByteArrayView udp = QByteArrayView(packet).sliced(reply->headerLength);
            QCOMPARE(readU16(udp, 0), IpResponder::kEchoPort);
            QCOMPARE(readU16(udp, 2), quint16(40000));
            QCOMPARE(udp.sliced(8), QByteArrayView("ping over udp"));
            QCOMPARE(wire::pseudoHeaderChecksum(to, from, 17, udp), quint16(0));
        }

        // Dropped without an answer: a spoofed source, a forbidden destination. The echo sent
        // after them is the next packet back.
        MasqueProxy &proxy = m_server->proxy();
        const double spoofedBefore =
            proxy.metrics().value("qmasque_proxy_ip_packets_dropped", {"spoofed_source"});
        const double forbiddenBefore =
            proxy.metrics().value("qmasque_proxy_ip_packets_dropped", {"forbidden"});
        QVERIFY(stream.sendDatagram(echoRequest(ip(u"10.89.0.200"), remote4, 3), 65535).ok());
        QVERIFY(stream.sendDatagram(echoRequest(tunnel.v4, ip(u"10.1.2.3"), 4), 65535).ok());
        QVERIFY(stream.sendDatagram(echoRequest(tunnel.v4, remote4, 5), 65535).ok());
        reply = waitForPacket(stream, next);
        QVERIFY(reply);
        packet = stream.datagrams[next++];
        QCOMPARE(readU16(QByteArrayView(packet).sliced(reply->headerLength), 6), quint16(5));

        // Hop limit 1: it runs out at the proxy, which answers with Time Exceeded from its
        // gateway address, quoting the packet.
        const QByteArray expiring = echoRequest(tunnel.v4, remote4, 6, 1);
        QVERIFY(stream.sendDatagram(expiring, 65535).ok());
        reply = waitForPacket(stream, next);
        QVERIFY(reply);
        packet = stream.datagrams[next++];
        QCOMPARE(reply->source, ip(u"10.89.0.1"));
        QCOMPARE(reply->destination, tunnel.v4);
        icmp = QByteArrayView(packet).sliced(reply->headerLength);
        QCOMPARE(quint8(icmp[0]), quint8(11));
        QCOMPARE(wire::internetChecksum(icmp), quint16(0));
        QCOMPARE(icmp.sliced(8), QByteArrayView(expiring));

        QVERIFY(tunnel.transport->endStream(stream.id).ok());
        QVERIFY(waitUntil([&] { return proxy.stats().tunnelsActive == 0; }));
        QCOMPARE(proxy.metrics().value("qmasque_proxy_ip_packets_dropped", {"spoofed_source"}),
                 spoofedBefore + 1);
        QCOMPARE(proxy.metrics().value("qmasque_proxy_ip_packets_dropped", {"forbidden"}),
                 forbiddenBefore + 1);
        QCOMPARE(stream.datagrams.size(), next);
        tunnel.stream.reset();
        delete tunnel.transport;
    }

    void addressesReturnToThePool()
    {
        // Two tunnels at once get different addresses.
        Tunnel first;
        Tunnel second;
        QVERIFY(openTunnel(TransportKind::H2, first));
        QVERIFY(openTunnel(TransportKind::H3, second));
        QVERIFY(first.v4 != second.v4);
        QVERIFY(first.v6 != second.v6);
        first.stream.reset();
        delete first.transport;
        second.stream.reset();
        delete second.transport;
        QVERIFY(waitUntil([&] { return m_server->proxy().stats().tunnelsActive == 0; }));
    }
};

QTEST_MAIN(TstProxyIp)
#include "tst_proxy_ip.moc"
