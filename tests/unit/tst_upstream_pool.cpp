// UpstreamPool on MockTransport: reuse by fingerprint, single-flight dials, dial failures and
// crashes, capacity and further dials, the single retry, timeouts, cancelled waiters, closeAll.

#include "pool/UpstreamPool.h"
#include "support/FakeSession.h"
#include "support/MockTransport.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>
#include <optional>
#include <vector>

using namespace qmasque;
using namespace qmasque::test;

namespace {

UpstreamEndpoint endpointFor(TransportKind kind = TransportKind::H3,
                             const QString &host = QStringLiteral("proxy.example"),
                             quint16 port = 443)
{
    UpstreamEndpoint endpoint;
    endpoint.transport = kind;
    endpoint.connect.host = host;
    endpoint.connect.port = port;
    endpoint.connect.connectTimeoutMs = 10000;
    return endpoint;
}

Request udpRequest()
{
    Request request;
    request.protocol = "connect-udp";
    request.authority = "proxy.example:443";
    request.path = "/.well-known/masque/udp/example.com/53/";
    return request;
}

// errorName: for QVERIFY2 messages (evaluated also on success).
template<typename T>
const char *errorName(const Result<T> &result)
{
    return result ? "ok" : result.error().name();
}

// Opened: the outcome of one openStream(), with its session.
struct Opened
{
    std::unique_ptr<FakeSession> session = std::make_unique<FakeSession>();
    std::optional<Result<AcquiredStream>> result;
    int calls = 0;
};

struct CheckedOut
{
    std::optional<Result<UpstreamOwner *>> result;
    int calls = 0;
};

} // namespace

class tst_UpstreamPool : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void checkoutReusesOwner();
    void fingerprintSplitsOwners_data();
    void fingerprintSplitsOwners();
    void concurrentCheckoutsShareOneDial();
    void dialFailureReachesAllWaiters();
    void crashingDialDoesNotPoisonFingerprint_data();
    void crashingDialDoesNotPoisonFingerprint();
    void ownerKilledWhileDialing();
    void checkoutTimeout();
    void checkoutTimeoutCappedByDeadline();
    void fullOwnerTriggersSecondOwner();
    void waitersBeyondCapacityGetFurtherDials();
    void thousandConcurrentOpensShareTenConnections();
    void checkoutsAcquiringInCallbackFillOwnersInTurn();
    void perTunnelOptionsShareOwner();
    void liveSettingsChangeServesWaiters();
    void connectionLimitWaitsForFreeSlot();
    void destroyedWaiterGetsNothing();
    void cancelledTicketGetsNothing();
    void streamLimitRetriedOnAnotherOwner();
    void goawayRetriedOnAnotherOwner();
    void ownerGoneRetriedOnAnotherOwner();
    void secondFailureReachesCaller();
    void closingStreamsLimitWaitsForASlot();
    void ownerDeathEvicts();
    void slowDialDoesNotBlockOtherFingerprints();
    void closeAllEndsEverything();
    void closeCommands();
    void closeAllFromAnotherThreadIsQueued();
    void http1IsNotPooled();
    void noProxyHost();
    void snapshotListsOwnersAndDials();

private:
    void makePool(int maxStreams = 0, int maxConnections = 8, int checkoutTimeoutMs = 60000,
                  int idleMs = 30000);
    void open(Opened &opened, const UpstreamEndpoint &endpoint = endpointFor(),
              QDeadlineTimer deadline = QDeadlineTimer(QDeadlineTimer::Forever));
    PoolTicket checkout(CheckedOut &out, const UpstreamEndpoint &endpoint = endpointFor(),
                        QObject *context = nullptr,
                        QDeadlineTimer deadline = QDeadlineTimer(QDeadlineTimer::Forever));

    std::unique_ptr<MockNetwork> m_network;
    std::unique_ptr<UpstreamPool> m_pool;
};

void tst_UpstreamPool::init()
{
    m_network = std::make_unique<MockNetwork>();
    makePool();
}

