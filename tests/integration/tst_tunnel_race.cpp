// The transport race against real listeners: UDP dropped on the way (h3 gets no answer at all)
// -> h2 wins at its head start, h1 never starts, and the next tunnel starts with h2; UDP port
// closed (ICMP) -> h2 still wins; every transport answering -> h3 wins inside its head start.

#include "pool/UpstreamPool.h"
#include "support/E2eBench.h"
#include "support/TestPki.h"
#include "support/TunnelTestProxy.h"
#include "tunnel/TunnelClient.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

constexpr int kH2HeadStartMs = 250;

struct Race
{
    std::unique_ptr<UpstreamPool> pool;
    std::unique_ptr<TunnelClient> client;

    explicit Race(const TunnelTestProxy &proxy, int h2HeadStartMs = kH2HeadStartMs)
    {
        PoolOptions options;
        options.factory = defaultTransportFactory();
        pool = std::make_unique<UpstreamPool>(options);
        client = std::make_unique<TunnelClient>(pool.get(), defaultTransportFactory());
        Profile profile = proxy.profile({TransportKind::H3, TransportKind::H2, TransportKind::H1});
        profile.h2HeadStartMs = h2HeadStartMs;
        profile.h1HeadStartMs = 2000; // h1 stays out of it unless h2 fails
        profile.connectTimeoutMs = 5000;
        if (!client->configure(profile))
            qFatal("configure failed");
    }

    // open: one TCP tunnel; its transport (or nothing) and the race record.
    std::optional<TransportKind> open(QObject *context, RaceRecord *record)
    {
        QSignalSpy raced(client.get(), &TunnelClient::raceFinished);
        std::optional<TransportKind> winner;
        bool done = false;
        client->openTcp(QStringLiteral("web.example"), 443, context,
                        [&](const Result<TcpTunnel *> &result) {
                            done = true;
                            if (result)
                                winner = (*result)->transport();
                            else
                                qWarning("race failed: %s", qPrintable(result.error().toString()));
                        });
        if (!QTest::qWaitFor([&] { return done; }, 10000))
            return std::nullopt;
        if (!raced.isEmpty())
            *record = raced.first().first().value<RaceRecord>();
        return winner;
    }
};

} // namespace

class tst_TunnelRace : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void udpBlockedH2Wins();
    void udpClosedH2Wins();
    void allAnswerH3Wins();
};

void tst_TunnelRace::initTestCase()
{
    registerEngineMetaTypes();
    QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
}

void tst_TunnelRace::udpBlockedH2Wins()
{
    TunnelTestProxy proxy;
    QVERIFY2(proxy.start(TunnelTestProxy::UdpMode::Blocked), qPrintable(proxy.error));
    Race race(proxy);

    RaceRecord record;
    QCOMPARE(race.open(this, &record), std::optional(TransportKind::H2));
    qInfo("first race: %s", qPrintable(describeRace(record)));
    QCOMPARE(record.attempts.size(), 2); // h1 never started
    QCOMPARE(record.attempts.at(0).transport, TransportKind::H3);
    QCOMPARE(record.attempts.at(0).result, QStringLiteral("cancelled"));
    QCOMPARE(record.attempts.at(1).transport, TransportKind::H2);
    QVERIFY(record.attempts.at(1).startOffsetMs >= kH2HeadStartMs - 5);
    QVERIFY(race.client->raceMemory().isDemoted(race.client->proxyKey()));

    // Remembered: the next tunnel starts with h2 at once.
    QCOMPARE(race.open(this, &record), std::optional(TransportKind::H2));
    qInfo("second race: %s", qPrintable(describeRace(record)));
    QCOMPARE(record.attempts.first().transport, TransportKind::H2);
    QCOMPARE(record.attempts.first().startOffsetMs, qint64(0));
    QCOMPARE(record.attempts.size(), 1);
}

void tst_TunnelRace::udpClosedH2Wins()
{
    TunnelTestProxy proxy;
    QVERIFY2(proxy.start(TunnelTestProxy::UdpMode::Closed), qPrintable(proxy.error));
    Race race(proxy);
    RaceRecord record;
    QCOMPARE(race.open(this, &record), std::optional(TransportKind::H2));
    // Whether h3 saw the ICMP port unreachable (immediate fallback) or nothing (head start),
    // h2 opened the tunnel and h1 was never needed.
    qInfo("race: %s", qPrintable(describeRace(record)));
    QCOMPARE(record.attempts.size(), 2);
    QVERIFY(race.client->raceMemory().isDemoted(race.client->proxyKey()));
}

void tst_TunnelRace::allAnswerH3Wins()
{
    TunnelTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.error));
    Race race(proxy, 2000); // a QUIC handshake on a busy machine may take a while
    RaceRecord record;
    QCOMPARE(race.open(this, &record), std::optional(TransportKind::H3));
    qInfo("race: %s", qPrintable(describeRace(record)));
    QCOMPARE(record.attempts.size(), 1);
    QVERIFY(!race.client->raceMemory().isDemoted(race.client->proxyKey()));
}

QTEST_GUILESS_MAIN(tst_TunnelRace)
#include "tst_tunnel_race.moc"
