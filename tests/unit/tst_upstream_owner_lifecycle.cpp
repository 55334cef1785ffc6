// UpstreamOwner on MockTransport: the dial and its failures, the info() snapshot, GOAWAY,
// connection close, stop, and the idle timer.

#include "support/OwnerFixture.h"

#include <QtCore/QElapsedTimer>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::test;

class tst_UpstreamOwnerLifecycle : public QObject, private OwnerFixture
{
    Q_OBJECT

private Q_SLOTS:
    void init() { setUpOwnerFixture(); }
    void cleanup() { tearDownOwnerFixture(); }

    void dialAndStop();
    void dialFailures_data();
    void dialFailures();
    void infoSnapshot();
    void goawayDrains();
    void submitGoawayDrains();
    void connectionCloseTellsEverySession();
    void transportDestroyedStopsOwner();
    void stopTellsSessions();
    void acquireOnStoppedOwnerIsOwnerGone();
    void idleExpiryClosesConnection();
    void idleRearmsOnLastRelease();
    void idleOnlyCurrentArmCounts();
    void idleDisabled();
};

void tst_UpstreamOwnerLifecycle::dialAndStop()
{
    auto *owner = new UpstreamOwner(endpointFor(TransportKind::H2), {}, optionsWith(),
                                    m_network->factory(), m_scope.get());
    QCOMPARE(owner->state(), ConnectionState::Dialing);
    QSignalSpy finished(owner, &UpstreamOwner::dialFinished);
    owner->dial();
    QCOMPARE(finished.count(), 0); // never reported from inside dial()
    QVERIFY(finished.wait(2000));
    QCOMPARE(finished.at(0).at(0).toBool(), true);
    QCOMPARE(owner->state(), ConnectionState::Ready);
    MockTransport *mock = m_network->last();
    QCOMPARE(mock->parent(), owner); // born the owner's child
    QCOMPARE(mock->connectOptions().host, QStringLiteral("Proxy.Example"));
    QCOMPARE(mock->connectOptions().port, quint16(4433));

    QPointer<UpstreamOwner> guard(owner);
    QSignalSpy closed(owner, &UpstreamOwner::connectionClosed);
    owner->stop();
    QVERIFY(mock->called("close", -1));
    QCOMPARE(closed.count(), 1);
    QCOMPARE(closed.at(0).at(0).value<Error>().code, ErrorCode::Shutdown);
    QTRY_VERIFY(!guard);
    QCOMPARE(finished.count(), 1);
}

void tst_UpstreamOwnerLifecycle::dialFailures_data()
{
    QTest::addColumn<int>("script");
    QTest::addColumn<int>("expectedCode");
    using K = MockConnect::Kind;
    QTest::newRow("factory throws") << int(K::FactoryThrows) << int(ErrorCode::DialCrashed);
    QTest::newRow("factory returns null")
        << int(K::FactoryReturnsNull) << int(ErrorCode::DialCrashed);
    QTest::newRow("connect throws") << int(K::ConnectThrows) << int(ErrorCode::DialCrashed);
    QTest::newRow("transport destroyed") << int(K::DestroySelf) << int(ErrorCode::DialCrashed);
    QTest::newRow("never answers") << int(K::Never) << int(ErrorCode::ConnectTimeout);
    QTest::newRow("refused") << int(K::Fail) << int(ErrorCode::ConnectionRefused);
}

void tst_UpstreamOwnerLifecycle::dialFailures()
{
    QFETCH(int, script);
    QFETCH(int, expectedCode);
    const auto expected = static_cast<ErrorCode>(expectedCode);
    MockConnect connect;
    connect.kind = static_cast<MockConnect::Kind>(script);
    connect.error = Error(ErrorCode::ConnectionRefused, QStringLiteral("port closed"));
    m_network->enqueueConnect(connect);

    QElapsedTimer clock;
    clock.start();
    auto *owner = new UpstreamOwner(endpointFor(TransportKind::H3), {}, optionsWith(),
                                    m_network->factory(), m_scope.get());
    QPointer<UpstreamOwner> guard(owner);
    QSignalSpy finished(owner, &UpstreamOwner::dialFinished);
    QSignalSpy closed(owner, &UpstreamOwner::connectionClosed);
    owner->dial();
    QCOMPARE(finished.count(), 0); // reported from the event loop, also for throws
    QVERIFY(finished.wait(2000));
    QCOMPARE(finished.at(0).at(0).toBool(), false);
    QCOMPARE(finished.at(0).at(1).value<Error>().code, expected);
    QTRY_VERIFY(!guard); // deletes itself after a failed dial
    QCOMPARE(finished.count(), 1);
    QCOMPARE(closed.count(), 0);
    if (expected == ErrorCode::ConnectTimeout)
        QVERIFY(clock.elapsed() >= 140); // connectTimeoutMs 100 + margin 50, never earlier
}

