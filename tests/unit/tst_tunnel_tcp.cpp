// TcpTunnel on MockTransport: bytes both ways with backpressure (short writes + writable(),
// consume() returning credit), held bytes, half-close in both orders, h1's missing half-close,
// the response rules for TCP.

#include "support/TunnelTestBench.h"
#include "tunnel/TcpTunnel.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

std::unique_ptr<TcpTunnel> openTcp(TunnelTestBench &bench, TransportKind kind)
{
    auto tunnel = std::make_unique<TcpTunnel>(bench.config(kind, bench.tcpTarget()));
    QSignalSpy opened(tunnel.get(), &TunnelSession::opened);
    tunnel->start();
    if (!opened.wait(2000))
        qWarning("tunnel did not open");
    return tunnel;
}

qint64 consumedOn(const MockTransport &transport, StreamId id)
{
    qint64 consumed = 0;
    for (const MockTransport::Call &call : transport.calls()) {
        if (call.name == "consumeStreamData" && call.id == id)
            consumed += call.detail.toLongLong();
    }
    return consumed;
}

} // namespace

class tst_TunnelTcp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void classicConnectOnEveryTransport();
    void writeBackpressure();
    void receiveAndConsume();
    void heldUntilReceiver();
    void halfCloseLocalFirst();
    void halfClosePeerFirst();
    void heldBytesBeforePeerFin();
    void h1CannotHalfClose();
    void h1PeerCloseIsPeerFin();
    void capsuleProtocolRefused();
    void dataBeforeResponseKept();
};

void tst_TunnelTcp::classicConnectOnEveryTransport()
{
    TunnelTestBench bench;
    for (TransportKind kind : {TransportKind::H1, TransportKind::H2, TransportKind::H3}) {
        auto tunnel = openTcp(bench, kind);
        QVERIFY(tunnel->isOpen());
        const Request &request = bench.proxy.lastRequest(kind)->request;
        QVERIFY(request.isClassicConnect());
        QCOMPARE(request.authority, QByteArray("web.example:443"));
        QCOMPARE(tunnel->canHalfClose(), kind != TransportKind::H1);
    }
}

void tst_TunnelTcp::writeBackpressure()
{
    TunnelTestBench bench;
    auto tunnel = openTcp(bench, TransportKind::H2);
    MockTransport *transport = bench.transportOf(*tunnel);
    const StreamId id = tunnel->streamId();
    QSignalSpy writable(tunnel.get(), &TcpTunnel::writable);
    transport->setSendBudget(id, 10);
    const QByteArray data(100, 'd');
    QCOMPARE(*tunnel->write(data), qint64(10));
    QCOMPARE(*tunnel->write(QByteArrayView(data).sliced(10)), qint64(0));
    QCOMPARE(writable.count(), 0);
    transport->grantSendBudget(id, 1000);
    QCOMPARE(writable.count(), 1); // once, for the short writes
    QCOMPARE(*tunnel->write(QByteArrayView(data).sliced(10)), qint64(90));
    transport->grantSendBudget(id, 1);
    QCOMPARE(writable.count(), 1); // no short write since: no signal
    QCOMPARE(transport->sentData(id), data);
    QCOMPARE(tunnel->counters().bytesSent, quint64(100));
}

void tst_TunnelTcp::receiveAndConsume()
{
    TunnelTestBench bench;
    auto tunnel = openTcp(bench, TransportKind::H3);
    MockTransport *transport = bench.transportOf(*tunnel);
    const StreamId id = tunnel->streamId();
    QByteArray received;
    tunnel->setReceiver([&](QByteArrayView data) { received.append(data); });
    transport->simulateData(id, "hello ");
    transport->simulateData(id, "world");
    QCOMPARE(received, QByteArray("hello world"));
    // No credit until the local side drained the bytes: that is the backpressure.
    QCOMPARE(consumedOn(*transport, id), qint64(0));
    QCOMPARE(tunnel->unconsumed(), qint64(11));
    tunnel->consume(6);
    QCOMPARE(consumedOn(*transport, id), qint64(6));
    tunnel->consume(100); // clamped to what is outstanding
    QCOMPARE(consumedOn(*transport, id), qint64(11));
    QCOMPARE(tunnel->unconsumed(), qint64(0));
    QCOMPARE(tunnel->counters().bytesReceived, quint64(11));
}

void tst_TunnelTcp::heldUntilReceiver()
{
    TunnelTestBench bench;
    auto tunnel = openTcp(bench, TransportKind::H2);
    MockTransport *transport = bench.transportOf(*tunnel);
    transport->simulateData(tunnel->streamId(), "before ");
    transport->simulateData(tunnel->streamId(), "receiver");
    QCOMPARE(tunnel->unconsumed(), qint64(15));
    QByteArray received;
    tunnel->setReceiver([&](QByteArrayView data) { received.append(data); });
    QCOMPARE(received, QByteArray("before receiver"));
}

