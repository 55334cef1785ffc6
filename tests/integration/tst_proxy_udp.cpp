// qmasque-proxy, CONNECT-UDP (RFC 9298) over h1, h2 and h3, driven by the real client
// transports: 10 000 datagram round trips through a local UDP echo with the loss counted, the
// 65527-byte payload limit over DATAGRAM capsules, datagrams above the client's path limit
// refused by the transport (h3) and dropped by the proxy, and the tunnel's clean end.

#include "proxy/MasqueProxy.h"
#include "support/H2TestUtil.h"
#include "support/ProxyTestClient.h"
#include "support/ProxyTestTargets.h"
#include "wire/Capsule.h"

#include <QtCore/QElapsedTimer>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

QByteArray numbered(quint32 sequence, qsizetype size)
{
    QByteArray out(size, char('a' + sequence % 26));
    for (int i = 0; i < 4; ++i)
        out[i] = char((sequence >> (8 * i)) & 0xff);
    return out;
}

quint32 sequenceOf(QByteArrayView data)
{
    quint32 sequence = 0;
    for (int i = 0; i < 4; ++i)
        sequence |= quint32(quint8(data[i])) << (8 * i);
    return sequence;
}

void addTransportRows()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::newRow("h1") << TransportKind::H1;
    QTest::newRow("h2") << TransportKind::H2;
    QTest::newRow("h3") << TransportKind::H3;
}

double metric(MasqueProxy &proxy, const char *name, const MetricsRegistry::Labels &labels)
{
    return proxy.metrics().value(name, labels);
}

} // namespace

