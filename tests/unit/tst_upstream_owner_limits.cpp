// UpstreamOwner on MockTransport: the stream limit (peer SETTINGS on h2, MAX_STREAMS credit on
// h3, a fixed limit), full marking, and 10 000 streams on one owner.

#include "support/OwnerFixture.h"

#include <QtCore/QElapsedTimer>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::test;

class tst_UpstreamOwnerLimits : public QObject, private OwnerFixture
{
    Q_OBJECT

private Q_SLOTS:
    void init() { setUpOwnerFixture(); }
    void cleanup() { tearDownOwnerFixture(); }

    void h2FollowsPeerSettingsLive();
    void h3DefaultLimitIs100();
    void h3FollowsMaxStreamsCredit();
    void fixedLimitRejects();
    void transportStreamLimitMarksFull();
    void tenThousandStreams();
};

void tst_UpstreamOwnerLimits::h2FollowsPeerSettingsLive()
{
    m_network->setPeerStreamLimit(2);
    UpstreamOwner *owner = dialed(TransportKind::H2);
    QVERIFY(owner);
    MockTransport *mock = mockOf(owner);
    QCOMPARE(owner->streamLimit(), 2);
    QCOMPARE(owner->info().streamLimitSource, StreamLimitSource::Peer);
    FakeSession s1, s2, s3;
    QVERIFY(owner->acquireStream(udpRequest(), &s1, &s1));
    QVERIFY(owner->acquireStream(udpRequest(), &s2, &s2));
    QCOMPARE(owner->state(), ConnectionState::Full);
    auto refused = owner->acquireStream(udpRequest(), &s3, &s3);
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, ErrorCode::StreamLimit);
    QCOMPARE(mock->callCount("submitRequest"), 2); // refused before the transport

    // A later SETTINGS frame raises SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113, 6.5.2).
    QSignalSpy states(owner, &UpstreamOwner::stateChanged);
    mock->setPeerStreamLimit(3);
    QCOMPARE(owner->state(), ConnectionState::Ready);
    QCOMPARE(states.count(), 1);
    QVERIFY(owner->acquireStream(udpRequest(), &s3, &s3));
    mock->setPeerStreamLimit(1); // lowered below the streams in use
    QCOMPARE(owner->state(), ConnectionState::Full);
    QCOMPARE(owner->streamLimit(), 1);
}

void tst_UpstreamOwnerLimits::h3DefaultLimitIs100()
{
    UpstreamOwner *owner = dialed(TransportKind::H3);
    QVERIFY(owner);
    QCOMPARE(owner->streamLimit(), 100);
    std::vector<std::unique_ptr<FakeSession>> sessions;
    for (int i = 0; i < 100; ++i) {
        sessions.push_back(std::make_unique<FakeSession>());
        QVERIFY(owner->acquireStream(udpRequest(), sessions.back().get(), sessions.back().get()));
    }
    QCOMPARE(owner->state(), ConnectionState::Full);
    FakeSession extra;
    auto refused = owner->acquireStream(udpRequest(), &extra, &extra);
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, ErrorCode::StreamLimit);
}

void tst_UpstreamOwnerLimits::h3FollowsMaxStreamsCredit()
{
    m_network->setPeerStreamLimit(1);
    UpstreamOwner *owner = dialed(TransportKind::H3);
    QVERIFY(owner);
    FakeSession s1, s2;
    QVERIFY(owner->acquireStream(udpRequest(), &s1, &s1));
    QCOMPARE(owner->state(), ConnectionState::Full);
    mockOf(owner)->setPeerStreamLimit(2); // MAX_STREAMS (RFC 9000, 19.11)
    QCOMPARE(owner->state(), ConnectionState::Ready);
    QVERIFY(owner->acquireStream(udpRequest(), &s2, &s2));
}

