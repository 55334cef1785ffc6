// CONNECT-UDP and CONNECT-IP sessions on MockTransport: payload limits and drop counters,
// context ids, held datagrams, capsule errors that reset only their own tunnel, the CONNECT-IP
// capsules both ways, the MTU rules.

#include "pool/UpstreamOwner.h"
#include "support/TunnelTestBench.h"
#include "tunnel/IpTunnel.h"
#include "tunnel/UdpTunnel.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

template<typename T>
std::unique_ptr<T> openTunnel(TunnelTestBench &bench, TransportKind kind,
                              const TunnelTarget &target, quint64 maxCapsule = 65536)
{
    TunnelConfig config = bench.config(kind, target);
    config.maxCapsuleLength = maxCapsule;
    auto tunnel = std::make_unique<T>(std::move(config));
    QSignalSpy opened(tunnel.get(), &TunnelSession::opened);
    tunnel->start();
    if (!opened.wait(2000))
        qWarning("tunnel did not open");
    return tunnel;
}

wire::IpPrefix prefix(const char *text)
{
    return *wire::IpPrefix::fromString(QString::fromLatin1(text));
}

wire::IpAddress address(const char *text)
{
    return *wire::IpAddress::fromString(QString::fromLatin1(text));
}

QByteArray ipCapsule(quint64 type, const Result<QByteArray> &value)
{
    return TunnelTestBench::capsule(type, value.value());
}

Error closeReasonOf(QSignalSpy &spy)
{
    return spy.isEmpty() ? Error() : spy.first().first().value<Error>();
}

} // namespace

class tst_TunnelDatagrams : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void udpSendLimits();
    void udpSendStates();
    void udpReceiveFilters();
    void udpHeldUntilReceiver();
    void capsuleErrorsResetOnlyThatTunnel_data();
    void capsuleErrorsResetOnlyThatTunnel();
    void unknownCapsulesIgnored();
    void ipPacketsAndMtu();
    void ipMtuWaitsForPathMtu();
    void ipMtuTooLow();
    void ipCapsulesBothWays();
    void ipAssignRules();
    void ipMalformedCapsule();
};

void tst_TunnelDatagrams::udpSendLimits()
{
    TunnelTestBench bench;
    auto tunnel = openTunnel<UdpTunnel>(bench, TransportKind::H3, bench.udpTarget());
    QVERIFY(tunnel->isOpen());
    MockTransport *transport = bench.transportOf(*tunnel);
    // The mock's h3 path carries 1200-byte HTTP datagram payloads: 1199 after the context id.
    QCOMPARE(tunnel->maxPayload(), qint64(1199));
    QVERIFY(tunnel->send(QByteArray(1199, 'x')));
    QCOMPARE(tunnel->send(QByteArray(1200, 'x')).error().code, ErrorCode::DatagramTooLarge);
    transport->setMaxDatagramPayload(70000);
    QCOMPARE(tunnel->maxPayload(), UdpTunnel::kMaxUdpPayload);
    QVERIFY(tunnel->send(QByteArray(65527, 'x')));
    // RFC 9298, 5: nothing above 65527 bytes is a UDP payload.
    QCOMPARE(tunnel->send(QByteArray(65528, 'x')).error().code, ErrorCode::PayloadTooLarge);
    QCOMPARE(tunnel->counters().dropTooLarge, quint64(2));
    QCOMPARE(tunnel->counters().datagramsSent, quint64(2));
    QCOMPARE(tunnel->counters().bytesSent, quint64(1199 + 65527));
    // On the wire: context id 0, then the payload (the transport adds the quarter stream id).
    const MockTransport::Call &last = transport->calls().last();
    QCOMPARE(last.name, QByteArray("sendDatagram"));
    QCOMPARE(last.detail.size(), 65528);
    QCOMPARE(last.detail.at(0), '\0');
}

void tst_TunnelDatagrams::udpSendStates()
{
    TunnelTestBench bench;
    bench.proxy.setAnswer(TransportKind::H2, TunnelMockProxy::Answer{false, 0, 0, {}});
    auto tunnel = std::make_unique<UdpTunnel>(bench.config(TransportKind::H2, bench.udpTarget()));
    tunnel->start();
    QCOMPARE(tunnel->send("early").error().code, ErrorCode::NotReady);
    QCOMPARE(tunnel->maxPayload(), qint64(0));
    tunnel->close();
    QCOMPARE(tunnel->send("late").error().code, ErrorCode::StreamClosed);
}