void tst_UpstreamOwnerLifecycle::infoSnapshot()
{
    UpstreamOwner *owner = dialed(TransportKind::H3, optionsWith(0, 5000));
    QVERIFY(owner);
    FakeSession first, second;
    second.target = QStringLiteral("10.0.0.1:53");
    second.bytesSent = 42;
    auto a = owner->acquireStream(udpRequest("a.example/53"), &first, &first);
    auto b = owner->acquireStream(udpRequest(), &second, &second);
    QVERIFY(a && b);
    m_network->last()->simulateDatagram(b->id, "\x00hi");

    const ConnectionSnapshot info = owner->info();
    QCOMPARE(info.id, owner->id());
    QCOMPARE(info.transport, TransportKind::H3);
    QCOMPARE(info.proxyHost, QStringLiteral("proxy.example"));
    QCOMPARE(info.proxyPort, quint16(4433));
    QVERIFY(info.fingerprint.startsWith(QStringLiteral("h3 proxy.example:4433 ")));
    QCOMPARE(info.state, ConnectionState::Ready);
    QCOMPARE(info.streamsInUse, 2);
    QCOMPARE(info.streamLimit, 100);
    QCOMPARE(info.streamLimitSource, StreamLimitSource::Default);
    QCOMPARE(info.idleRemainingMs, -1); // streams in use: not armed
    QVERIFY(info.ageMs >= 0);
    QCOMPARE(info.stats.alpn, QStringLiteral("h3"));
    QCOMPARE(info.stats.streamsOpen, 2u);
    QCOMPARE(info.datagramsRouted, 1u);
    QCOMPARE(info.streams.size(), 2);
    const StreamSnapshot &rowA = info.streams.at(0);
    const StreamSnapshot &rowB = info.streams.at(1);
    QCOMPARE(rowA.streamId, a->id); // sorted by id
    QCOMPARE(rowA.protocol, TunnelProtocol::Udp);
    QCOMPARE(rowA.target, QStringLiteral("/.well-known/masque/udp/a.example/53/"));
    QCOMPARE(rowA.localClient, QStringLiteral("test 127.0.0.1:1")); // from describeStream
    QCOMPARE(rowA.datagramPath, DatagramPath::QuicDatagram);
    QCOMPARE(rowA.responseStatus, 200);
    QCOMPARE(rowB.target, QStringLiteral("10.0.0.1:53")); // the session overrides
    QCOMPARE(rowB.bytesSent, 42u);
    QCOMPARE(rowB.datagramsReceived, 1u);

    owner->releaseStream(a->id);
    owner->releaseStream(b->id);
    const qint64 idle = owner->info().idleRemainingMs;
    QVERIFY2(idle > 4000 && idle <= 5000, QByteArray::number(idle));
}

