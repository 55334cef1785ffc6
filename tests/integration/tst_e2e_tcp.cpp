// End to end, TCP: TunnelClient (configured from a profile, pooled h2/h3, direct h1) ->
// qmasque-proxy (MasqueProxy on a thread of its own) -> a local TCP echo, for classic CONNECT and
// templated connect-tcp over h1, h2 and h3 forced by the profile. 64 MiB go through each (both
// directions at once, flow-controlled end to end), the SHA-256 of what came back equals the
// SHA-256 of what was sent; on h2/h3 the tunnel then half-closes (our FIN, the echo's FIN) and
// ends with peer_fin, on h1 (no half-close) it is closed after the last byte. The proxy's own
// byte counters agree.

#include "support/E2eBench.h"
#include "support/H3TestPattern.h"
#include "support/ProxyTestTargets.h"
#include "support/TunnelWaiter.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QElapsedTimer>
#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::test;

namespace {

constexpr qint64 kTotal = 64 * 1024 * 1024;
constexpr qsizetype kChunk = 256 * 1024;

// EchoTransfer: writes kTotal bytes of H3TestPattern as fast as the tunnel takes them and reads
// the echo, hashing both directions; consumes at once (the echo is the slow side, if any).
class EchoTransfer
{
public:
    EchoTransfer(TcpTunnel *tunnel, bool halfClose)
        : m_tunnel(tunnel)
        , m_halfClose(halfClose)
    {}

    void start()
    {
        m_tunnel->setReceiver([this](QByteArrayView data) {
            received += data.size();
            m_receivedHash.addData(data);
            m_tunnel->consume(data.size());
            maybeShutdown();
            waiter.poke();
        });
        QObject::connect(m_tunnel, &TunnelSession::closed, m_tunnel, [this] { waiter.poke(); });
        QObject::connect(m_tunnel, &TcpTunnel::writable, m_tunnel, [this] { pump(); });
        QObject::connect(m_tunnel, &TcpTunnel::readFinished, m_tunnel, [this] {
            readFinished = true;
            waiter.poke();
        });
        pump();
    }

    QByteArray sentDigest() { return m_sentHash.result(); }
    QByteArray receivedDigest() { return m_receivedHash.result(); }

    qint64 written = 0;
    qint64 received = 0;
    bool readFinished = false;
    std::optional<Error> writeError;
    TunnelWaiter waiter;

private:
    void pump()
    {
        while (written < kTotal) {
            if (m_chunk.isEmpty()) {
                m_chunk = H3TestPattern::chunk(written,
                                               qsizetype(qMin<qint64>(kChunk, kTotal - written)));
                m_chunkOffset = 0;
            }
            const QByteArrayView rest = QByteArrayView(m_chunk).sliced(m_chunkOffset);
            const Result<qint64> accepted = m_tunnel->write(rest);
            if (!accepted) {
                writeError = accepted.error();
                waiter.poke();
                return;
            }
            if (*accepted == 0)
                return; // full: writable() resumes
            m_sentHash.addData(rest.first(*accepted));
            written += *accepted;
            m_chunkOffset += *accepted;
            if (m_chunkOffset == m_chunk.size())
                m_chunk.clear();
        }
    }

    // maybeShutdown: our FIN once the whole echo is back (the echo target is a QTcpSocket,
    // which cannot half-close: it closes on our FIN, dropping what it still had to echo).
    void maybeShutdown()
    {
        if (!m_halfClose || received < kTotal || m_tunnel->isWriteShut())
            return;
        if (Status shut = m_tunnel->shutdownWrite(); !shut)
            writeError = shut.error();
    }

    TcpTunnel *m_tunnel;
    const bool m_halfClose;
    QByteArray m_chunk;
    qsizetype m_chunkOffset = 0;
    QCryptographicHash m_sentHash{QCryptographicHash::Sha256};
    QCryptographicHash m_receivedHash{QCryptographicHash::Sha256};
};

} // namespace

class tst_E2eTcp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void echo64MiB_data();
    void echo64MiB();

private:
    std::unique_ptr<E2eProxy> m_proxy;
    std::unique_ptr<TcpTarget> m_echo;
};

void tst_E2eTcp::initTestCase()
{
    registerEngineMetaTypes();
    m_proxy = std::make_unique<E2eProxy>(e2eProxyConfig(), true);
    QVERIFY2(m_proxy->start(), qPrintable(m_proxy->error));
    m_echo = std::make_unique<TcpTarget>(TcpTarget::Mode::Echo);
    QVERIFY(m_echo->start());
}

