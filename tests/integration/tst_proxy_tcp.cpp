// qmasque-proxy, TCP tunnels over h1, h2 and h3 (classic CONNECT, and templated connect-tcp over
// h2/h3), driven by the real client transports: 16 MiB each way byte-exact through a local TCP
// echo with backpressure, the target's half-close (its FIN reaches the client, the client's
// bytes still reach the target), and a target reset turned into CONNECT_ERROR.

#include "proxy/MasqueProxy.h"
#include "support/H2TestUtil.h"
#include "support/H3TestPattern.h"
#include "support/ProxyTestClient.h"
#include "support/ProxyTestTargets.h"

#include <QtCore/QElapsedTimer>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

constexpr quint64 kH2ConnectError = 0xa;   // RFC 9113, 7
constexpr quint64 kH3ConnectError = 0x10f; // RFC 9114, 8.1

Request tcpRequest(bool templated, const QString &proxyAuthority, quint16 port)
{
    return templated ? tcpTemplateRequest(proxyAuthority, QStringLiteral("127.0.0.1"), port)
                     : tcpClassicRequest(QStringLiteral("127.0.0.1:%1").arg(port));
}

} // namespace

class TstProxyTcp : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<ProxyTestServer> m_server;

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
    }

    void cleanupTestCase() { m_server.reset(); }

    void bulkEcho_data()
    {
        QTest::addColumn<TransportKind>("kind");
        QTest::addColumn<bool>("templated");
        QTest::newRow("h1 CONNECT") << TransportKind::H1 << false;
        QTest::newRow("h2 CONNECT") << TransportKind::H2 << false;
        QTest::newRow("h3 CONNECT") << TransportKind::H3 << false;
        QTest::newRow("h2 connect-tcp") << TransportKind::H2 << true;
        QTest::newRow("h3 connect-tcp") << TransportKind::H3 << true;
    }
    void bulkEcho()
    {
        QFETCH(TransportKind, kind);
        QFETCH(bool, templated);
        TcpTarget echo(TcpTarget::Mode::Echo);
        QVERIFY(echo.start());
        Transport *transport = connectClient(kind);
        QVERIFY(transport);
        ProxyTestStream stream(transport, false);
        QVERIFY(stream.open(tcpRequest(templated, m_server->authority(), echo.port())).ok());
        QVERIFY(stream.waitForResponse());
        QCOMPARE(stream.response->status, 200);
        QVERIFY(stream.header("capsule-protocol").isNull());

        constexpr qint64 kTotal = 16 * 1024 * 1024;
        QElapsedTimer clock;
        clock.start();
        stream.startUpload(kTotal, false);
        QVERIFY(waitUntil([&] { return stream.received >= kTotal || stream.reset; }, 60000));
        qInfo("%s: 16 MiB up and echoed down in %lld ms", QTest::currentDataTag(), clock.elapsed());
        QCOMPARE(stream.received, kTotal);
        QVERIFY(H3TestPattern::matches(stream.data, 0));

        // The client's FIN reaches the echo, which closes; its FIN comes back (h1 cannot
        // half-close: ending the stream closes the connection).
        QVERIFY(transport->endStream(stream.id).ok());
        if (kind != TransportKind::H1) {
            QVERIFY(waitUntil([&] { return stream.fin || stream.reset; }, 10000));
            QVERIFY(!stream.reset);
        }
        QVERIFY(waitUntil([&] { return echo.peerFinished; }));
        QVERIFY(waitUntil([&] { return m_server->proxy().stats().tunnelsActive == 0; }));
        delete transport;
    }

    void targetHalfClose_data()
    {
        QTest::addColumn<TransportKind>("kind");
        QTest::newRow("h1") << TransportKind::H1;
        QTest::newRow("h2") << TransportKind::H2;
        QTest::newRow("h3") << TransportKind::H3;
    }
    void targetHalfClose()
    {
        QFETCH(TransportKind, kind);
        TcpTarget source(TcpTarget::Mode::SourceThenHalfClose);
        source.sourceBytes = 1024 * 1024;
        QVERIFY(source.start());
        Transport *transport = connectClient(kind);
        QVERIFY(transport);
        ProxyTestStream stream(transport, false);
        QVERIFY(
            stream.open(tcpClassicRequest(QStringLiteral("127.0.0.1:%1").arg(source.port()))).ok());
        QVERIFY(stream.waitForResponse());
        QCOMPARE(stream.response->status, 200);

        // The target's bytes and then its FIN.
        QVERIFY(waitUntil([&] { return stream.fin || stream.reset; }, 20000));
        QVERIFY(!stream.reset);
        QCOMPARE(stream.received, source.sourceBytes);
        QVERIFY(H3TestPattern::matches(stream.data, 0));
        if (kind == TransportKind::H1)
            return; // the end of the stream closed the h1 connection: nothing goes up any more

        // Half-close: the way up is still open; the target gets everything and our FIN.
        constexpr qint64 kUp = 512 * 1024;
        stream.startUpload(kUp, true);
        QVERIFY(waitUntil([&] { return source.peerFinished; }, 20000));
        QCOMPARE(source.received, kUp);
        QVERIFY(source.receivedIntact);
        QVERIFY(waitUntil([&] { return m_server->proxy().stats().tunnelsActive == 0; }));
        QVERIFY(!stream.reset);
        delete transport;
    }

    void backpressure_data()
    {
        QTest::addColumn<TransportKind>("kind");
        QTest::newRow("h2") << TransportKind::H2;
        QTest::newRow("h3") << TransportKind::H3;
    }
    void backpressure()
    {
        // Neither direction is buffered without bound in the proxy: a client that does not
        // read stalls the target, a target that does not read stalls the client; what is held
        // in between is the windows and socket buffers, well below the 64 MiB offered.
        QFETCH(TransportKind, kind);
        constexpr qint64 kTotal = 64 * 1024 * 1024;
        constexpr qint64 kBound = 48 * 1024 * 1024; // 16 MiB window + socket buffers, margin
        Transport *transport = connectClient(kind);
        QVERIFY(transport);

        // Down: the client takes nothing.
        TcpTarget source(TcpTarget::Mode::SourceThenHalfClose);
        source.sourceBytes = kTotal;
        QVERIFY(source.start());
        ProxyTestStream down(transport, false);
        down.autoConsume = false;
        QVERIFY(
            down.open(tcpClassicRequest(QStringLiteral("127.0.0.1:%1").arg(source.port()))).ok());
        QVERIFY(down.waitForResponse());
        QCOMPARE(down.response->status, 200);
        QVERIFY(waitUntil([&] { return down.received >= 8 * 1024 * 1024; }, 20000));
        waitUntil([] { return false; }, 300); // let a proxy that buffers show it
        qInfo("%s: client stalled after %lld bytes, the target had sent %lld",
              QTest::currentDataTag(), down.received, source.sourceSent());
        QVERIFY2(source.sourceSent() < kBound,
                 qPrintable(QStringLiteral("%1 bytes left the target").arg(source.sourceSent())));
        // Reading again: everything arrives, intact.
        transport->consumeStreamData(down.id, down.received);
        down.autoConsume = true;
        QVERIFY(waitUntil([&] { return down.fin || down.reset; }, 60000));
        QCOMPARE(down.received, kTotal);
        QVERIFY(H3TestPattern::matches(down.data, 0));
        QVERIFY(transport->endStream(down.id).ok());

        // Up: the target reads nothing.
        TcpTarget sink(TcpTarget::Mode::Sink);
        QVERIFY(sink.start());
        sink.setReadPaused(true);
        ProxyTestStream up(transport, false);
        QVERIFY(up.open(tcpClassicRequest(QStringLiteral("127.0.0.1:%1").arg(sink.port()))).ok());
        QVERIFY(up.waitForResponse());
        QCOMPARE(up.response->status, 200);
        up.startUpload(kTotal, true);
        QVERIFY(waitUntil([&] { return up.uploaded >= 8 * 1024 * 1024; }, 20000));
        waitUntil([] { return false; }, 300);
        qInfo("%s: target stalled, the client could hand over %lld bytes", QTest::currentDataTag(),
              up.uploaded);
        QVERIFY2(up.uploaded < kBound,
                 qPrintable(QStringLiteral("%1 bytes accepted from the client").arg(up.uploaded)));
        sink.setReadPaused(false);
        QVERIFY(waitUntil([&] { return sink.peerFinished && sink.received == kTotal; }, 60000));
        QVERIFY(sink.receivedIntact);
        QVERIFY(waitUntil([&] { return m_server->proxy().stats().tunnelsActive == 0; }));
        delete transport;
    }

    void targetReset_data()
    {
        QTest::addColumn<TransportKind>("kind");
        QTest::newRow("h2") << TransportKind::H2;
        QTest::newRow("h3") << TransportKind::H3;
    }
    void targetReset()
    {
        QFETCH(TransportKind, kind);
        TcpTarget resetting(TcpTarget::Mode::ResetOnData);
        QVERIFY(resetting.start());
        Transport *transport = connectClient(kind);
        QVERIFY(transport);
        ProxyTestStream stream(transport, false);
        QVERIFY(stream.open(tcpClassicRequest(QStringLiteral("127.0.0.1:%1").arg(resetting.port())))
                    .ok());
        QVERIFY(stream.waitForResponse());
        QCOMPARE(stream.response->status, 200);
        QVERIFY(transport->sendStreamData(stream.id, "hello").ok());
        // RFC 9113, 8.5 / RFC 9114, 4.4: a TCP reset becomes CONNECT_ERROR on the stream.
        QVERIFY(waitUntil([&] { return stream.reset.has_value(); }, 10000));
        QCOMPARE(stream.reset->code, ErrorCode::PeerReset);
        QCOMPARE(stream.reset->wireCode,
                 kind == TransportKind::H2 ? kH2ConnectError : kH3ConnectError);
        QVERIFY(waitUntil([&] { return m_server->proxy().stats().tunnelsActive == 0; }));
        delete transport;
    }
};

QTEST_MAIN(TstProxyTcp)
#include "tst_proxy_tcp.moc"