void tst_UpstreamOwnerLifecycle::goawayDrains()
{
    UpstreamOwner *owner = dialed(TransportKind::H3, optionsWith(0, 30000));
    QVERIFY(owner);
    MockTransport *mock = mockOf(owner);
    FakeSession s1, s2, s3;
    auto a = owner->acquireStream(udpRequest(), &s1, &s1);
    auto b = owner->acquireStream(udpRequest(), &s2, &s2);
    QVERIFY(a && b);
    QPointer<UpstreamOwner> guard(owner);
    QSignalSpy closed(owner, &UpstreamOwner::connectionClosed);
    mock->simulateGoaway(8);
    QCOMPARE(owner->state(), ConnectionState::Draining);
    QVERIFY(!owner->canOpenStream());
    auto refused = owner->acquireStream(udpRequest(), &s3, &s3);
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, ErrorCode::Goaway);
    QCOMPARE(mock->callCount("submitRequest"), 2);
    mock->simulateData(a->id, "still flowing"); // existing streams finish
    QCOMPARE(s1.events, (QByteArrayList{"data still flowing"}));
    owner->releaseStream(a->id);
    QTest::qWait(20);
    QVERIFY(guard);
    owner->releaseStream(b->id, ReleaseMode::Graceful);
    // The last stream is gone: a draining connection closes without waiting 30 s of idle.
    QTRY_VERIFY_WITH_TIMEOUT(!guard, 2000);
    QCOMPARE(closed.count(), 1);
    QCOMPARE(closed.at(0).at(0).value<Error>().code, ErrorCode::Goaway);
}

void tst_UpstreamOwnerLifecycle::submitGoawayDrains()
{
    UpstreamOwner *owner = dialed(TransportKind::H2);
    QVERIFY(owner);
    FakeSession s1, s2;
    QVERIFY(owner->acquireStream(udpRequest(), &s1, &s1));
    mockOf(owner)->failNextSubmit(Error(ErrorCode::Goaway));
    auto refused = owner->acquireStream(udpRequest(), &s2, &s2);
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, ErrorCode::Goaway);
    QCOMPARE(owner->state(), ConnectionState::Draining);
}

void tst_UpstreamOwnerLifecycle::connectionCloseTellsEverySession()
{
    UpstreamOwner *owner = dialed(TransportKind::H2);
    QVERIFY(owner);
    std::vector<std::unique_ptr<FakeSession>> sessions;
    for (int i = 0; i < 3; ++i) {
        sessions.push_back(std::make_unique<FakeSession>());
        QVERIFY(owner->acquireStream(udpRequest(), sessions.back().get(), sessions.back().get()));
    }
    QPointer<UpstreamOwner> guard(owner);
    QSignalSpy closed(owner, &UpstreamOwner::connectionClosed);
    QSignalSpy released(owner, &UpstreamOwner::streamReleased);
    m_network->last()->simulateClose(Error(ErrorCode::ConnectionLost, QStringLiteral("EOF")));
    for (const auto &session : sessions) {
        QCOMPARE(session->events, (QByteArrayList{"closed connection_lost"}));
        QCOMPARE(session->lastError.detail, QStringLiteral("EOF"));
    }
    QCOMPARE(released.count(), 3);
    QCOMPARE(closed.count(), 1);
    QCOMPARE(owner->state(), ConnectionState::Closing);
    QTRY_VERIFY(!guard);
    for (const auto &session : sessions)
        QCOMPARE(session->closes, 1); // exactly once
}

void tst_UpstreamOwnerLifecycle::transportDestroyedStopsOwner()
{
    UpstreamOwner *owner = dialed(TransportKind::H3);
    QVERIFY(owner);
    FakeSession session;
    QVERIFY(owner->acquireStream(udpRequest(), &session, &session));
    QPointer<UpstreamOwner> guard(owner);
    QSignalSpy closed(owner, &UpstreamOwner::connectionClosed);
    delete m_network->last();
    QCOMPARE(session.events, (QByteArrayList{"closed connection_lost"}));
    QCOMPARE(closed.count(), 1);
    QTRY_VERIFY(!guard);
}

void tst_UpstreamOwnerLifecycle::stopTellsSessions()
{
    UpstreamOwner *owner = dialed(TransportKind::H3);
    QVERIFY(owner);
    FakeSession s1, s2;
    QVERIFY(owner->acquireStream(udpRequest(), &s1, &s1));
    QVERIFY(owner->acquireStream(udpRequest(), &s2, &s2));
    owner->stop(Error(ErrorCode::Shutdown, QStringLiteral("bye")));
    QCOMPARE(s1.events, (QByteArrayList{"closed shutdown"}));
    QCOMPARE(s2.events, (QByteArrayList{"closed shutdown"}));

    // An owner deleted outright (with its parent) tells its sessions too.
    UpstreamOwner *other = dialed(TransportKind::H2);
    QVERIFY(other);
    FakeSession s3;
    QVERIFY(other->acquireStream(udpRequest(), &s3, &s3));
    delete other;
    QCOMPARE(s3.events, (QByteArrayList{"closed shutdown"}));
}

