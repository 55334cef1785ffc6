// UpstreamOwner on MockTransport: acquire and release, events kept and replayed for the
// session, datagram demultiplexing, handlers that release inside callbacks, cross-thread release.

#include "support/OwnerFixture.h"

#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::test;

class tst_UpstreamOwnerStreams : public QObject, private OwnerFixture
{
    Q_OBJECT

private Q_SLOTS:
    void init() { setUpOwnerFixture(); }
    void cleanup() { tearDownOwnerFixture(); }

    void acquireSubmitsAndRegisters();
    void dataBeforeResponseIsKept();
    void eventsBufferedBeforeRegistrationAreReplayed();
    void releaseUnregistersAndResets();
    void gracefulReleaseDoesNotReset();
    void releaseIsIdempotent();
    void destroyedSessionReleases();
    void setStreamHandlerFailureResets();
    void streamResetFreesSlot();
    void datagramsDemultiplexedByStreamId();
    void handlerMayReleaseInsideCallbacks();
    void closeStreamTellsSession();
    void releaseFromAnotherThreadIsQueued();
};

void tst_UpstreamOwnerStreams::acquireSubmitsAndRegisters()
{
    UpstreamOwner *owner = dialed();
    QVERIFY(owner);
    MockTransport *mock = mockOf(owner);
    FakeSession session;
    QSignalSpy acquiredSpy(owner, &UpstreamOwner::streamAcquired);
    const Request request = udpRequest();
    auto acquired = owner->acquireStream(request, &session, &session);
    QVERIFY(acquired);
    QCOMPARE(acquired->transport.data(), static_cast<Transport *>(mock));
    QCOMPARE(acquired->owner.data(), owner);
    const StreamId id = acquired->id;
    QCOMPARE(mock->callNames(),
             (QByteArrayList{"connectToProxy", "submitRequest", "setStreamHandler"}));
    QVERIFY(mock->called("setStreamHandler", id));
    QCOMPARE(mock->handlerOf(id), static_cast<StreamHandler *>(&session));
    QCOMPARE(mock->requestOf(id)->path, request.path);
    QCOMPARE(acquiredSpy.count(), 1);
    QVERIFY(session.events.isEmpty()); // returned without waiting for the response

    // Stream events go transport -> session directly.
    mock->simulateResponse(id, 200);
    mock->simulateData(id, "abc");
    QCOMPARE(session.events, (QByteArrayList{"response 200", "data abc"}));
}

void tst_UpstreamOwnerStreams::dataBeforeResponseIsKept()
{
    UpstreamOwner *owner = dialed(TransportKind::H2);
    QVERIFY(owner);
    FakeSession session;
    auto acquired = owner->acquireStream(udpRequest(), &session, &session);
    QVERIFY(acquired);
    // Data overtaking the 2xx reaches the session in arrival order; nothing is dropped.
    m_network->last()->simulateData(acquired->id, "early");
    m_network->last()->simulateResponse(acquired->id, 200);
    m_network->last()->simulateData(acquired->id, "late");
    QCOMPARE(session.events, (QByteArrayList{"data early", "response 200", "data late"}));
}

void tst_UpstreamOwnerStreams::eventsBufferedBeforeRegistrationAreReplayed()
{
    UpstreamOwner *owner = dialed();
    QVERIFY(owner);
    MockTransport *mock = mockOf(owner);
    // Events that arrive between submitRequest() and setStreamHandler() are buffered by the
    // transport and replayed on registration: the owner must register, not drop them.
    mock->setSubmitHook([mock](StreamId id) {
        mock->simulateData(id, "first");
        mock->simulateResponse(id, 200);
    });
    FakeSession session;
    auto acquired = owner->acquireStream(udpRequest(), &session, &session);
    QVERIFY(acquired);
    QCOMPARE(session.events, (QByteArrayList{"data first", "response 200"}));
}

void tst_UpstreamOwnerStreams::releaseUnregistersAndResets()
{
    UpstreamOwner *owner = dialed();
    QVERIFY(owner);
    MockTransport *mock = mockOf(owner);
    FakeSession session;
    auto acquired = owner->acquireStream(udpRequest(), &session, &session);
    QVERIFY(acquired);
    QSignalSpy released(owner, &UpstreamOwner::streamReleased);
    owner->releaseStream(acquired->id);
    QVERIFY(mock->called("clearStreamHandler", acquired->id));
    QVERIFY(mock->called("resetStream", acquired->id));
    QVERIFY(!mock->isStreamOpen(acquired->id));
    QCOMPARE(released.count(), 1);
    QCOMPARE(released.at(0).at(1).value<Error>().code, ErrorCode::LocalClose);
    QCOMPARE(owner->streamsInUse(), 0);
    mock->simulateData(acquired->id, "ignored");
    QVERIFY(session.events.isEmpty()); // no callbacks after release
}

