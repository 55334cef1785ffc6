// The transport racer through TunnelClient on MockTransport (erlang-masque.md 8,
// masque_racer_tests, with the pitfalls of its section 9 fixed): head starts, fallbacks, the
// most informative error, the deadline, no leftovers or stray callbacks, events right after the
// 2xx, and a caller that goes away.

#include "pool/UpstreamOwner.h"
#include "support/TunnelTestBench.h"
#include "tunnel/TunnelClient.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>
#include <optional>

using namespace qmasque;
using namespace qmasque::test;

namespace {

constexpr int kHeadStartMs = 100;
constexpr int kDeadlineMs = 1500;

// Rig: a TunnelClient on the bench, times short but far apart from each other.
struct Rig
{
    TunnelTestBench bench;
    std::unique_ptr<TunnelClient> client;
    QList<TransportKind> created; // transports dialed, in order

    explicit Rig(QList<TransportKind> transports = {TransportKind::H3, TransportKind::H2,
                                                    TransportKind::H1},
                 int headStartMs = kHeadStartMs, int deadlineMs = kDeadlineMs)
    {
        client = std::make_unique<TunnelClient>(bench.pool.get(), bench.network.factory());
        Profile profile = bench.profile;
        profile.transports = transports;
        profile.h2HeadStartMs = headStartMs;
        profile.h1HeadStartMs = headStartMs;
        profile.connectTimeoutMs = deadlineMs;
        const Status configured = client->configure(profile);
        if (!configured)
            qFatal("configure: %s", qPrintable(configured.error().toString()));
        QObject::connect(&bench.network, &MockNetwork::transportCreated,
                         [this](MockTransport *transport) { created.append(transport->kind()); });
    }

    void answer(TransportKind kind, TunnelMockProxy::Answer answer)
    {
        bench.proxy.setAnswer(kind, answer);
    }
    void silent(TransportKind kind) { answer(kind, TunnelMockProxy::Answer{false, 0, 0, {}}); }
    void refuse(TransportKind kind, int status, QByteArray proxyStatus = {})
    {
        TunnelMockProxy::Answer a;
        a.status = status;
        a.headers =
            proxyStatus.isEmpty() ? HeaderList{} : HeaderList{{"proxy-status", proxyStatus}};
        answer(kind, a);
    }
    void dial(TransportKind kind, MockConnect connect)
    {
        bench.network.setDefaultConnect(kind, std::move(connect));
    }
};

// Outcome: what the open callback got.
struct Outcome
{
    int calls = 0;
    QPointer<UdpTunnel> tunnel;
    std::optional<Error> error;
};

quint64 openUdp(Rig &rig, QObject *context, Outcome &outcome)
{
    return rig.client->openUdp(QStringLiteral("dns.example"), 53, context,
                               [&outcome](const Result<UdpTunnel *> &result) {
                                   ++outcome.calls;
                                   if (result)
                                       outcome.tunnel = *result;
                                   else
                                       outcome.error = result.error();
                               });
}

RaceRecord lastRace(QSignalSpy &spy)
{
    return spy.last().first().value<RaceRecord>();
}

QStringList results(const RaceRecord &record)
{
    QStringList list;
    for (const RaceAttempt &attempt : record.attempts)
        list << QLatin1StringView(transportKindName(attempt.transport)) + u'=' + attempt.result;
    return list;
}

// nothingLeft: no pending checkout, no stream in use, no race, no h1 connection.
bool nothingLeft(Rig &rig, bool allowWinner = false)
{
    if (rig.bench.pool->pendingCount() != 0 || rig.client->pendingOpens() != 0)
        return false;
    qint64 streams = 0;
    for (UpstreamOwner *owner : rig.bench.pool->owners())
        streams += owner->streamsInUse();
    qint64 h1 = 0;
    for (MockTransport *transport : rig.bench.network.transports())
        h1 += transport->kind() == TransportKind::H1 ? 1 : 0;
    return allowWinner ? streams <= 1 && h1 <= 1 : streams == 0 && h1 == 0;
}

} // namespace