void tst_UpstreamPool::cleanup()
{
    m_pool.reset();
    m_network.reset();
}

void tst_UpstreamPool::makePool(int maxStreams, int maxConnections, int checkoutTimeoutMs,
                                int idleMs)
{
    PoolOptions options;
    options.maxConnectionsPerFingerprint = maxConnections;
    options.checkoutTimeoutMs = checkoutTimeoutMs;
    options.owner.maxStreams = maxStreams;
    options.owner.idleTimeoutMs = idleMs;
    options.factory = m_network->factory();
    m_pool.reset();
    m_pool = std::make_unique<UpstreamPool>(std::move(options));
}

void tst_UpstreamPool::open(Opened &opened, const UpstreamEndpoint &endpoint,
                            QDeadlineTimer deadline)
{
    Opened *target = &opened;
    m_pool->openStream(
        endpoint, udpRequest(), opened.session.get(), opened.session.get(),
        [target](const Result<AcquiredStream> &result) {
            target->result = result;
            ++target->calls;
        },
        deadline);
}

PoolTicket tst_UpstreamPool::checkout(CheckedOut &out, const UpstreamEndpoint &endpoint,
                                      QObject *context, QDeadlineTimer deadline)
{
    CheckedOut *target = &out;
    return m_pool->checkout(
        endpoint, context,
        [target](const Result<UpstreamOwner *> &result) {
            target->result = result;
            ++target->calls;
        },
        deadline);
}

void tst_UpstreamPool::checkoutReusesOwner()
{
    CheckedOut first, second;
    checkout(first);
    QCOMPARE(first.calls, 0); // never answered from inside checkout()
    QTRY_COMPARE(first.calls, 1);
    QVERIFY(*first.result);
    checkout(second);
    QTRY_COMPARE(second.calls, 1);
    QCOMPARE(second.result->value(), first.result->value());
    QCOMPARE(m_network->factoryCalls(), 1);
}

void tst_UpstreamPool::fingerprintSplitsOwners_data()
{
    QTest::addColumn<int>("variant");
    QTest::addColumn<int>("owners");
    QTest::newRow("same") << 0 << 1;
    QTest::newRow("host case") << 1 << 1;
    QTest::newRow("alpn default made explicit") << 2 << 1;
    QTest::newRow("other port") << 3 << 2;
    QTest::newRow("other host") << 4 << 2;
    QTest::newRow("other transport") << 5 << 2;
    QTest::newRow("other trust") << 6 << 2;
}

void tst_UpstreamPool::fingerprintSplitsOwners()
{
    QFETCH(int, variant);
    QFETCH(int, owners);
    UpstreamEndpoint other = endpointFor();
    switch (variant) {
    case 1:
        other.connect.host = QStringLiteral("PROXY.Example");
        break;
    case 2:
        other.connect.alpn = {"h3"};
        break;
    case 3:
        other.connect.port = 8443;
        break;
    case 4:
        other.connect.host = QStringLiteral("other.example");
        break;
    case 5:
        other.transport = TransportKind::H2;
        break;
    case 6:
        other.connect.tls.insecure = true;
        break;
    default:
        break;
    }
    CheckedOut a, b;
    checkout(a);
    QTRY_COMPARE(a.calls, 1);
    checkout(b, other);
    QTRY_COMPARE(b.calls, 1);
    QVERIFY(*a.result && *b.result);
    QCOMPARE(m_pool->owners().size(), owners);
    QCOMPARE(a.result->value() == b.result->value(), owners == 1);
}

void tst_UpstreamPool::concurrentCheckoutsShareOneDial()
{
    m_network->setDefaultConnect(MockConnect::succeed(20));
    std::vector<int> order;
    std::vector<UpstreamOwner *> owners;
    for (int i = 0; i < 5; ++i) {
        m_pool->checkout(endpointFor(), nullptr,
                         [&order, &owners, i](const Result<UpstreamOwner *> &result) {
                             order.push_back(i);
                             owners.push_back(result ? result.value() : nullptr);
                         });
    }
    QTRY_COMPARE(order.size(), size_t(5));
    QCOMPARE(order, (std::vector<int>{0, 1, 2, 3, 4})); // in arrival order
    QCOMPARE(m_network->factoryCalls(), 1);
    for (UpstreamOwner *owner : owners)
        QCOMPARE(owner, owners.front());
    QVERIFY(owners.front());
}