void tst_TunnelDatagrams::udpReceiveFilters()
{
    TunnelTestBench bench;
    auto tunnel = openTunnel<UdpTunnel>(bench, TransportKind::H2, bench.udpTarget());
    QByteArrayList received;
    tunnel->setReceiver([&](QByteArrayView payload) { received.append(payload.toByteArray()); });
    MockTransport *transport = bench.transportOf(*tunnel);
    const StreamId id = tunnel->streamId();
    QByteArray stream = TunnelTestBench::datagramCapsule("one");
    stream += TunnelTestBench::datagramCapsule("other context", 4);     // RFC 9298, 4: dropped
    stream += TunnelTestBench::datagramCapsule(QByteArray(65528, 'o')); // not a UDP payload
    stream += TunnelTestBench::datagramCapsule("two");
    // Split at an awkward place: capsules are reassembled across reads.
    transport->simulateData(id, stream.first(5));
    transport->simulateData(id, stream.sliced(5));
    QCOMPARE(received, QByteArrayList({"one", "two"}));
    QCOMPARE(tunnel->counters().dropUnknownContext, quint64(1));
    QCOMPARE(tunnel->counters().dropOversized, quint64(1));
    QCOMPARE(tunnel->counters().bytesReceived, quint64(6));
    // Flow-control credit for every capsule byte, at once (CapsuleChannel).
    qint64 consumed = 0;
    for (const MockTransport::Call &call : transport->calls()) {
        if (call.name == "consumeStreamData" && call.id == id)
            consumed += call.detail.toLongLong();
    }
    QCOMPARE(consumed, qint64(stream.size()));
}

void tst_TunnelDatagrams::udpHeldUntilReceiver()
{
    TunnelTestBench bench;
    auto tunnel = openTunnel<UdpTunnel>(bench, TransportKind::H3, bench.udpTarget());
    MockTransport *transport = bench.transportOf(*tunnel);
    const StreamId id = tunnel->streamId();
    for (int i = 0; i < DatagramTunnel::kMaxHeldDatagrams + 5; ++i)
        transport->simulateDatagram(id, TunnelTestBench::httpDatagram(QByteArray::number(i)));
    QCOMPARE(tunnel->counters().dropNoReceiver, quint64(5));
    QByteArrayList received;
    tunnel->setReceiver([&](QByteArrayView payload) { received.append(payload.toByteArray()); });
    QCOMPARE(received.size(), DatagramTunnel::kMaxHeldDatagrams);
    QCOMPARE(received.first(), QByteArray("0"));
    QCOMPARE(received.last(), QByteArray::number(DatagramTunnel::kMaxHeldDatagrams - 1));
    transport->simulateDatagram(id, TunnelTestBench::httpDatagram("live"));
    QCOMPARE(received.last(), QByteArray("live"));
}

void tst_TunnelDatagrams::capsuleErrorsResetOnlyThatTunnel_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("fin");
    QTest::addColumn<QString>("reason");

    // A DATAGRAM capsule without a context id (RFC 9297, 3.5).
    QTest::newRow("malformed") << TunnelTestBench::capsule(0x00, {}) << false
                               << "malformed_capsule";
    // FIN inside a capsule.
    QTest::newRow("truncated") << TunnelTestBench::datagramCapsule("abcdef").first(4) << true
                               << "truncated_capsule";
    // Above the configured capsule limit (100 bytes here).
    QTest::newRow("too large") << TunnelTestBench::capsule(0x2a, QByteArray(200, 'z')) << false
                               << "capsule_too_large";
}

void tst_TunnelDatagrams::capsuleErrorsResetOnlyThatTunnel()
{
    QFETCH(QByteArray, bytes);
    QFETCH(bool, fin);
    QFETCH(QString, reason);
    TunnelTestBench bench;
    auto victim = openTunnel<UdpTunnel>(bench, TransportKind::H2, bench.udpTarget(), 100);
    auto bystander = openTunnel<UdpTunnel>(bench, TransportKind::H2, bench.udpTarget(), 100);
    MockTransport *transport = bench.transportOf(*victim);
    QCOMPARE(bench.transportOf(*bystander), transport); // one pooled connection
    QSignalSpy closed(victim.get(), &TunnelSession::closed);
    transport->simulateData(victim->streamId(), bytes, fin);
    QVERIFY(closed.wait(1000));
    QCOMPARE(QString::fromLatin1(closeReasonOf(closed).name()), reason);
    // RFC 9297, 3.3: H3_MESSAGE_ERROR / PROTOCOL_ERROR on that stream only.
    bool messageError = false;
    for (const MockTransport::Call &call : transport->calls())
        messageError =
            messageError || (call.name == "resetStream" && call.id == victim->streamId() &&
                             call.detail == "message_error");
    QVERIFY(messageError);
    QCOMPARE(bystander->state(), TunnelState::Open);
    QVERIFY(bystander->send("still here"));
    QCOMPARE(bench.pool->owners().first()->streamsInUse(), qint64(1));
}