class tst_Racer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { registerEngineMetaTypes(); }
    void primaryWinsInsideHeadStart();
    void h2AfterH3FailsAtOnce();
    void h1AfterBothFail();
    void threeWayFastest();
    void h1NotStartedWhenH2Wins();
    void allFailMostInformative();
    void raceTimeout();
    void noStrayCallbacksAfterWin();
    void noStrayCallbacksAfterFailure();
    void eventRightAfter2xxReachesOwner();
    void ipStateRightAfter2xx();
    void callerDestroyedLeavesNothing();
    void cancelLeavesNothing();
    void onlyProfileTransports();
    void udpBlockedH2WinsInHeadStart();
    void rememberedWinner();
    void errorRanking();
};

void tst_Racer::primaryWinsInsideHeadStart()
{
    Rig rig(QList<TransportKind>{TransportKind::H3, TransportKind::H2, TransportKind::H1}, 1000);
    QSignalSpy raced(rig.client.get(), &TunnelClient::raceFinished);
    Outcome outcome;
    openUdp(rig, this, outcome);
    QTRY_COMPARE(outcome.calls, 1);
    QVERIFY(outcome.tunnel);
    QCOMPARE(outcome.tunnel->transport(), TransportKind::H3);
    QCOMPARE(rig.created, QList<TransportKind>({TransportKind::H3}));
    QCOMPARE(raced.count(), 1);
    const RaceRecord record = lastRace(raced);
    QCOMPARE(results(record), QStringList({u"h3=won"_qs}));
    QCOMPARE(record.winner, std::optional(TransportKind::H3));
    QCOMPARE(record.target, u"dns.example:53"_qs);
    QCOMPARE(record.proxy, u"https://proxy.example:443"_qs);
    QVERIFY(record.attempts.first().durationMs < 1000);
}

void tst_Racer::h2AfterH3FailsAtOnce()
{
    Rig rig({TransportKind::H3, TransportKind::H2}, 1000);
    rig.dial(TransportKind::H3, MockConnect::fail(Error(ErrorCode::ConnectionRefused)));
    QSignalSpy raced(rig.client.get(), &TunnelClient::raceFinished);
    Outcome outcome;
    openUdp(rig, this, outcome);
    QTRY_COMPARE(outcome.calls, 1);
    QVERIFY(outcome.tunnel);
    QCOMPARE(outcome.tunnel->transport(), TransportKind::H2);
    const RaceRecord record = lastRace(raced);
    QCOMPARE(results(record), QStringList({u"h3=connection_refused"_qs, u"h2=won"_qs}));
    // Every started attempt failed: h2 did not wait for its 1000 ms head start.
    QVERIFY2(record.attempts.at(1).startOffsetMs < 500,
             qPrintable(QString::number(record.attempts.at(1).startOffsetMs)));
}

void tst_Racer::h1AfterBothFail()
{
    Rig rig;
    rig.dial(TransportKind::H3, MockConnect::fail(Error(ErrorCode::QuicHandshakeFailed)));
    rig.refuse(TransportKind::H2, 502);
    QSignalSpy raced(rig.client.get(), &TunnelClient::raceFinished);
    Outcome outcome;
    openUdp(rig, this, outcome);
    QTRY_COMPARE(outcome.calls, 1);
    QVERIFY(outcome.tunnel);
    QCOMPARE(outcome.tunnel->transport(), TransportKind::H1);
    QCOMPARE(results(lastRace(raced)), QStringList({u"h3=quic_handshake_failed"_qs,
                                                    u"h2=handshake_rejected"_qs, u"h1=won"_qs}));
    QTRY_VERIFY(nothingLeft(rig, true));
}