void tst_UpstreamPool::dialFailureReachesAllWaiters()
{
    m_network->enqueueConnect(
        MockConnect::fail(Error(ErrorCode::ConnectionRefused, QStringLiteral("closed")), 10));
    QSignalSpy dialFailed(m_pool.get(), &UpstreamPool::dialFailed);
    std::vector<Opened> opens(4);
    for (Opened &opened : opens)
        open(opened);
    for (Opened &opened : opens) {
        QTRY_COMPARE(opened.calls, 1);
        QVERIFY(!*opened.result);
        QCOMPARE(opened.result->error().code, ErrorCode::ConnectionRefused);
    }
    QCOMPARE(m_network->factoryCalls(), 1);
    QCOMPARE(dialFailed.count(), 1);
    QCOMPARE(m_pool->snapshot().dials.size(), 0);
    Opened later; // the fingerprint dials again
    open(later);
    QTRY_COMPARE(later.calls, 1);
    QVERIFY(*later.result);
    QCOMPARE(m_network->factoryCalls(), 2);
}

void tst_UpstreamPool::crashingDialDoesNotPoisonFingerprint_data()
{
    QTest::addColumn<int>("script");
    using K = MockConnect::Kind;
    QTest::newRow("factory throws") << int(K::FactoryThrows);
    QTest::newRow("factory returns null") << int(K::FactoryReturnsNull);
    QTest::newRow("connect throws") << int(K::ConnectThrows);
    QTest::newRow("transport destroyed") << int(K::DestroySelf);
}

void tst_UpstreamPool::crashingDialDoesNotPoisonFingerprint()
{
    QFETCH(int, script);
    MockConnect crash;
    crash.kind = static_cast<MockConnect::Kind>(script);
    m_network->enqueueConnect(crash);
    Opened a, b;
    open(a);
    open(b);
    QTRY_COMPARE(b.calls, 1);
    QCOMPARE(a.calls, 1);
    QCOMPARE(a.result->error().code, ErrorCode::DialCrashed);
    QCOMPARE(b.result->error().code, ErrorCode::DialCrashed);
    QCOMPARE(m_pool->dialsInFlight(), 0);
    Opened c;
    open(c);
    QTRY_COMPARE(c.calls, 1);
    QVERIFY(*c.result);
}

void tst_UpstreamPool::ownerKilledWhileDialing()
{
    m_network->enqueueConnect(MockConnect::never());
    Opened a;
    open(a);
    QTRY_COMPARE(m_pool->dialsInFlight(), 1);
    const PoolSnapshot snapshot = m_pool->snapshot();
    QCOMPARE(snapshot.dials.size(), 1);
    UpstreamOwner *dialing = m_pool->owner(snapshot.dials.at(0).ownerId);
    QVERIFY(dialing);
    delete dialing;
    QTRY_COMPARE(a.calls, 1);
    QCOMPARE(a.result->error().code, ErrorCode::DialFailed);
    QCOMPARE(m_pool->dialsInFlight(), 0);
    Opened b;
    open(b);
    QTRY_COMPARE(b.calls, 1);
    QVERIFY(*b.result);
}

void tst_UpstreamPool::checkoutTimeout()
{
    makePool(0, 8, 100);
    m_network->enqueueConnect(MockConnect::succeed(600)); // long after the timeout
    QElapsedTimer clock;
    clock.start();
    Opened late;
    open(late);
    QTRY_COMPARE(late.calls, 1);
    QVERIFY(clock.elapsed() >= 90);
    QCOMPARE(late.result->error().code, ErrorCode::CheckoutTimeout);
    QCOMPARE(m_pool->snapshot().counters.checkoutTimeouts, 1u);
    // The dial still completes; the waiter that timed out gets nothing from it.
    QTRY_COMPARE(m_pool->owners().size(), 1);
    QCOMPARE(m_pool->owners().front()->streamsInUse(), 0);
    QCOMPARE(late.calls, 1);
}