void tst_UpstreamOwnerLimits::fixedLimitRejects()
{
    m_network->setPeerStreamLimit(50); // the configured limit wins
    UpstreamOwner *owner = dialed(TransportKind::H2, optionsWith(1));
    QVERIFY(owner);
    QCOMPARE(owner->info().streamLimitSource, StreamLimitSource::Fixed);
    FakeSession s1, s2;
    QVERIFY(owner->acquireStream(udpRequest(), &s1, &s1));
    auto refused = owner->acquireStream(udpRequest(), &s2, &s2);
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, ErrorCode::StreamLimit);
    QCOMPARE(mockOf(owner)->callCount("submitRequest"), 1);
}

void tst_UpstreamOwnerLimits::transportStreamLimitMarksFull()
{
    m_network->setPeerStreamLimit(1); // the peer allows fewer streams than configured
    UpstreamOwner *owner = dialed(TransportKind::H3, optionsWith(10));
    QVERIFY(owner);
    MockTransport *mock = mockOf(owner);
    FakeSession s1, s2, s3;
    auto first = owner->acquireStream(udpRequest(), &s1, &s1);
    QVERIFY(first);
    QCOMPARE(owner->state(), ConnectionState::Ready);
    auto refused = owner->acquireStream(udpRequest(), &s2, &s2);
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, ErrorCode::StreamLimit);
    QCOMPARE(owner->state(), ConnectionState::Full);
    QVERIFY(!owner->canOpenStream());
    QVERIFY(!owner->acquireStream(udpRequest(), &s3, &s3));
    QCOMPARE(mock->callCount("submitRequest"), 2); // the third never reached the transport
    owner->releaseStream(first->id);               // full until a stream is released
    QCOMPARE(owner->state(), ConnectionState::Ready);
    QVERIFY(owner->acquireStream(udpRequest(), &s3, &s3));
}

void tst_UpstreamOwnerLimits::tenThousandStreams()
{
    constexpr int kStreams = 10000;
    UpstreamOwner *owner = dialed(TransportKind::H3, optionsWith(kStreams));
    QVERIFY(owner);
    MockTransport *mock = mockOf(owner);
    std::vector<std::unique_ptr<FakeSession>> sessions;
    std::vector<StreamId> ids;
    sessions.reserve(kStreams);
    for (int i = 0; i < kStreams; ++i) {
        sessions.push_back(std::make_unique<FakeSession>());
        auto acquired =
            owner->acquireStream(udpRequest(), sessions.back().get(), sessions.back().get());
        QVERIFY(acquired);
        ids.push_back(acquired->id);
    }
    // Routing is a hash lookup per datagram: 100 000 datagrams over 10 000 streams, each to
    // exactly its own session.
    QElapsedTimer clock;
    clock.start();
    const QByteArray payload("\x00"
                             "payload",
                             8);
    for (int round = 0; round < 10; ++round) {
        for (int i = 0; i < kStreams; ++i)
            mock->simulateDatagram(ids[static_cast<size_t>((i * 7919) % kStreams)], payload);
    }
    const qint64 routingMs = clock.elapsed();
    for (const auto &session : sessions)
        QCOMPARE(session->datagrams.size(), 10);

    clock.restart();
    const ConnectionSnapshot info = owner->info();
    const qint64 snapshotMs = clock.elapsed();
    QCOMPARE(info.streams.size(), kStreams);
    QVERIFY(std::is_sorted(
        info.streams.cbegin(), info.streams.cend(),
        [](const StreamSnapshot &a, const StreamSnapshot &b) { return a.streamId < b.streamId; }));
    qInfo("100000 datagrams routed in %lld ms; 10000-stream info() in %lld ms", routingMs,
          snapshotMs);
    QVERIFY2(routingMs < 1000, QByteArray::number(routingMs));
    QVERIFY2(snapshotMs < 100, QByteArray::number(snapshotMs)); // target 10 ms, slack for CI
}

QTEST_GUILESS_MAIN(tst_UpstreamOwnerLimits)
#include "tst_upstream_owner_limits.moc"
