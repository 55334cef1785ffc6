// TCP tunnels over real h1, h2 and h3 on loopback: 8 MiB through the echo, byte-exact both
// ways, with backpressure shown end to end: while the local reader does not consume, the
// proxy's sending stalls within the receive window, and then (h2/h3) our own writing stalls
// too; once the reader drains, everything flows and arrives intact. Then the half-close (h2/h3).

#include "pool/UpstreamPool.h"
#include "support/H3TestPattern.h"
#include "support/TestPki.h"
#include "support/TunnelTestProxy.h"
#include "tunnel/TunnelClient.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

constexpr qint64 kTotal = 8 * 1024 * 1024;
constexpr quint32 kWindow = 256 * 1024;
constexpr qint64 kSendBuffer = 128 * 1024;
constexpr qsizetype kChunk = 64 * 1024;

ServerOptions smallWindows()
{
    ServerOptions options = TunnelTestProxy::serverOptions();
    options.streamReceiveWindow = kWindow;
    options.connectionReceiveWindow = 4 * kWindow;
    options.streamSendBuffer = kSendBuffer;
    return options;
}

ConnectOptions smallClientWindows()
{
    ConnectOptions tuning;
    tuning.streamReceiveWindow = kWindow;
    tuning.connectionReceiveWindow = 4 * kWindow;
    tuning.streamSendBuffer = kSendBuffer;
    return tuning;
}

// Transfer: writes the pattern into the tunnel as fast as it takes it, reads the echo.
struct Transfer
{
    TcpTunnel *tunnel = nullptr;
    qint64 written = 0;
    qint64 received = 0;
    bool intact = true;
    bool consuming = false;
    bool readFinished = false;
    qint64 held = 0; // received, not consumed yet

    void write()
    {
        while (written < kTotal) {
            const qsizetype size = qsizetype(qMin<qint64>(kChunk, kTotal - written));
            const QByteArray chunk = H3TestPattern::chunk(written, size);
            const Result<qint64> accepted = tunnel->write(chunk);
            if (!accepted || *accepted == 0)
                return; // full: writable() calls us again
            written += *accepted;
        }
    }

    void receive(QByteArrayView data)
    {
        intact = intact && H3TestPattern::matches(data, received);
        received += data.size();
        if (consuming)
            tunnel->consume(data.size());
        else
            held += data.size();
    }

    void startConsuming()
    {
        consuming = true;
        tunnel->consume(std::exchange(held, 0));
    }
};

} // namespace

class tst_TunnelTcpTransfer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void transfer_data();
    void transfer();

private:
    TunnelTestProxy m_proxy;
};

void tst_TunnelTcpTransfer::initTestCase()
{
    QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
    QVERIFY2(m_proxy.start(TunnelTestProxy::UdpMode::Serve, smallWindows()),
             qPrintable(m_proxy.error));
}

void tst_TunnelTcpTransfer::transfer_data()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::newRow("h1") << TransportKind::H1;
    QTest::newRow("h2") << TransportKind::H2;
    QTest::newRow("h3") << TransportKind::H3;
}

void tst_TunnelTcpTransfer::transfer()
{
    QFETCH(TransportKind, kind);
    PoolOptions options;
    options.factory = defaultTransportFactory();
    UpstreamPool pool(options);
    TunnelClient client(&pool, defaultTransportFactory());
    QVERIFY(client.configure(m_proxy.profile({kind}), smallClientWindows()));

    QPointer<TcpTunnel> tunnel;
    std::optional<Error> error;
    client.openTcp(QStringLiteral("echo.example"), 7, this, [&](const Result<TcpTunnel *> &result) {
        if (result)
            tunnel = *result;
        else
            error = result.error();
    });
    QTRY_VERIFY_WITH_TIMEOUT(tunnel || error, 10000);
    QVERIFY2(tunnel, qPrintable(error ? error->toString() : QString()));

    Transfer transfer;
    transfer.tunnel = tunnel;
    tunnel->setReceiver([&](QByteArrayView data) { transfer.receive(data); });
    connect(tunnel, &TcpTunnel::writable, this, [&] { transfer.write(); });
    connect(tunnel, &TcpTunnel::readFinished, this, [&] { transfer.readFinished = true; });

    // 1. Nobody reads: the echo's bytes pile up to our receive window, the echo stops taking
    //    ours, and our writes stall: backpressure from the local reader to the local writer.
    QSignalSpy writable(tunnel, &TcpTunnel::writable);
    transfer.write();
    QVERIFY(transfer.written < kTotal);
    qint64 stalledAt = -1;
    for (int round = 0; round < 60 && stalledAt < 0; ++round) {
        // Stalled: no room for 300 ms although we keep offering (writable() would resume us).
        const qint64 before = transfer.written;
        if (!writable.wait(300) && transfer.written == before)
            stalledAt = before;
    }
    QVERIFY(stalledAt >= 0);
    qInfo("%s: stalled after %lld bytes written, %lld received and held (window %u)",
          transportKindName(kind), static_cast<long long>(stalledAt),
          static_cast<long long>(transfer.held), kWindow);
    // h2/h3 flow control bounds what is in flight: our writes stall long before the end.
    // HTTP/1.1 has only TCP's buffers, which the kernel sizes (several MiB on loopback): there
    // the writes may all be absorbed, and the stall shows on the receiving side below.
    if (kind != TransportKind::H1)
        QVERIFY(stalledAt < kTotal / 2);
    // What the proxy may send us unconsumed is bounded by the receive window (h1: the window
    // plus the socket's read buffer).
    const qint64 bound = kWindow + (kind == TransportKind::H1 ? 256 * 1024 + kChunk : 0);
    QVERIFY2(transfer.held <= bound, qPrintable(QString::number(transfer.held)));
    QCOMPARE(tunnel->unconsumed(), transfer.held);

    // 2. The reader drains: everything flows, byte-exact.
    transfer.startConsuming();
    transfer.write();
    QTRY_VERIFY_WITH_TIMEOUT(transfer.written == kTotal, 60000);
    QTRY_VERIFY_WITH_TIMEOUT(transfer.received == kTotal, 60000);
    QVERIFY(transfer.intact);
    QCOMPARE(tunnel->counters().bytesSent, quint64(kTotal));
    QCOMPARE(tunnel->counters().bytesReceived, quint64(kTotal));
    QCOMPARE(tunnel->unconsumed(), qint64(0));

    // 3. The end: half-close where HTTP can do it; the echo answers our FIN with its own.
    QSignalSpy closed(tunnel, &TunnelSession::closed);
    if (tunnel->canHalfClose()) {
        QVERIFY(tunnel->shutdownWrite());
        QVERIFY(closed.wait(5000));
        QVERIFY(transfer.readFinished);
        QCOMPARE(closed.first().first().value<Error>().code, ErrorCode::PeerFin);
    } else {
        QCOMPARE(tunnel->shutdownWrite().error().code, ErrorCode::NotSupported);
        tunnel->close();
        QVERIFY(closed.wait(5000));
    }
}

QTEST_GUILESS_MAIN(tst_TunnelTcpTransfer)
#include "tst_tunnel_tcp_transfer.moc"