void tst_UpstreamOwnerStreams::gracefulReleaseDoesNotReset()
{
    UpstreamOwner *owner = dialed();
    QVERIFY(owner);
    MockTransport *mock = mockOf(owner);
    FakeSession session;
    auto acquired = owner->acquireStream(udpRequest(), &session, &session);
    QVERIFY(acquired);
    QVERIFY(mock->endStream(acquired->id)); // the session sent FIN
    owner->releaseStream(acquired->id, ReleaseMode::Graceful);
    QVERIFY(mock->called("clearStreamHandler", acquired->id));
    QCOMPARE(mock->callCount("resetStream"), 0); // bytes in flight are not reset
    QVERIFY(mock->isStreamOpen(acquired->id));
    QCOMPARE(owner->streamsInUse(), 0);
}

void tst_UpstreamOwnerStreams::releaseIsIdempotent()
{
    UpstreamOwner *owner = dialed();
    QVERIFY(owner);
    MockTransport *mock = mockOf(owner);
    FakeSession session;
    auto acquired = owner->acquireStream(udpRequest(), &session, &session);
    QVERIFY(acquired);
    QSignalSpy released(owner, &UpstreamOwner::streamReleased);
    owner->releaseStream(acquired->id);
    const int calls = mock->calls().size();
    owner->releaseStream(acquired->id);
    owner->releaseStream(acquired->id, ReleaseMode::Graceful);
    owner->releaseStream(12345);
    QCOMPARE(mock->calls().size(), calls);
    QCOMPARE(released.count(), 1);
}

void tst_UpstreamOwnerStreams::destroyedSessionReleases()
{
    UpstreamOwner *owner = dialed();
    QVERIFY(owner);
    MockTransport *mock = mockOf(owner);
    auto *session = new FakeSession;
    auto acquired = owner->acquireStream(udpRequest(), session, session);
    QVERIFY(acquired);
    QSignalSpy released(owner, &UpstreamOwner::streamReleased);
    delete session;
    QCOMPARE(released.count(), 1);
    QCOMPARE(released.at(0).at(1).value<Error>().code, ErrorCode::Cancelled);
    QVERIFY(mock->called("resetStream", acquired->id));
    QCOMPARE(owner->streamsInUse(), 0);
    mock->simulateDatagram(acquired->id, "late"); // never reaches the dead session
    QCOMPARE(owner->info().datagramsUnknownStream, 1u);
}

void tst_UpstreamOwnerStreams::setStreamHandlerFailureResets()
{
    UpstreamOwner *owner = dialed();
    QVERIFY(owner);
    MockTransport *mock = mockOf(owner);
    mock->failNextSetStreamHandler(Error(ErrorCode::UnknownStream));
    FakeSession session;
    auto refused = owner->acquireStream(udpRequest(), &session, &session);
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, ErrorCode::UnknownStream);
    QCOMPARE(mock->callCount("resetStream"), 1);
    QCOMPARE(owner->streamsInUse(), 0);
    QCOMPARE(owner->idleRemainingMs() > 0, true); // empty again: idle timer re-armed
}

void tst_UpstreamOwnerStreams::streamResetFreesSlot()
{
    UpstreamOwner *owner = dialed(TransportKind::H3, optionsWith(1));
    QVERIFY(owner);
    MockTransport *mock = mockOf(owner);
    FakeSession s1, s2;
    auto first = owner->acquireStream(udpRequest(), &s1, &s1);
    QVERIFY(first);
    QSignalSpy released(owner, &UpstreamOwner::streamReleased);
    Error peerReset(ErrorCode::PeerReset);
    peerReset.wireCode = 0x10c; // H3_REQUEST_CANCELLED
    mock->simulateReset(first->id, peerReset);
    QCOMPARE(s1.events, (QByteArrayList{"reset peer_reset"})); // told by the transport, once
    QCOMPARE(released.count(), 1);
    QCOMPARE(released.at(0).at(1).value<Error>().wireCode, quint64(0x10c));
    QCOMPARE(mock->callCount("resetStream"), 0); // already gone: nothing to reset
    QVERIFY(owner->acquireStream(udpRequest(), &s2, &s2));
}