void tst_Racer::threeWayFastest()
{
    Rig rig(QList<TransportKind>{TransportKind::H3, TransportKind::H2, TransportKind::H1}, 50);
    rig.answer(TransportKind::H3, TunnelMockProxy::Answer{true, 1000, 0, {}});
    rig.answer(TransportKind::H2, TunnelMockProxy::Answer{true, 900, 0, {}});
    rig.answer(TransportKind::H1, TunnelMockProxy::Answer{true, 0, 0, {}});
    QSignalSpy raced(rig.client.get(), &TunnelClient::raceFinished);
    Outcome outcome;
    openUdp(rig, this, outcome);
    QTRY_COMPARE(outcome.calls, 1);
    QVERIFY(outcome.tunnel);
    QCOMPARE(outcome.tunnel->transport(), TransportKind::H1);
    QCOMPARE(results(lastRace(raced)),
             QStringList({u"h3=cancelled"_qs, u"h2=cancelled"_qs, u"h1=won"_qs}));
    // The losers' streams were reset and released at once.
    MockTransport *h3 = rig.bench.proxy.last(TransportKind::H3);
    MockTransport *h2 = rig.bench.proxy.last(TransportKind::H2);
    QVERIFY(h3->called("resetStream", rig.bench.proxy.lastRequest(TransportKind::H3)->id));
    QVERIFY(h2->called("resetStream", rig.bench.proxy.lastRequest(TransportKind::H2)->id));
    QTRY_VERIFY(nothingLeft(rig, true));
}

void tst_Racer::h1NotStartedWhenH2Wins()
{
    Rig rig(QList<TransportKind>{TransportKind::H3, TransportKind::H2, TransportKind::H1}, 50);
    rig.silent(TransportKind::H3);
    Outcome outcome;
    QSignalSpy raced(rig.client.get(), &TunnelClient::raceFinished);
    openUdp(rig, this, outcome);
    QTRY_COMPARE(outcome.calls, 1);
    QCOMPARE(outcome.tunnel->transport(), TransportKind::H2);
    QVERIFY(!rig.created.contains(TransportKind::H1));
    QCOMPARE(results(lastRace(raced)), QStringList({u"h3=cancelled"_qs, u"h2=won"_qs}));
    // No head-start timer is left to start h1 later.
    QSignalSpy created(&rig.bench.network, &MockNetwork::transportCreated);
    QVERIFY(!created.wait(200));
}

void tst_Racer::allFailMostInformative()
{
    Rig rig;
    rig.dial(TransportKind::H3, MockConnect::fail(Error(ErrorCode::ConnectTimeout)));
    rig.refuse(TransportKind::H2, 403, "qmasque; error=destination_ip_prohibited");
    rig.dial(TransportKind::H1, MockConnect::fail(Error(ErrorCode::TlsUntrustedCertificate), 20));
    QSignalSpy failed(rig.client.get(), &TunnelClient::tunnelFailed);
    QSignalSpy closed(rig.client.get(), &TunnelClient::tunnelClosed);
    QSignalSpy raced(rig.client.get(), &TunnelClient::raceFinished);
    Outcome outcome;
    openUdp(rig, this, outcome);
    QTRY_COMPARE(outcome.calls, 1);
    QVERIFY(outcome.error);
    // The refusal, not the last failure (the TLS error) and not the timeout.
    QCOMPARE(outcome.error->code, ErrorCode::HandshakeRejected);
    QCOMPARE(outcome.error->httpStatus, 403);
    QCOMPARE(outcome.error->proxyErrorType, u"destination_ip_prohibited"_qs);
    QCOMPARE(failed.count(), 1);
    QCOMPARE(closed.count(), 1);
    const TunnelRecord record = closed.first().first().value<TunnelRecord>();
    QCOMPARE(record.transport, TransportKind::H2);
    QCOMPARE(record.closeReason, u"handshake_rejected"_qs);
    QCOMPARE(record.responseStatus, 403);
    QCOMPARE(results(lastRace(raced)),
             QStringList({u"h3=connect_timeout"_qs, u"h2=handshake_rejected"_qs,
                          u"h1=tls_untrusted_certificate"_qs}));
    QVERIFY(!lastRace(raced).winner);
    QVERIFY(lastRace(raced).error.contains(u"403"_qs));
    QTRY_VERIFY(nothingLeft(rig));
}

void tst_Racer::raceTimeout()
{
    Rig rig(QList<TransportKind>{TransportKind::H3, TransportKind::H2, TransportKind::H1}, 20, 300);
    rig.bench.network.setDefaultConnect(MockConnect::never());
    QSignalSpy raced(rig.client.get(), &TunnelClient::raceFinished);
    Outcome outcome;
    openUdp(rig, this, outcome);
    QTRY_COMPARE_WITH_TIMEOUT(outcome.calls, 1, 3000);
    QCOMPARE(outcome.error->code, ErrorCode::RaceTimeout);
    QCOMPARE(results(lastRace(raced)),
             QStringList({u"h3=timeout"_qs, u"h2=timeout"_qs, u"h1=timeout"_qs}));
    QTRY_VERIFY(nothingLeft(rig));
}