void tst_UpstreamPool::checkoutTimeoutCappedByDeadline()
{
    m_network->enqueueConnect(MockConnect::never());
    QElapsedTimer clock;
    clock.start();
    Opened opened;
    open(opened, endpointFor(), QDeadlineTimer(80)); // the tunnel's deadline, pool's is 60 s
    QTRY_COMPARE_WITH_TIMEOUT(opened.calls, 1, 2000);
    QCOMPARE(opened.result->error().code, ErrorCode::CheckoutTimeout);
    QVERIFY(clock.elapsed() >= 70);
}

void tst_UpstreamPool::fullOwnerTriggersSecondOwner()
{
    makePool(1);
    Opened a, b;
    open(a);
    QTRY_COMPARE(a.calls, 1);
    open(b);
    QTRY_COMPARE(b.calls, 1);
    QVERIFY(*a.result && *b.result);
    QVERIFY(a.result->value().owner != b.result->value().owner);
    QCOMPARE(m_network->factoryCalls(), 2);

    a.result->value().owner->releaseStream(a.result->value().id);
    Opened c;
    open(c);
    QTRY_COMPARE(c.calls, 1);
    QCOMPARE(c.result->value().owner, a.result->value().owner); // the oldest is reused
    QCOMPARE(m_network->factoryCalls(), 2);
}

void tst_UpstreamPool::waitersBeyondCapacityGetFurtherDials()
{
    makePool(2);
    std::vector<Opened> opens(5);
    for (Opened &opened : opens)
        open(opened);
    for (Opened &opened : opens) {
        QTRY_COMPARE(opened.calls, 1);
        QVERIFY2(*opened.result, errorName(*opened.result));
    }
    QCOMPARE(m_network->factoryCalls(), 3);
    QCOMPARE(m_pool->owners().size(), 3);
}

void tst_UpstreamPool::thousandConcurrentOpensShareTenConnections()
{
    makePool(0, 16); // the default of 8 connections per fingerprint would cap this at 800
    m_network->setPeerStreamLimit(100); // each connection's limit, also enforced by the mock
    m_network->setDefaultConnect(MockConnect::succeed(1));
    constexpr int kOpens = 1000;
    std::vector<Opened> opens(kOpens);
    std::vector<int> order;
    for (int i = 0; i < kOpens; ++i) {
        Opened *target = &opens[static_cast<size_t>(i)];
        m_pool->openStream(endpointFor(), udpRequest(), target->session.get(),
                           target->session.get(),
                           [target, &order, i](const Result<AcquiredStream> &result) {
                               target->result = result;
                               ++target->calls;
                               order.push_back(i);
                           });
    }
    QTRY_COMPARE_WITH_TIMEOUT(order.size(), size_t(kOpens), 10000);
    for (const Opened &opened : opens) {
        QCOMPARE(opened.calls, 1);
        QVERIFY2(*opened.result, errorName(*opened.result)); // no stream_limit
    }
    QVERIFY(std::is_sorted(order.cbegin(), order.cend())); // answered in arrival order
    QCOMPARE(m_network->factoryCalls(), 10);
    const QList<UpstreamOwner *> owners = m_pool->owners();
    QCOMPARE(owners.size(), 10);
    for (const UpstreamOwner *owner : owners)
        QCOMPARE(owner->streamsInUse(), 100);
    QCOMPARE(m_pool->snapshot().counters.retries, 0u);
}