void tst_TunnelDatagrams::unknownCapsulesIgnored()
{
    TunnelTestBench bench;
    auto tunnel = openTunnel<UdpTunnel>(bench, TransportKind::H2, bench.udpTarget());
    QByteArrayList received;
    tunnel->setReceiver([&](QByteArrayView payload) { received.append(payload.toByteArray()); });
    // RFC 9297, 3.2 / 5.4: unknown (and GREASE) capsule types are skipped.
    bench.transportOf(*tunnel)->simulateData(tunnel->streamId(),
                                             TunnelTestBench::capsule(0x17 + 0x29, "grease") +
                                                 TunnelTestBench::datagramCapsule("after"));
    QCOMPARE(received, QByteArrayList({"after"}));
    QCOMPARE(tunnel->state(), TunnelState::Open);
}

void tst_TunnelDatagrams::ipPacketsAndMtu()
{
    TunnelTestBench bench;
    connect(&bench.network, &MockNetwork::transportCreated, this, [](MockTransport *transport) {
        if (transport->kind() == TransportKind::H3)
            transport->setMaxDatagramPayload(1400);
    });
    auto tunnel = openTunnel<IpTunnel>(bench, TransportKind::H3, bench.ipTarget());
    QVERIFY(tunnel->isOpen());
    QCOMPARE(tunnel->mtu(), qint64(1399)); // the path, below the configured 1500
    QVERIFY(tunnel->sendPacket(QByteArray(1399, 'p')));
    QCOMPARE(tunnel->sendPacket(QByteArray(1400, 'p')).error().code, ErrorCode::PacketTooLarge);
    QCOMPARE(tunnel->counters().dropTooLarge, quint64(1));
    QByteArrayList received;
    tunnel->setReceiver([&](QByteArrayView packet) { received.append(packet.toByteArray()); });
    bench.transportOf(*tunnel)->simulateDatagram(tunnel->streamId(),
                                                 TunnelTestBench::httpDatagram("packet"));
    QCOMPARE(received, QByteArrayList({"packet"}));

    // On h2 the capsule limit is far above: the configured MTU decides.
    auto h2 = openTunnel<IpTunnel>(bench, TransportKind::H2, bench.ipTarget());
    QCOMPARE(h2->mtu(), IpTunnel::kDefaultMtu);
    QCOMPARE(h2->sendPacket(QByteArray(1501, 'p')).error().code, ErrorCode::PacketTooLarge);
}

void tst_TunnelDatagrams::ipMtuWaitsForPathMtu()
{
    TunnelTestBench bench;
    QPointer<MockTransport> h3;
    connect(&bench.network, &MockNetwork::transportCreated, this, [&](MockTransport *transport) {
        transport->setMaxDatagramPayload(1200); // ngtcp2's first packets: below 1280
        h3 = transport;
    });
    auto tunnel = std::make_unique<IpTunnel>(bench.config(TransportKind::H3, bench.ipTarget()));
    QSignalSpy opened(tunnel.get(), &TunnelSession::opened);
    tunnel->start();
    QTRY_COMPARE(tunnel->responseStatus(), 200);
    QCOMPARE(tunnel->state(), TunnelState::Connecting);
    h3->setMaxDatagramPayload(1452); // path MTU discovery raised it
    QVERIFY(opened.wait(1000));
    QCOMPARE(tunnel->mtu(), qint64(1451));
}

void tst_TunnelDatagrams::ipMtuTooLow()
{
    TunnelTestBench bench;
    connect(&bench.network, &MockNetwork::transportCreated, this,
            [](MockTransport *transport) { transport->setMaxDatagramPayload(1200); });
    auto tunnel = std::make_unique<IpTunnel>(bench.config(TransportKind::H3, bench.ipTarget()));
    QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
    tunnel->start();
    QVERIFY(closed.wait(IpTunnel::kMtuWaitMs + 1500));
    const Error reason = closeReasonOf(closed);
    QCOMPARE(reason.code, ErrorCode::MtuTooLow);
    QVERIFY(reason.detail.contains(u"1199"_qs));
}