void tst_Racer::noStrayCallbacksAfterWin()
{
    Rig rig(QList<TransportKind>{TransportKind::H3, TransportKind::H2, TransportKind::H1}, 10);
    rig.answer(TransportKind::H3, TunnelMockProxy::Answer{true, 150, 0, {}});
    rig.answer(TransportKind::H2, TunnelMockProxy::Answer{true, 100, 0, {}});
    rig.answer(TransportKind::H1, TunnelMockProxy::Answer{true, 0, 0, {}});
    QSignalSpy opened(rig.client.get(), &TunnelClient::tunnelOpened);
    QSignalSpy failed(rig.client.get(), &TunnelClient::tunnelFailed);
    QSignalSpy raced(rig.client.get(), &TunnelClient::raceFinished);
    Outcome outcome;
    openUdp(rig, this, outcome);
    QTRY_COMPARE(outcome.calls, 1);
    // The losers' answers were scheduled for later: they reach nobody.
    QSignalSpy answered(&rig.bench.proxy, &TunnelMockProxy::answered);
    QTRY_COMPARE_WITH_TIMEOUT(answered.count(), 2, 2000);
    QCOMPARE(outcome.calls, 1);
    QCOMPARE(opened.count(), 1);
    QCOMPARE(failed.count(), 0);
    QCOMPARE(raced.count(), 1);
    QVERIFY(outcome.tunnel->isOpen());
}

void tst_Racer::noStrayCallbacksAfterFailure()
{
    Rig rig(QList<TransportKind>{TransportKind::H3, TransportKind::H2}, 10);
    rig.refuse(TransportKind::H3, 403);
    rig.refuse(TransportKind::H2, 404);
    QSignalSpy failed(rig.client.get(), &TunnelClient::tunnelFailed);
    QSignalSpy raced(rig.client.get(), &TunnelClient::raceFinished);
    Outcome outcome;
    openUdp(rig, this, outcome);
    QTRY_COMPARE(outcome.calls, 1);
    QCOMPARE(outcome.error->httpStatus, 403); // equal rank: the preferred transport's
    QVERIFY(!failed.wait(200));
    QCOMPARE(outcome.calls, 1);
    QCOMPARE(raced.count(), 1);
}

void tst_Racer::eventRightAfter2xxReachesOwner()
{
    Rig rig({TransportKind::H3, TransportKind::H2});
    // The proxy's first datagram follows its 2xx at once, before the race reports the winner.
    connect(&rig.bench.proxy, &TunnelMockProxy::answered, this,
            [&](TransportKind kind, StreamId id) {
                rig.bench.proxy.last(kind)->simulateDatagram(
                    id, TunnelTestBench::httpDatagram("first"));
            });
    QByteArrayList received;
    rig.client->openUdp(QStringLiteral("dns.example"), 53, this,
                        [&](const Result<UdpTunnel *> &result) {
                            QVERIFY(result);
                            (*result)->setReceiver([&](QByteArrayView payload) {
                                received.append(payload.toByteArray());
                            });
                        });
    QTRY_COMPARE(received, QByteArrayList({"first"}));
}

void tst_Racer::ipStateRightAfter2xx()
{
    Rig rig({TransportKind::H2});
    const QList<wire::AssignedAddress> assignment = {
        {0, *wire::IpPrefix::fromString(u"192.0.2.9/32")}};
    connect(&rig.bench.proxy, &TunnelMockProxy::answered, this,
            [&](TransportKind kind, StreamId id) {
                rig.bench.proxy.last(kind)->simulateData(
                    id, TunnelTestBench::capsule(0x01, *wire::encodeAddressAssign(assignment)));
            });
    QList<wire::AssignedAddress> seen;
    rig.client->openIp(wire::IpScope{}, this, [&](const Result<IpTunnel *> &result) {
        QVERIFY(result);
        seen = (*result)->assignedAddresses();
    });
    QTRY_COMPARE(seen, assignment);
}

