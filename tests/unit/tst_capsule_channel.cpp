// CapsuleChannel: decoding DATAGRAM and other capsules from stream data, QUIC datagrams, context
// filtering, sending with size checks and counters, whole capsules across short writes.

#include "support/MockTransport.h"
#include "support/TestSupport.h"
#include "transport/StreamHandler.h"
#include "tunnel/CapsuleChannel.h"
#include "wire/Capsule.h"

#include <QtTest/QTest>

using namespace qmasque;
using qmasque::test::fromHex;
using qmasque::test::MockConnect;
using qmasque::test::MockTransport;

namespace {

struct Recorder : CapsuleChannelHandler, StreamHandler
{
    QList<QByteArray> datagrams;
    QList<QPair<quint64, QByteArray>> capsules;
    std::optional<Error> refuseCapsules;
    CapsuleChannel *channel = nullptr;
    int writable = 0;

    void onChannelDatagram(QByteArrayView payload) override { datagrams << payload.toByteArray(); }
    Status onChannelCapsule(quint64 type, QByteArrayView value) override
    {
        capsules.append({type, value.toByteArray()});
        if (refuseCapsules)
            return *refuseCapsules;
        return {};
    }
    void onStreamResponse(StreamId, const Response &) override {}
    void onStreamData(StreamId, QByteArrayView, bool) override {}
    void onStreamReset(StreamId, const Error &) override {}
    void onStreamWritable(StreamId) override
    {
        ++writable;
        channel->flush();
    }
};

} // namespace

class tst_CapsuleChannel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void datagramCapsulesInAnyChunking();
    void otherCapsulesGoToTheHandler();
    void handlerErrorFailsTheChannel();
    void malformedAndTruncated();
    void quicDatagramsAndContexts();
    void creditReturnedForDecodedBytes();
    void sendDatagramChecksAndCounts();
    void capsulesStayWholeAcrossShortWrites();

private:
    MockTransport *m_transport = nullptr;
    StreamId m_stream = -1;
    Recorder m_recorder;
};

void tst_CapsuleChannel::init()
{
    m_transport = new MockTransport(TransportKind::H2, MockConnect::succeed());
    m_transport->simulateConnected();
    Request request;
    request.protocol = "connect-udp";
    auto id = m_transport->submitRequest(request);
    QVERIFY(id.ok());
    m_stream = *id;
    QVERIFY(m_transport->setStreamHandler(m_stream, &m_recorder).ok());
    m_recorder = Recorder();
}

void tst_CapsuleChannel::cleanup()
{
    delete m_transport;
    m_transport = nullptr;
}

void tst_CapsuleChannel::datagramCapsulesInAnyChunking()
{
    // Two DATAGRAM capsules (context 0, "hello" and "") and one with context 2 (dropped).
    const QByteArray bytes = fromHex("00 06 | 00 | 68 65 6c 6c 6f"
                                     "00 01 | 00"
                                     "00 02 | 02 | ff");
    for (qsizetype step = 1; step <= bytes.size(); ++step) {
        Recorder recorder;
        CapsuleChannel channel(&recorder);
        channel.attach(m_transport, m_stream);
        for (qsizetype at = 0; at < bytes.size(); at += step)
            QVERIFY(channel
                        .receiveStreamData(
                            QByteArrayView(bytes).sliced(at).first(qMin(step, bytes.size() - at)),
                            false)
                        .ok());
        QCOMPARE(recorder.datagrams, QList<QByteArray>({"hello", ""}));
        QCOMPARE(channel.counters().datagramsReceived, quint64(2));
        QCOMPARE(channel.counters().dropUnknownContext, quint64(1));
    }
}

void tst_CapsuleChannel::otherCapsulesGoToTheHandler()
{
    CapsuleChannel channel(&m_recorder);
    channel.attach(m_transport, m_stream);
    QByteArray bytes;
    wire::appendCapsule(bytes, 0x01, "assign");
    wire::appendCapsule(bytes, 0x2a2a, "unknown");
    QVERIFY(channel.receiveStreamData(bytes, true).ok());
    QCOMPARE(m_recorder.capsules.size(), 2);
    QCOMPARE(m_recorder.capsules[0].first, quint64(1));
    QCOMPARE(m_recorder.capsules[1].second, QByteArray("unknown"));
    QCOMPARE(channel.counters().capsulesReceived, quint64(2));
}

void tst_CapsuleChannel::handlerErrorFailsTheChannel()
{
    m_recorder.refuseCapsules = Error(ErrorCode::MalformedIpCapsule, QStringLiteral("bad"));
    CapsuleChannel channel(&m_recorder);
    channel.attach(m_transport, m_stream);
    QByteArray bytes;
    wire::appendCapsule(bytes, 0x01, "x");
    wire::appendDatagramCapsule(bytes, fromHex("00 61"));
    const Status status = channel.receiveStreamData(bytes, false);
    QVERIFY(!status.ok());
    QCOMPARE(status.error().code, ErrorCode::MalformedIpCapsule);
    QVERIFY(channel.hasFailed());
    QVERIFY(m_recorder.datagrams.isEmpty()); // nothing after the failing capsule
    QVERIFY(!channel.receiveStreamData(fromHex("00 02 00 62"), false).ok());
    QVERIFY(m_recorder.datagrams.isEmpty());
}