void tst_UpstreamPool::checkoutsAcquiringInCallbackFillOwnersInTurn()
{
    // Plain checkouts whose callbacks acquire at once see each other's streams: 300 of them
    // with a limit of 100 make exactly 3 connections.
    m_network->setPeerStreamLimit(100);
    std::vector<std::unique_ptr<FakeSession>> sessions;
    int failures = 0;
    int done = 0;
    for (int i = 0; i < 300; ++i) {
        sessions.push_back(std::make_unique<FakeSession>());
        FakeSession *session = sessions.back().get();
        m_pool->checkout(endpointFor(), session,
                         [session, &failures, &done](const Result<UpstreamOwner *> &owner) {
                             ++done;
                             if (!owner ||
                                 !owner.value()->acquireStream(udpRequest(), session, session))
                                 ++failures;
                         });
    }
    QTRY_COMPARE_WITH_TIMEOUT(done, 300, 5000);
    QCOMPARE(failures, 0);
    QCOMPARE(m_network->factoryCalls(), 3);
}

void tst_UpstreamPool::perTunnelOptionsShareOwner()
{
    Opened a, b;
    open(a, endpointFor(), QDeadlineTimer(5000));
    QTRY_COMPARE(a.calls, 1);
    Request other = udpRequest();
    other.path = "/.well-known/masque/udp/other.example/443/";
    other.headers = {{"proxy-authorization", "Basic dXNlcjpwYXNz"}};
    Opened *target = &b;
    m_pool->openStream(
        endpointFor(), other, b.session.get(), b.session.get(),
        [target](const Result<AcquiredStream> &result) {
            target->result = result;
            ++target->calls;
        },
        QDeadlineTimer(QDeadlineTimer::Forever));
    QTRY_COMPARE(b.calls, 1);
    QCOMPARE(b.result->value().owner, a.result->value().owner);
    QCOMPARE(m_network->factoryCalls(), 1);
    QCOMPARE(m_network->last()->requestOf(b.result->value().id)->path, other.path);
}

void tst_UpstreamPool::liveSettingsChangeServesWaiters()
{
    makePool(0, 1); // one connection per fingerprint: waiters must wait for capacity
    m_network->setPeerStreamLimit(2);
    std::vector<Opened> opens(3);
    for (Opened &opened : opens)
        open(opened);
    QTRY_COMPARE(opens[1].calls, 1);
    QTest::qWait(20);
    QCOMPARE(opens[2].calls, 0); // at the limit; no second connection allowed
    // The peer raises SETTINGS_MAX_CONCURRENT_STREAMS: the waiter is served on the same owner.
    m_network->last()->setPeerStreamLimit(3);
    QTRY_COMPARE(opens[2].calls, 1);
    QVERIFY(*opens[2].result);
    QCOMPARE(opens[2].result->value().owner, opens[0].result->value().owner);
    QCOMPARE(m_network->factoryCalls(), 1);
}

void tst_UpstreamPool::connectionLimitWaitsForFreeSlot()
{
    makePool(1, 1);
    Opened a, b;
    open(a);
    QTRY_COMPARE(a.calls, 1);
    open(b);
    QTest::qWait(20);
    QCOMPARE(b.calls, 0);
    QCOMPARE(m_pool->snapshot().totals.waiters, 1);
    a.result->value().owner->releaseStream(a.result->value().id);
    QTRY_COMPARE(b.calls, 1);
    QVERIFY(*b.result);
    QCOMPARE(m_network->factoryCalls(), 1);
}

void tst_UpstreamPool::destroyedWaiterGetsNothing()
{
    m_network->enqueueConnect(MockConnect::succeed(30));
    Opened gone, kept;
    open(gone);
    open(kept);
    auto *context = new QObject;
    CheckedOut viaContext;
    checkout(viaContext, endpointFor(), context);
    gone.session.reset(); // the session dies before the dial ends
    delete context;
    QCOMPARE(m_pool->pendingCount(), 1);
    QTRY_COMPARE(kept.calls, 1);
    QTest::qWait(20);
    QCOMPARE(gone.calls, 0);
    QCOMPARE(viaContext.calls, 0);
    QCOMPARE(m_pool->owners().front()->streamsInUse(), 1); // nothing acquired for the dead one
    QCOMPARE(m_pool->pendingCount(), 0);
}