void tst_UpstreamOwnerLifecycle::acquireOnStoppedOwnerIsOwnerGone()
{
    UpstreamOwner *owner = dialed();
    QVERIFY(owner);
    owner->stop();
    FakeSession session;
    auto refused = owner->acquireStream(udpRequest(), &session, &session);
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, ErrorCode::OwnerGone);
}

void tst_UpstreamOwnerLifecycle::idleExpiryClosesConnection()
{
    UpstreamOwner *owner = dialed(TransportKind::H3, optionsWith(0, 50));
    QVERIFY(owner);
    QVERIFY(owner->idleRemainingMs() > 0); // armed at start
    QPointer<UpstreamOwner> guard(owner);
    QPointer<MockTransport> mock(mockOf(owner));
    QSignalSpy closed(owner, &UpstreamOwner::connectionClosed);
    QTRY_VERIFY_WITH_TIMEOUT(!guard, 2000);
    QCOMPARE(closed.count(), 1);
    QCOMPARE(closed.at(0).at(0).value<Error>().code, ErrorCode::IdleTimeout);
    QVERIFY(!mock); // the transport went with it
}

void tst_UpstreamOwnerLifecycle::idleRearmsOnLastRelease()
{
    UpstreamOwner *owner = dialed(TransportKind::H3, optionsWith(0, 200));
    QVERIFY(owner);
    FakeSession s1, s2;
    auto a = owner->acquireStream(udpRequest(), &s1, &s1);
    auto b = owner->acquireStream(udpRequest(), &s2, &s2);
    QVERIFY(a && b);
    QCOMPARE(owner->idleRemainingMs(), -1); // cancelled by the acquire
    owner->releaseStream(a->id);
    QCOMPARE(owner->idleRemainingMs(), -1); // not the last stream
    QElapsedTimer sinceRelease;
    sinceRelease.start();
    owner->releaseStream(b->id);
    QVERIFY(owner->idleRemainingMs() > 150);
    QPointer<UpstreamOwner> guard(owner);
    QTRY_VERIFY_WITH_TIMEOUT(!guard, 2000);
    QVERIFY(sinceRelease.elapsed() >= 190);
}

void tst_UpstreamOwnerLifecycle::idleOnlyCurrentArmCounts()
{
    // Armed at start for 400 ms; re-armed 150 ms later by a release. Had the first arm still
    // counted, the owner would go 250 ms after the release; it must live the full 400 ms.
    UpstreamOwner *owner = dialed(TransportKind::H3, optionsWith(0, 400));
    QVERIFY(owner);
    QPointer<UpstreamOwner> guard(owner);
    QTest::qWait(150);
    QVERIFY(guard);
    FakeSession session;
    auto acquired = owner->acquireStream(udpRequest(), &session, &session);
    QVERIFY(acquired);
    QElapsedTimer sinceRelease;
    sinceRelease.start();
    owner->releaseStream(acquired->id);
    QTRY_VERIFY_WITH_TIMEOUT(!guard, 3000);
    QVERIFY2(sinceRelease.elapsed() >= 390, QByteArray::number(sinceRelease.elapsed()));
}

void tst_UpstreamOwnerLifecycle::idleDisabled()
{
    UpstreamOwner *owner = dialed(TransportKind::H3, optionsWith(0, 0));
    QVERIFY(owner);
    QCOMPARE(owner->idleRemainingMs(), -1);
    FakeSession session;
    auto acquired = owner->acquireStream(udpRequest(), &session, &session);
    QVERIFY(acquired);
    owner->releaseStream(acquired->id);
    QCOMPARE(owner->idleRemainingMs(), -1);
    QPointer<UpstreamOwner> guard(owner);
    QTest::qWait(100);
    QVERIFY(guard);
}

QTEST_GUILESS_MAIN(tst_UpstreamOwnerLifecycle)
#include "tst_upstream_owner_lifecycle.moc"