void tst_TunnelTcp::halfCloseLocalFirst()
{
    TunnelTestBench bench;
    auto tunnel = openTcp(bench, TransportKind::H2);
    MockTransport *transport = bench.transportOf(*tunnel);
    const StreamId id = tunnel->streamId();
    QByteArray received;
    tunnel->setReceiver([&](QByteArrayView data) { received.append(data); });
    QVERIFY(tunnel->write("request"));
    QVERIFY(tunnel->shutdownWrite());
    QVERIFY(transport->called("endStream", id));
    QCOMPARE(tunnel->state(), TunnelState::Closing);
    QCOMPARE(tunnel->write("more").error().code, ErrorCode::WriteClosed);
    // The other direction keeps flowing.
    QSignalSpy readFinished(tunnel.get(), &TcpTunnel::readFinished);
    QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
    transport->simulateData(id, "response");
    QCOMPARE(received, QByteArray("response"));
    transport->simulateData(id, {}, true);
    QCOMPARE(readFinished.count(), 1);
    QVERIFY(closed.wait(1000));
    QCOMPARE(closed.first().first().value<Error>().code, ErrorCode::PeerFin);
    QCOMPARE(transport->callCount("endStream"), 1);
    QVERIFY(!transport->called("resetStream", id));
}

void tst_TunnelTcp::halfClosePeerFirst()
{
    TunnelTestBench bench;
    auto tunnel = openTcp(bench, TransportKind::H3);
    MockTransport *transport = bench.transportOf(*tunnel);
    const StreamId id = tunnel->streamId();
    tunnel->setReceiver([](QByteArrayView) {});
    QSignalSpy readFinished(tunnel.get(), &TcpTunnel::readFinished);
    transport->simulateData(id, "last words", true);
    QCOMPARE(readFinished.count(), 1);
    QVERIFY(tunnel->isReadFinished());
    QCOMPARE(tunnel->state(), TunnelState::Closing);
    // Writing is still allowed after the peer's FIN (half-close).
    QCOMPARE(*tunnel->write("reply"), qint64(5));
    QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
    QVERIFY(tunnel->shutdownWrite());
    QVERIFY(closed.wait(1000));
    QCOMPARE(closed.first().first().value<Error>().code, ErrorCode::PeerFin);
    QCOMPARE(transport->sentData(id), QByteArray("reply"));
}

void tst_TunnelTcp::heldBytesBeforePeerFin()
{
    TunnelTestBench bench;
    auto tunnel = openTcp(bench, TransportKind::H2);
    MockTransport *transport = bench.transportOf(*tunnel);
    QSignalSpy readFinished(tunnel.get(), &TcpTunnel::readFinished);
    transport->simulateData(tunnel->streamId(), "tail", true);
    // Nobody received "tail" yet: the FIN is reported after the bytes.
    QCOMPARE(readFinished.count(), 0);
    QByteArray received;
    tunnel->setReceiver([&](QByteArrayView data) {
        received.append(data);
        QCOMPARE(readFinished.count(), 0);
    });
    QCOMPARE(received, QByteArray("tail"));
    QCOMPARE(readFinished.count(), 1);
}

void tst_TunnelTcp::h1CannotHalfClose()
{
    TunnelTestBench bench;
    auto tunnel = openTcp(bench, TransportKind::H1);
    QCOMPARE(tunnel->shutdownWrite().error().code, ErrorCode::NotSupported);
    QCOMPARE(tunnel->state(), TunnelState::Open);
    QVERIFY(tunnel->write("still writable"));
}

void tst_TunnelTcp::h1PeerCloseIsPeerFin()
{
    TunnelTestBench bench;
    auto tunnel = openTcp(bench, TransportKind::H1);
    MockTransport *transport = bench.transportOf(*tunnel);
    tunnel->setReceiver([](QByteArrayView) {});
    QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
    // HTTP/1.1: the proxy closing the socket after the data is the end of the stream.
    transport->simulateData(tunnel->streamId(), "bye", true);
    transport->simulateClose(Error(ErrorCode::ConnectionClosed, QStringLiteral("eof")));
    QVERIFY(closed.wait(1000));
    QCOMPARE(closed.first().first().value<Error>().code, ErrorCode::PeerFin);
}

void tst_TunnelTcp::capsuleProtocolRefused()
{
    TunnelTestBench bench;
    TunnelMockProxy::Answer answer;
    answer.headers = HeaderList{{"capsule-protocol", "?1"}};
    bench.proxy.setAnswer(TransportKind::H2, answer);
    auto tunnel = std::make_unique<TcpTunnel>(bench.config(TransportKind::H2, bench.tcpTarget()));
    QSignalSpy closed(tunnel.get(), &TunnelSession::closed);
    tunnel->start();
    QVERIFY(closed.wait(2000));
    QCOMPARE(closed.first().first().value<Error>().code, ErrorCode::BadResponse);
}

void tst_TunnelTcp::dataBeforeResponseKept()
{
    TunnelTestBench bench;
    bench.proxy.setAnswer(TransportKind::H2, TunnelMockProxy::Answer{false, 0, 0, {}});
    auto tunnel = std::make_unique<TcpTunnel>(bench.config(TransportKind::H2, bench.tcpTarget()));
    QByteArray received;
    tunnel->setReceiver([&](QByteArrayView data) { received.append(data); });
    QCOMPARE(tunnel->write("x").error().code, ErrorCode::NotReady);
    tunnel->start();
    QTRY_VERIFY(bench.proxy.lastRequest(TransportKind::H2));
    MockTransport *transport = bench.proxy.last(TransportKind::H2);
    const StreamId id = bench.proxy.lastRequest(TransportKind::H2)->id;
    transport->simulateData(id, "early");
    QVERIFY(received.isEmpty());
    transport->simulateResponse(id, 200);
    QCOMPARE(received, QByteArray("early"));
    QCOMPARE(tunnel->unconsumed(), qint64(5));
}

QTEST_GUILESS_MAIN(tst_TunnelTcp)
#include "tst_tunnel_tcp.moc"