void tst_UpstreamPool::cancelledTicketGetsNothing()
{
    CheckedOut cancelled, kept;
    const PoolTicket ticket = checkout(cancelled);
    checkout(kept);
    m_pool->cancel(ticket);
    m_pool->cancel(ticket); // idempotent
    QTRY_COMPARE(kept.calls, 1);
    QTest::qWait(20);
    QCOMPARE(cancelled.calls, 0);
}

void tst_UpstreamPool::streamLimitRetriedOnAnotherOwner()
{
    makePool(10);                     // we allow 10 ...
    m_network->setPeerStreamLimit(1); // ... the peer only 1
    Opened a, b;
    open(a);
    QTRY_COMPARE(a.calls, 1);
    open(b);
    QTRY_COMPARE(b.calls, 1);
    QVERIFY2(*b.result, errorName(*b.result)); // the stream_limit never reached the caller
    QVERIFY(b.result->value().owner != a.result->value().owner);
    QCOMPARE(m_pool->snapshot().counters.retries, 1u);
}

void tst_UpstreamPool::goawayRetriedOnAnotherOwner()
{
    Opened a, b;
    open(a);
    QTRY_COMPARE(a.calls, 1);
    m_network->last()->failNextSubmit(Error(ErrorCode::Goaway)); // GOAWAY not yet seen by owner
    open(b);
    QTRY_COMPARE(b.calls, 1);
    QVERIFY2(*b.result, errorName(*b.result));
    QVERIFY(b.result->value().owner != a.result->value().owner);
    QCOMPARE(a.result->value().owner->state(), ConnectionState::Draining);
}

void tst_UpstreamPool::ownerGoneRetriedOnAnotherOwner()
{
    Opened a, b;
    open(a);
    QTRY_COMPARE(a.calls, 1);
    // The connection died under the owner; its closed() has not been processed yet.
    m_network->last()->failNextSubmit(Error(ErrorCode::ConnectionClosed));
    open(b);
    QTRY_COMPARE(b.calls, 1);
    QVERIFY2(*b.result, errorName(*b.result));
    QVERIFY(!a.result->value().owner || b.result->value().owner != a.result->value().owner);
    QCOMPARE(a.session->events, (QByteArrayList{"closed connection_closed"}));
    QCOMPARE(m_pool->snapshot().counters.retries, 1u);
}

void tst_UpstreamPool::secondFailureReachesCaller()
{
    // Every new connection refuses its first stream: the retry fails too.
    connect(m_network.get(), &MockNetwork::transportCreated, this,
            [](MockTransport *mock) { mock->failNextSubmit(Error(ErrorCode::StreamLimit)); });
    Opened opened;
    open(opened);
    QTRY_COMPARE(opened.calls, 1);
    QVERIFY(!*opened.result);
    QCOMPARE(opened.result->error().code, ErrorCode::StreamLimit);
    QCOMPARE(m_network->factoryCalls(), 2);
    QCOMPARE(m_pool->snapshot().counters.retries, 1u);
}

void tst_UpstreamPool::closingStreamsLimitWaitsForASlot()
{
    // Two connections of one stream each, both streams released by their sessions but still
    // closing on the wire: each transport refuses the next stream (stream_limit) although its
    // owner counts a free slot. The waiter is not failed: it waits until a slot frees
    // (settingsChanged, as the h2 transport emits when the peer's END_STREAM closes a stream).
    makePool(1, 2);
    Opened a, c;
    open(a);
    QTRY_COMPARE(a.calls, 1);
    open(c);
    QTRY_COMPARE(c.calls, 1);
    QVERIFY(*a.result && *c.result);
    QVERIFY(a.result->value().owner != c.result->value().owner);
    a.result->value().owner->releaseStream(a.result->value().id, ReleaseMode::Graceful);
    c.result->value().owner->releaseStream(c.result->value().id, ReleaseMode::Graceful);
    for (MockTransport *transport : m_network->transports())
        transport->failNextSubmit(Error(ErrorCode::StreamLimit));

    Opened b;
    open(b);
    QTest::qWait(20);
    QCOMPARE(b.calls, 0); // not failed with stream_limit: waiting
    QCOMPARE(m_network->factoryCalls(), 2);
    // settingsChanged (no limit scripted: the mock then takes the stream): a slot is free.
    m_network->transports().first()->setPeerStreamLimit(std::nullopt);
    QTRY_COMPARE(b.calls, 1);
    QVERIFY2(*b.result, errorName(*b.result));
    QCOMPARE(b.result->value().owner, a.result->value().owner);
    QCOMPARE(m_network->factoryCalls(), 2);
}