void tst_Racer::callerDestroyedLeavesNothing()
{
    Rig rig(QList<TransportKind>{TransportKind::H3, TransportKind::H2, TransportKind::H1}, 10);
    rig.silent(TransportKind::H3);
    rig.silent(TransportKind::H2);
    rig.silent(TransportKind::H1);
    auto context = std::make_unique<QObject>();
    Outcome outcome;
    QSignalSpy raced(rig.client.get(), &TunnelClient::raceFinished);
    openUdp(rig, context.get(), outcome);
    QTRY_COMPARE(rig.bench.proxy.requests().size(), 3);
    context.reset();
    QCOMPARE(rig.client->pendingOpens(), 0);
    QTRY_VERIFY(nothingLeft(rig));
    QCOMPARE(raced.count(), 1);
    QCOMPARE(results(lastRace(raced)),
             QStringList({u"h3=cancelled"_qs, u"h2=cancelled"_qs, u"h1=cancelled"_qs}));
    QVERIFY(!raced.wait(300)); // the deadline passes: still nothing
    QCOMPARE(outcome.calls, 0);

    // After the open: the tunnel closes with its user.
    Rig second({TransportKind::H2});
    auto user = std::make_unique<QObject>();
    Outcome done;
    QSignalSpy closed(second.client.get(), &TunnelClient::tunnelClosed);
    openUdp(second, user.get(), done);
    QTRY_VERIFY(done.tunnel);
    user.reset();
    QVERIFY(closed.wait(1000));
    QCOMPARE(closed.first().first().value<TunnelRecord>().closeReason, u"local_close"_qs);
    QTRY_VERIFY(!done.tunnel); // deleted by the client
}

void tst_Racer::cancelLeavesNothing()
{
    Rig rig;
    rig.silent(TransportKind::H3);
    Outcome outcome;
    const quint64 id = openUdp(rig, this, outcome);
    QTRY_COMPARE(rig.bench.proxy.requests().size(), 1);
    rig.client->cancel(id);
    QTRY_VERIFY(nothingLeft(rig));
    QVERIFY(!rig.bench.proxy.last(TransportKind::H3)
                 ->handlerOf(rig.bench.proxy.lastRequest(TransportKind::H3)->id));
    QCOMPARE(outcome.calls, 0);
}

void tst_Racer::onlyProfileTransports()
{
    Rig rig({TransportKind::H2, TransportKind::H1});
    rig.refuse(TransportKind::H2, 500);
    Outcome outcome;
    openUdp(rig, this, outcome);
    QTRY_COMPARE(outcome.calls, 1);
    QCOMPARE(outcome.tunnel->transport(), TransportKind::H1);
    QCOMPARE(rig.created, QList<TransportKind>({TransportKind::H2, TransportKind::H1}));
}

void tst_Racer::udpBlockedH2WinsInHeadStart()
{
    // UDP blocked: the h3 dial gets no answer at all.
    Rig rig({TransportKind::H3, TransportKind::H2, TransportKind::H1}, 200);
    rig.dial(TransportKind::H3, MockConnect::never());
    QSignalSpy raced(rig.client.get(), &TunnelClient::raceFinished);
    Outcome outcome;
    openUdp(rig, this, outcome);
    QTRY_COMPARE(outcome.calls, 1);
    QCOMPARE(outcome.tunnel->transport(), TransportKind::H2);
    const RaceRecord record = lastRace(raced);
    QCOMPARE(results(record), QStringList({u"h3=cancelled"_qs, u"h2=won"_qs}));
    // h2 started at its head start and won before h1's came.
    QVERIFY(record.attempts.at(1).startOffsetMs >= 190);
    QVERIFY(!rig.created.contains(TransportKind::H1));
    QVERIFY(rig.client->raceMemory().isDemoted(rig.client->proxyKey()));
}