void tst_TunnelDatagrams::ipCapsulesBothWays()
{
    TunnelTestBench bench;
    auto tunnel = openTunnel<IpTunnel>(bench, TransportKind::H2, bench.ipTarget());
    MockTransport *transport = bench.transportOf(*tunnel);
    const StreamId id = tunnel->streamId();

    // Ours: ADDRESS_REQUEST with ids counting from 1 (RFC 9484, 4.7.2).
    auto ids = tunnel->requestAddresses({prefix("0.0.0.0/32"), prefix("::/128")});
    QVERIFY(ids);
    QCOMPARE(*ids, QList<quint64>({1, 2}));
    QCOMPARE(tunnel->pendingRequests().size(), 2);
    const QByteArray request = ipCapsule(
        0x02, wire::encodeAddressRequest({{1, prefix("0.0.0.0/32")}, {2, prefix("::/128")}}));
    QCOMPARE(transport->sentData(id), request);
    QCOMPARE(*tunnel->requestAddresses({prefix("10.0.0.0/8")}), QList<quint64>({3}));

    // Theirs: ADDRESS_ASSIGN answering request 1, then a route advertisement.
    QSignalSpy assigned(tunnel.get(), &IpTunnel::addressesAssigned);
    QSignalSpy routes(tunnel.get(), &IpTunnel::routesAdvertised);
    const QList<wire::AssignedAddress> assignment = {{1, prefix("192.0.2.7/32")}};
    const QList<wire::IpAddressRange> advertised = {
        {address("0.0.0.0"), address("255.255.255.255"), 0}};
    transport->simulateData(id, ipCapsule(0x01, wire::encodeAddressAssign(assignment)) +
                                    ipCapsule(0x03, wire::encodeRouteAdvertisement(advertised)));
    QCOMPARE(assigned.count(), 1);
    QCOMPARE(routes.count(), 1);
    QCOMPARE(tunnel->assignedAddresses(), assignment);
    QCOMPARE(tunnel->advertisedRoutes(), advertised);
    QCOMPARE(tunnel->pendingRequests().size(), 2); // 2 and 3 are unanswered
    QCOMPARE(tunnel->counters().capsulesReceived, quint64(2));

    // A later ADDRESS_ASSIGN replaces the set (RFC 9484, 4.7.1).
    transport->simulateData(id, ipCapsule(0x01, wire::encodeAddressAssign({})));
    QVERIFY(tunnel->assignedAddresses().isEmpty());

    // Theirs: ADDRESS_REQUEST; ours answers it.
    QSignalSpy requested(tunnel.get(), &IpTunnel::addressesRequested);
    transport->simulateData(
        id, ipCapsule(0x02, wire::encodeAddressRequest({{9, prefix("0.0.0.0/32")}})));
    QCOMPARE(requested.count(), 1);
    QCOMPARE(tunnel->pendingPeerRequests().size(), 1);
    const qsizetype before = transport->sentData(id).size();
    QVERIFY(tunnel->assignAddresses({{9, prefix("198.51.100.1/32")}}));
    QVERIFY(tunnel->pendingPeerRequests().isEmpty());
    QVERIFY(tunnel->advertiseRoutes(advertised));
    const QByteArray sent = transport->sentData(id).sliced(before);
    QCOMPARE(sent, ipCapsule(0x01, wire::encodeAddressAssign({{9, prefix("198.51.100.1/32")}})) +
                       ipCapsule(0x03, wire::encodeRouteAdvertisement(advertised)));
    QCOMPARE(tunnel->counters().capsulesSent, quint64(4));
}

void tst_TunnelDatagrams::ipAssignRules()
{
    TunnelTestBench bench;
    auto tunnel = openTunnel<IpTunnel>(bench, TransportKind::H2, bench.ipTarget());
    // A non-zero id must answer a pending peer request; 0 is unprompted.
    QCOMPARE(tunnel->assignAddresses({{5, prefix("192.0.2.1/32")}}).error().code,
             ErrorCode::BadRequestId);
    QVERIFY(tunnel->assignAddresses({{0, prefix("192.0.2.1/32")}}));
    // The encoders refuse what the parsers would refuse.
    QCOMPARE(tunnel->requestAddresses({wire::IpPrefix{address("10.0.0.1"), 8}}).error().code,
             ErrorCode::BadPrefix);
    QCOMPARE(tunnel->advertiseRoutes({{address("10.0.0.9"), address("10.0.0.1"), 0}}).error().code,
             ErrorCode::BadRoute);
    // A refused request does not use up ids.
    QCOMPARE(*tunnel->requestAddresses({prefix("0.0.0.0/32")}), QList<quint64>({1}));
}

void tst_TunnelDatagrams::ipMalformedCapsule()
{
    TunnelTestBench bench;
    auto tunnel = openTunnel<IpTunnel>(bench, TransportKind::H2, bench.ipTarget());
    QVERIFY(tunnel->isOpen());
    QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
    MockTransport *transport = bench.transportOf(*tunnel);
    // An ADDRESS_ASSIGN whose prefix has host bits set.
    QByteArray value;
    value.append('\0');                  // request id 0
    value.append('\x04');                // IPv4
    value.append("\x0a\x00\x00\x01", 4); // 10.0.0.1
    value.append('\x08');                // /8
    transport->simulateData(tunnel->streamId(), TunnelTestBench::capsule(0x01, value));
    QVERIFY(closed.wait(1000));
    QCOMPARE(closeReasonOf(closed).code, ErrorCode::BadPrefix);
    QVERIFY(transport->called("resetStream", tunnel->streamId()));
}

QTEST_GUILESS_MAIN(tst_TunnelDatagrams)
#include "tst_tunnel_datagrams.moc"