void tst_UpstreamPool::ownerDeathEvicts()
{
    makePool(0, 8, 60000, 50);
    QSignalSpy removed(m_pool.get(), &UpstreamPool::connectionRemoved);
    CheckedOut first;
    checkout(first);
    QTRY_COMPARE(first.calls, 1);
    QTRY_COMPARE(removed.count(), 1); // idle expiry
    QCOMPARE(removed.at(0).at(1).value<Error>().code, ErrorCode::IdleTimeout);
    QVERIFY(m_pool->owners().isEmpty());

    Opened opened; // connection closed by the peer
    open(opened);
    QTRY_COMPARE(opened.calls, 1);
    m_network->last()->simulateClose(Error(ErrorCode::ConnectionLost));
    QCOMPARE(removed.count(), 2);
    QVERIFY(m_pool->owners().isEmpty());
    QCOMPARE(opened.session->events, (QByteArrayList{"closed connection_lost"}));
    QCOMPARE(m_network->factoryCalls(), 2);
}

void tst_UpstreamPool::slowDialDoesNotBlockOtherFingerprints()
{
    m_network->enqueueConnect(MockConnect::never());
    Opened slow, fast;
    open(slow, endpointFor(TransportKind::H3, QStringLiteral("slow.example")));
    open(fast, endpointFor(TransportKind::H3, QStringLiteral("fast.example")));
    QTRY_COMPARE(fast.calls, 1);
    QVERIFY(*fast.result);
    QCOMPARE(slow.calls, 0);
    QCOMPARE(m_pool->dialsInFlight(), 1);
}

void tst_UpstreamPool::closeAllEndsEverything()
{
    makePool(1);
    Opened a, b;
    open(a);
    open(b);
    QTRY_COMPARE(b.calls, 1);
    QCOMPARE(m_pool->owners().size(), 2);
    QPointer<UpstreamOwner> first(a.result->value().owner);
    m_network->setDefaultConnect(MockConnect::never());
    Opened waiting;
    open(waiting);
    QTRY_COMPARE(m_pool->dialsInFlight(), 1);
    QPointer<UpstreamOwner> dialing(m_pool->owner(m_pool->snapshot().dials.at(0).ownerId));

    m_pool->closeAll();
    QCOMPARE(a.session->events, (QByteArrayList{"closed shutdown"}));
    QCOMPARE(b.session->events, (QByteArrayList{"closed shutdown"}));
    QCOMPARE(waiting.calls, 1);
    QCOMPARE(waiting.result->error().code, ErrorCode::Shutdown);
    QTRY_VERIFY(!first && !dialing);
    const PoolSnapshot snapshot = m_pool->snapshot();
    QCOMPARE(snapshot.connections.size(), 0);
    QCOMPARE(snapshot.dials.size(), 0);

    m_network->setDefaultConnect(MockConnect::succeed());
    Opened again; // still usable afterwards
    open(again);
    QTRY_COMPARE(again.calls, 1);
    QVERIFY(*again.result);
}