void tst_E2eTcp::echo64MiB_data()
{
    QTest::addColumn<TransportKind>("kind");
    QTest::addColumn<bool>("templated");
    for (TransportKind kind : {TransportKind::H1, TransportKind::H2, TransportKind::H3}) {
        QTest::addRow("%s classic CONNECT", transportKindName(kind)) << kind << false;
        QTest::addRow("%s connect-tcp", transportKindName(kind)) << kind << true;
    }
}

void tst_E2eTcp::echo64MiB()
{
    QFETCH(TransportKind, kind);
    QFETCH(bool, templated);
    Profile profile = m_proxy->profile({kind});
    profile.tcpMode = templated ? TcpMode::Template : TcpMode::Connect;
    E2eClient client(profile);
    QVERIFY2(client.configured.ok(), qPrintable(why(client.configured)));
    const ProxyStats before = m_proxy->stats();

    auto opened = client.openTcp(QStringLiteral("127.0.0.1"), m_echo->port());
    QVERIFY2(opened, qPrintable(why(opened)));
    TcpTunnel *tunnel = *opened;
    QCOMPARE(tunnel->transport(), kind);
    QCOMPARE(tunnel->request().protocol, templated ? QByteArray("connect-tcp") : QByteArray());

    const bool halfClose = tunnel->canHalfClose();
    QCOMPARE(halfClose, kind != TransportKind::H1);
    EchoTransfer transfer(tunnel, halfClose);
    QElapsedTimer clock;
    clock.start();
    transfer.start();
    QVERIFY(transfer.waiter.wait(
        [&] {
            return transfer.writeError || tunnel->state() == TunnelState::Closed ||
                   (transfer.received >= kTotal && (!halfClose || transfer.readFinished));
        },
        120000));
    const qint64 elapsedMs = qMax<qint64>(1, clock.elapsed());
    if (transfer.received < kTotal || (halfClose && !transfer.readFinished)) {
        const ProxyStats live = m_proxy->stats();
        qWarning("stalled: written %lld, received %lld, unconsumed %lld, state %s, write shut %d, "
                 "read finished %d; proxy up %llu down %llu; echo received %lld",
                 static_cast<long long>(transfer.written),
                 static_cast<long long>(transfer.received),
                 static_cast<long long>(tunnel->unconsumed()), tunnelStateName(tunnel->state()),
                 tunnel->isWriteShut(), transfer.readFinished, live.bytesUp - before.bytesUp,
                 live.bytesDown - before.bytesDown, static_cast<long long>(m_echo->received));
    }
    QVERIFY2(!transfer.writeError, qPrintable(transfer.writeError->toString()));
    QCOMPARE(transfer.written, kTotal);
    QCOMPARE(transfer.received, kTotal);
    QCOMPARE(transfer.receivedDigest().toHex(), transfer.sentDigest().toHex());
    qInfo("%s %s: 64 MiB echoed in %lld ms (%.1f MiB/s each way), sha256 %s",
          transportKindName(kind), templated ? "connect-tcp" : "CONNECT",
          static_cast<long long>(elapsedMs), 64.0 * 1000.0 / double(elapsedMs),
          transfer.sentDigest().toHex().left(16).constData());
    QCOMPARE(tunnel->counters().bytesSent, quint64(kTotal));
    QCOMPARE(tunnel->counters().bytesReceived, quint64(kTotal));

    if (halfClose) {
        // Both FINs exchanged: the tunnel ends cleanly.
        const std::optional<Error> reason = waitClosed(tunnel);
        QVERIFY(reason);
        QCOMPARE(reason->code, ErrorCode::PeerFin);
    } else {
        tunnel->close();
        QVERIFY(waitClosed(tunnel));
    }
    // The proxy counted the same bytes (at the tunnel's close).
    QTRY_COMPARE_WITH_TIMEOUT(m_proxy->stats().tunnelsActive, quint64(0), 10000);
    const ProxyStats after = m_proxy->stats();
    QCOMPARE(after.bytesUp - before.bytesUp, quint64(kTotal));
    QCOMPARE(after.bytesDown - before.bytesDown, quint64(kTotal));
    QCOMPARE(after.tunnelsTotal - before.tunnelsTotal, quint64(1));
}

QTEST_GUILESS_MAIN(tst_E2eTcp)
#include "tst_e2e_tcp.moc"