void tst_CapsuleChannel::malformedAndTruncated()
{
    {
        // A DATAGRAM capsule whose value is not a context id varint.
        CapsuleChannel channel(&m_recorder);
        channel.attach(m_transport, m_stream);
        const Status status = channel.receiveStreamData(fromHex("00 01 | 40"), false);
        QCOMPARE(status.error().code, ErrorCode::MalformedCapsule);
    }
    {
        CapsuleChannel channel(&m_recorder, 16);
        channel.attach(m_transport, m_stream);
        const Status status = channel.receiveStreamData(fromHex("00 11"), false);
        QCOMPARE(status.error().code, ErrorCode::CapsuleTooLarge);
    }
    {
        CapsuleChannel channel(&m_recorder);
        channel.attach(m_transport, m_stream);
        QVERIFY(channel.receiveStreamData(fromHex("00 05 00 61"), false).ok());
        const Status status = channel.receiveStreamData({}, true);
        QCOMPARE(status.error().code, ErrorCode::TruncatedCapsule);
    }
    {
        CapsuleChannel channel(&m_recorder);
        channel.attach(m_transport, m_stream);
        QVERIFY(channel.receiveStreamData(fromHex("00 02 00 61"), true).ok());
    }
}

void tst_CapsuleChannel::quicDatagramsAndContexts()
{
    CapsuleChannel channel(&m_recorder);
    channel.attach(m_transport, m_stream);
    channel.receiveDatagram(fromHex("00 | 01 02 03"));
    channel.receiveDatagram(fromHex("04 | 01")); // context 4: dropped
    channel.receiveDatagram(fromHex("40"));      // truncated context id: malformed
    channel.receiveDatagram(fromHex("00"));      // empty payload is a valid datagram
    QCOMPARE(m_recorder.datagrams, QList<QByteArray>({fromHex("01 02 03"), QByteArray()}));
    QCOMPARE(channel.counters().datagramsReceived, quint64(2));
    QCOMPARE(channel.counters().dropUnknownContext, quint64(1));
    QCOMPARE(channel.counters().dropMalformed, quint64(1));
    QCOMPARE(channel.counters().drops(), quint64(2));
}

void tst_CapsuleChannel::creditReturnedForDecodedBytes()
{
    CapsuleChannel channel(&m_recorder);
    channel.attach(m_transport, m_stream);
    QVERIFY(channel.receiveStreamData(fromHex("00 03 00 61"), false).ok());
    QVERIFY(channel.receiveStreamData(fromHex("62"), false).ok());
    QCOMPARE(m_transport->callCount("consumeStreamData"), 2);
    QCOMPARE(m_transport->calls().last().detail, QByteArray("1"));
    QCOMPARE(m_recorder.datagrams, QList<QByteArray>({"ab"}));
}

void tst_CapsuleChannel::sendDatagramChecksAndCounts()
{
    CapsuleChannel channel(&m_recorder);
    channel.attach(m_transport, m_stream);
    m_transport->setMaxDatagramPayload(101);
    QCOMPARE(channel.maxDatagramPayload(), qint64(100));

    QVERIFY(channel.sendDatagram("payload", 65527).ok());
    const auto sent = m_transport->calls().last();
    QCOMPARE(sent.name, QByteArray("sendDatagram"));
    QCOMPARE(sent.detail, QByteArray("\0payload", 8)); // context id 0 in front

    Status tooBig = channel.sendDatagram(QByteArray(101, 'x'), 65527);
    QCOMPARE(tooBig.error().code, ErrorCode::DatagramTooLarge);
    Status overPayload = channel.sendDatagram(QByteArray(50, 'x'), 40);
    QCOMPARE(overPayload.error().code, ErrorCode::PayloadTooLarge);
    m_transport->failNextDatagram(Error(ErrorCode::QueueFull));
    Status full = channel.sendDatagram("x", 65527);
    QCOMPARE(full.error().code, ErrorCode::QueueFull);
    QCOMPARE(channel.counters().datagramsSent, quint64(1));
    QCOMPARE(channel.counters().dropTooLarge, quint64(2));
    QCOMPARE(channel.counters().dropQueueFull, quint64(1));

    channel.detach();
    QCOMPARE(channel.sendDatagram("x", 10).error().code, ErrorCode::StreamClosed);
    QCOMPARE(channel.maxDatagramPayload(), qint64(0));
}

void tst_CapsuleChannel::capsulesStayWholeAcrossShortWrites()
{
    CapsuleChannel channel(&m_recorder);
    m_recorder.channel = &channel;
    channel.attach(m_transport, m_stream);
    m_transport->setSendBudget(m_stream, 3);
    QVERIFY(channel.sendCapsule(0x01, "first").ok());  // 7 bytes, 3 written
    QVERIFY(channel.sendCapsule(0x03, "second").ok()); // queued behind
    QCOMPARE(m_transport->sentData(m_stream).size(), 3);
    QVERIFY(!channel.flush());
    m_transport->grantSendBudget(m_stream, 100); // writable → flush()
    QCOMPARE(m_recorder.writable, 1);
    QByteArray expected;
    wire::appendCapsule(expected, 0x01, "first");
    wire::appendCapsule(expected, 0x03, "second");
    QCOMPARE(m_transport->sentData(m_stream), expected);
    QVERIFY(channel.flush());
}

QTEST_GUILESS_MAIN(tst_CapsuleChannel)
#include "tst_capsule_channel.moc"