void tst_Racer::rememberedWinner()
{
    Rig rig({TransportKind::H3, TransportKind::H2}, 200, 600);
    qint64 now = 1'000'000;
    rig.client->raceMemory().setClock([&now] { return now; });
    rig.dial(TransportKind::H3, MockConnect::never());
    QSignalSpy raced(rig.client.get(), &TunnelClient::raceFinished);

    Outcome first;
    openUdp(rig, this, first);
    QTRY_COMPARE(first.calls, 1);
    QCOMPARE(first.tunnel->transport(), TransportKind::H2);
    QVERIFY(rig.client->raceMemory().isDemoted(rig.client->proxyKey()));

    // The next tunnel starts with h2 at 0 ms; h3 waits last.
    Outcome second;
    openUdp(rig, this, second);
    QTRY_COMPARE(second.calls, 1);
    QCOMPARE(second.tunnel->transport(), TransportKind::H2);
    QCOMPARE(lastRace(raced).attempts.first().transport, TransportKind::H2);
    QVERIFY(lastRace(raced).attempts.first().durationMs < 150);

    // UDP works again; once the probe interval passed, a race probes h3 in the background and
    // the success restores the profile's order. (The first race's h3 dial is given up first.)
    QTRY_COMPARE_WITH_TIMEOUT(rig.bench.pool->dialsInFlight(), qint64(0), 3000);
    rig.dial(TransportKind::H3, MockConnect::succeed());
    now += rig.client->raceMemory().options().probeIntervalMs;
    Outcome third;
    openUdp(rig, this, third);
    QTRY_COMPARE(third.calls, 1);
    QTRY_VERIFY(!rig.client->raceMemory().isDemoted(rig.client->proxyKey()));
    Outcome fourth;
    openUdp(rig, this, fourth);
    QTRY_COMPARE(fourth.calls, 1);
    QCOMPARE(fourth.tunnel->transport(), TransportKind::H3);

    // A demotion lapses by itself after rememberMs.
    rig.client->raceMemory().recordRace(rig.client->proxyKey(),
                                        {{TransportKind::H3, true, false, true, false, {}},
                                         {TransportKind::H2, true, true, false, true, {}}});
    QVERIFY(rig.client->raceMemory().isDemoted(rig.client->proxyKey()));
    now += rig.client->raceMemory().options().rememberMs;
    QVERIFY(!rig.client->raceMemory().isDemoted(rig.client->proxyKey()));
}

void tst_Racer::errorRanking()
{
    Error refused(ErrorCode::HandshakeRejected);
    QVERIFY(errorRank(refused) > errorRank(Error(ErrorCode::TlsUntrustedCertificate)));
    QVERIFY(errorRank(Error(ErrorCode::TlsPinMismatch)) >
            errorRank(Error(ErrorCode::ConnectionRefused)));
    QVERIFY(errorRank(Error(ErrorCode::ConnectionRefused)) >
            errorRank(Error(ErrorCode::HandshakeTimeout)));
    QVERIFY(errorRank(Error(ErrorCode::ConnectTimeout)) > errorRank(Error(ErrorCode::Cancelled)));
    QVERIFY(looksLikeNoAnswer(Error(ErrorCode::ConnectTimeout)));
    QVERIFY(looksLikeNoAnswer(Error(ErrorCode::ConnectionRefused)));
    QVERIFY(!looksLikeNoAnswer(refused));
    QVERIFY(!looksLikeNoAnswer(Error(ErrorCode::TlsUntrustedCertificate)));

    // An HTTP refusal over h3 is an answer: it demotes nothing.
    RaceMemory memory;
    RaceAttemptOutcome h3{TransportKind::H3, true, false, false, true, refused};
    RaceAttemptOutcome h2{TransportKind::H2, true, true, false, true, {}};
    memory.recordRace(u"p:443"_qs, {h3, h2});
    QVERIFY(!memory.isDemoted(u"p:443"_qs));
    h3 = {TransportKind::H3, true, false, false, false, Error(ErrorCode::ConnectionRefused)};
    memory.recordRace(u"p:443"_qs, {h3, h2});
    QVERIFY(memory.isDemoted(u"p:443"_qs));
    QCOMPARE(memory.order(u"p:443"_qs, {TransportKind::H3, TransportKind::H2, TransportKind::H1}),
             QList<TransportKind>({TransportKind::H2, TransportKind::H1, TransportKind::H3}));
    QCOMPARE(memory.order(u"other:443"_qs, {TransportKind::H3, TransportKind::H2}),
             QList<TransportKind>({TransportKind::H3, TransportKind::H2}));
}

QTEST_GUILESS_MAIN(tst_Racer)
#include "tst_racer.moc"