void tst_UpstreamOwnerStreams::datagramsDemultiplexedByStreamId()
{
    UpstreamOwner *owner = dialed(TransportKind::H3);
    QVERIFY(owner);
    MockTransport *mock = mockOf(owner);
    FakeSession s1, s2;
    auto a = owner->acquireStream(udpRequest(), &s1, &s1);
    auto b = owner->acquireStream(udpRequest(), &s2, &s2);
    QVERIFY(a && b);
    mock->simulateDatagram(b->id, QByteArray("\x00"
                                             "b1",
                                             3));
    mock->simulateDatagram(a->id, QByteArray("\x00"
                                             "a1",
                                             3));
    mock->simulateDatagram(b->id, QByteArray("\x00"
                                             "b2",
                                             3));
    mock->simulateDatagram(b->id + 400, "nobody"); // unknown: counted and dropped
    QCOMPARE(s1.datagrams, (QByteArrayList{QByteArray("\x00"
                                                      "a1",
                                                      3)}));
    QCOMPARE(s2.datagrams, (QByteArrayList{QByteArray("\x00"
                                                      "b1",
                                                      3),
                                           QByteArray("\x00"
                                                      "b2",
                                                      3)}));
    QCOMPARE(s1.eventStreams, (QList<StreamId>{a->id}));
    const ConnectionSnapshot info = owner->info();
    QCOMPARE(info.datagramsRouted, 3u);
    QCOMPARE(info.datagramsUnknownStream, 1u);
}

void tst_UpstreamOwnerStreams::handlerMayReleaseInsideCallbacks()
{
    UpstreamOwner *owner = dialed(TransportKind::H3);
    QVERIFY(owner);
    MockTransport *mock = mockOf(owner);
    FakeSession s1, s2;
    auto a = owner->acquireStream(udpRequest(), &s1, &s1);
    auto b = owner->acquireStream(udpRequest(), &s2, &s2);
    QVERIFY(a && b);
    s1.onEvent = [&](const QByteArray &) {
        owner->releaseStream(a->id);
    };
    s2.onEvent = [&](const QByteArray &) {
        owner->releaseStream(b->id);
    };
    mock->simulateDatagram(a->id, "x"); // releases itself from inside onDatagram
    QCOMPARE(owner->streamsInUse(), 1);
    mock->simulateClose(Error(ErrorCode::ConnectionLost)); // and from inside onConnectionClosed
    QCOMPARE(s2.closes, 1);
}

void tst_UpstreamOwnerStreams::closeStreamTellsSession()
{
    UpstreamOwner *owner = dialed();
    QVERIFY(owner);
    FakeSession session;
    auto acquired = owner->acquireStream(udpRequest(), &session, &session);
    QVERIFY(acquired);
    owner->closeStream(acquired->id);
    owner->closeStream(acquired->id);
    QCOMPARE(session.events, (QByteArrayList{"reset local_close"}));
    QVERIFY(mockOf(owner)->called("resetStream", acquired->id));
    QCOMPARE(owner->streamsInUse(), 0);
}

void tst_UpstreamOwnerStreams::releaseFromAnotherThreadIsQueued()
{
    UpstreamOwner *owner = dialed();
    QVERIFY(owner);
    FakeSession session;
    auto acquired = owner->acquireStream(udpRequest(), &session, &session);
    QVERIFY(acquired);
    QThread *releasedOn = nullptr;
    connect(owner, &UpstreamOwner::streamReleased, this,
            [&releasedOn] { releasedOn = QThread::currentThread(); });
    std::unique_ptr<QThread> gui(QThread::create([owner, id = acquired->id] {
        // As the GUI's "close stream" would: a slot invoked from another thread is queued.
        QMetaObject::invokeMethod(owner, [owner, id] { owner->releaseStream(id); });
    }));
    gui->start();
    QVERIFY(gui->wait(2000));
    QTRY_COMPARE(owner->streamsInUse(), 0);
    QCOMPARE(releasedOn, QThread::currentThread());
}

QTEST_GUILESS_MAIN(tst_UpstreamOwnerStreams)
#include "tst_upstream_owner_streams.moc"