class TstProxyUdp : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<ProxyTestServer> m_server;
    std::unique_ptr<UdpEchoTarget> m_echo;
    std::unique_ptr<UdpEchoTarget> m_echo6;

    Transport *connectClient(TransportKind kind)
    {
        Error error;
        Transport *transport = connectTransport(kind, m_server->clientOptions(), this, &error);
        if (!transport)
            qWarning() << "connect failed:" << error.toString();
        return transport;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_server = std::make_unique<ProxyTestServer>();
        QVERIFY2(m_server->start(), qPrintable(m_server->error));
        m_echo = std::make_unique<UdpEchoTarget>();
        QVERIFY(m_echo->start());
        m_echo6 = std::make_unique<UdpEchoTarget>();
        QVERIFY(m_echo6->start(QHostAddress::LocalHostIPv6));
    }

    void cleanupTestCase() { m_server.reset(); }

    void roundTrips_data() { addTransportRows(); }
    void roundTrips()
    {
        QFETCH(TransportKind, kind);
        Transport *transport = connectClient(kind);
        QVERIFY(transport);
        ProxyTestStream stream(transport, true);
        stream.keepDatagrams = false;
        QVERIFY(stream
                    .open(udpRequest(m_server->authority(), QStringLiteral("127.0.0.1"),
                                     m_echo->port()))
                    .ok());
        QVERIFY(stream.waitForResponse());
        QCOMPARE(stream.response->status, kind == TransportKind::H1 ? 101 : 200);
        QCOMPARE(stream.header("capsule-protocol"), QByteArray("?1"));

        // 10 000 numbered datagrams, at most kWindow unanswered at a time; every echo must be
        // what was sent for its number.
        constexpr quint32 kTotal = 10000;
        constexpr quint32 kWindow = 64;
        constexpr qsizetype kSize = 200;
        quint32 sent = 0;
        quint32 received = 0;
        bool intact = true;
        stream.onDatagramHook = [&](QByteArrayView payload) {
            ++received;
            if (payload.size() != kSize || payload != numbered(sequenceOf(payload), kSize))
                intact = false;
        };
        QElapsedTimer clock;
        clock.start();
        qint64 lastProgress = 0;
        quint32 lastReceived = 0;
        while (received < kTotal && clock.elapsed() - lastProgress < 2000) {
            // A lost datagram leaves the window short: `sent - received` only bounds what is
            // in flight, so the window slides with every answer or every 2 s without one.
            while (sent < kTotal && sent - received < kWindow) {
                if (stream.sendDatagram(numbered(sent, kSize)).ok())
                    ++sent;
                else
                    break;
            }
            waitUntil([&] { return received != lastReceived || sent == kTotal; }, 200);
            if (received != lastReceived) {
                lastReceived = received;
                lastProgress = clock.elapsed();
            }
            if (sent == kTotal && received < kTotal)
                waitUntil([&] { return received == kTotal; }, 200);
        }
        const quint32 lost = sent - received;
        qInfo("%s: %u datagrams sent, %u echoed, %u lost (%.2f%%) in %lld ms",
              transportKindName(kind), sent, received, lost, 100.0 * lost / kTotal,
              clock.elapsed());
        QVERIFY(intact);
        QCOMPARE(sent, kTotal);
        if (kind == TransportKind::H3)
            QVERIFY2(received >= kTotal * 95 / 100, "more than 5% lost on loopback");
        else
            QCOMPARE(received, kTotal); // DATAGRAM capsules are reliable

        // RFC 9298, 3: FIN ends the tunnel; the proxy answers with its own (h1 cannot
        // half-close: the client's end closes the connection).
        QVERIFY(transport->endStream(stream.id).ok());
        if (kind != TransportKind::H1) {
            QVERIFY(waitUntil([&] { return stream.fin || stream.reset; }, 10000));
            QVERIFY(!stream.reset);
        }
        QVERIFY(waitUntil([&] { return m_server->proxy().stats().tunnelsActive == 0; }));
        delete transport;
    }

    void maximumPayloadOverCapsules_data()
    {
        QTest::addColumn<TransportKind>("kind");
        QTest::newRow("h1") << TransportKind::H1;
        QTest::newRow("h2") << TransportKind::H2;
    }
    void maximumPayloadOverCapsules()
    {
        QFETCH(TransportKind, kind);
        Transport *transport = connectClient(kind);
        QVERIFY(transport);
        ProxyTestStream stream(transport, true);
        // IPv6: a UDP payload of 65527 bytes fits only there (RFC 9298, 5).
        QVERIFY(
            stream.open(udpRequest(m_server->authority(), QStringLiteral("::1"), m_echo6->port()))
                .ok());
        QVERIFY(stream.waitForResponse());
        QVERIFY(stream.isSuccess());
        const double dropsBefore =
            metric(m_server->proxy(), "qmasque_proxy_datagrams_dropped", {"udp", "too_large"});

        const QByteArray largest = numbered(1, 65527);
        QVERIFY(stream.sendDatagram(largest).ok());
        QVERIFY(waitUntil([&] { return !stream.datagrams.isEmpty(); }));
        QCOMPARE(stream.datagrams.first(), largest);
        QCOMPARE(m_echo6->largest(), qint64(65527));

        // One byte more: the client's channel refuses it, and the proxy drops a hand-built
        // capsule carrying it (counted), while the tunnel goes on.
        QCOMPARE(stream.sendDatagram(numbered(2, 65528)).error().code, ErrorCode::PayloadTooLarge);
        QByteArray capsule;
        QByteArray value = QByteArray(1, '\0') + numbered(3, 65528);
        QVERIFY(wire::appendCapsule(capsule, 0, value));
        QCOMPARE(*transport->sendStreamData(stream.id, capsule), qint64(capsule.size()));
        QVERIFY(stream.sendDatagram(numbered(4, 100)).ok());
        QVERIFY(waitUntil([&] { return stream.datagrams.size() == 2; }));
        QCOMPARE(sequenceOf(stream.datagrams.last()), quint32(4));
        QCOMPARE(m_echo6->largest(), qint64(65527));

        QVERIFY(transport->endStream(stream.id).ok());
        QVERIFY(waitUntil([&] { return m_server->proxy().stats().tunnelsActive == 0; }));
        QCOMPARE(metric(m_server->proxy(), "qmasque_proxy_datagrams_dropped", {"udp", "too_large"}),
                 dropsBefore + 1);
        delete transport;
    }

    void aboveThePathLimitOverH3()
    {
        Transport *transport = connectClient(TransportKind::H3);
        QVERIFY(transport);
        ProxyTestStream stream(transport, true);
        QVERIFY(stream
                    .open(udpRequest(m_server->authority(), QStringLiteral("127.0.0.1"),
                                     m_echo->port()))
                    .ok());
        QVERIFY(stream.waitForResponse());
        QVERIFY(stream.isSuccess());
        const qint64 pathLimit = stream.channel().maxDatagramPayload();
        QVERIFY(pathLimit > 1000 && pathLimit < 65527);

        // The client transport refuses what the path cannot carry.
        const Status tooLarge = stream.sendDatagram(numbered(1, pathLimit + 1));
        QCOMPARE(tooLarge.error().code, ErrorCode::DatagramTooLarge);

        // The target answers with more than the client's path carries: the proxy drops it and
        // counts it; the next answer arrives.
        m_echo->reply = [](QByteArrayView request) {
            return request.startsWith("BIG") ? QByteArray(4000, 'x') : request.toByteArray();
        };
        const double dropsBefore =
            metric(m_server->proxy(), "qmasque_proxy_datagrams_dropped", {"udp", "too_large"});
        QVERIFY(stream.sendDatagram("BIG").ok());
        QVERIFY(stream.sendDatagram("small").ok());
        QVERIFY(waitUntil([&] { return !stream.datagrams.isEmpty(); }));
        m_echo->reply = nullptr;
        QCOMPARE(stream.datagrams.first(), QByteArray("small"));
        QCOMPARE(stream.datagrams.size(), 1);

        QVERIFY(transport->endStream(stream.id).ok());
        QVERIFY(waitUntil([&] { return m_server->proxy().stats().tunnelsActive == 0; }));
        QCOMPARE(metric(m_server->proxy(), "qmasque_proxy_datagrams_dropped", {"udp", "too_large"}),
                 dropsBefore + 1);
        delete transport;
    }
};

QTEST_MAIN(TstProxyUdp)
#include "tst_proxy_udp.moc"