void tst_UpstreamPool::closeCommands()
{
    QSignalSpy opened(m_pool.get(), &UpstreamPool::streamOpened);
    QSignalSpy closed(m_pool.get(), &UpstreamPool::streamClosed);
    QSignalSpy added(m_pool.get(), &UpstreamPool::connectionAdded);
    QSignalSpy removed(m_pool.get(), &UpstreamPool::connectionRemoved);
    Opened a, b;
    open(a);
    open(b);
    QTRY_COMPARE(b.calls, 1);
    const quint64 ownerId = a.result->value().owner->id();
    QCOMPARE(added.count(), 1);
    QCOMPARE(opened.count(), 2);
    QCOMPARE(opened.at(0).at(0).toULongLong(), ownerId);

    m_pool->closeStream(ownerId, a.result->value().id);
    QCOMPARE(a.session->events, (QByteArrayList{"reset local_close"}));
    QCOMPARE(closed.count(), 1);
    m_pool->closeConnection(ownerId);
    QCOMPARE(b.session->events, (QByteArrayList{"closed local_close"}));
    QCOMPARE(removed.count(), 1);
    QCOMPARE(removed.at(0).at(0).toULongLong(), ownerId);
    m_pool->closeConnection(9999); // unknown: ignored
}

void tst_UpstreamPool::closeAllFromAnotherThreadIsQueued()
{
    Opened a;
    open(a);
    QTRY_COMPARE(a.calls, 1);
    UpstreamPool *pool = m_pool.get();
    std::unique_ptr<QThread> gui(QThread::create([pool] {
        // The GUI's "disconnect" button: a queued call into the engine thread.
        QMetaObject::invokeMethod(pool, &UpstreamPool::closeAll, Qt::QueuedConnection);
    }));
    gui->start();
    QVERIFY(gui->wait(2000));
    QTRY_COMPARE(a.session->closes, 1);
    QCOMPARE(a.session->lastError.code, ErrorCode::Shutdown);
    QVERIFY(m_pool->owners().isEmpty());
}

void tst_UpstreamPool::http1IsNotPooled()
{
    CheckedOut out;
    checkout(out, endpointFor(TransportKind::H1));
    QCOMPARE(out.calls, 0);
    QTRY_COMPARE(out.calls, 1);
    QCOMPARE(out.result->error().code, ErrorCode::PoolUnsupportedForTransport);
    QCOMPARE(m_network->factoryCalls(), 0);
}

void tst_UpstreamPool::noProxyHost()
{
    Opened opened;
    open(opened, endpointFor(TransportKind::H3, QString()));
    QTRY_COMPARE(opened.calls, 1);
    QCOMPARE(opened.result->error().code, ErrorCode::NoProxy);
}

void tst_UpstreamPool::snapshotListsOwnersAndDials()
{
    Opened a, b;
    open(a);
    open(b);
    QTRY_COMPARE(b.calls, 1);
    m_network->enqueueConnect(MockConnect::never());
    std::vector<Opened> waiting(3);
    for (Opened &opened : waiting)
        open(opened, endpointFor(TransportKind::H2));
    QTRY_COMPARE(m_pool->dialsInFlight(), 1);

    const PoolSnapshot snapshot = m_pool->snapshot();
    QVERIFY(snapshot.takenAtMs > 0);
    QCOMPARE(snapshot.connections.size(), 1);
    QCOMPARE(snapshot.connections.at(0).streams.size(), 2);
    QCOMPARE(snapshot.dials.size(), 1);
    const DialSnapshot &dial = snapshot.dials.at(0);
    QCOMPARE(dial.transport, TransportKind::H2);
    QVERIFY(dial.dialing);
    QCOMPARE(dial.waiters, 3);
    QVERIFY(dial.ownerId != 0);
    QCOMPARE(snapshot.totals.connections, 1);
    QCOMPARE(snapshot.totals.streams, 2);
    QCOMPARE(snapshot.totals.streamLimit, 100);
    QCOMPARE(snapshot.totals.dials, 1);
    QCOMPARE(snapshot.totals.waiters, 3);
    QCOMPARE(snapshot.counters.checkouts, 5u);
    QCOMPARE(snapshot.counters.streamsOpened, 2u);
    QCOMPARE(snapshot.counters.dialsStarted, 2u);
}

QTEST_GUILESS_MAIN(tst_UpstreamPool)
#include "tst_upstream_pool.moc"
