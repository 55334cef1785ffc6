// TcpRelay backpressure, end to end, over h3, h2 and h1: a local application (one end of a
// socketpair) writes 16 MiB into the relay towards a TCP echo behind the real proxy and does
// not read at first. The echoed bytes then pile up only within the tunnel's receive window
// (credit goes back only for bytes the application's socket took), the relay holds no more than
// that window for the socket and no more than one read chunk for the tunnel; once the
// application reads, everything arrives intact and all credit is returned.

#include "local/LocalStreamSocket.h"
#include "local/TcpRelay.h"
#include "support/FrontEndTestBench.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace qmasque;
using namespace qmasque::test;

namespace {

constexpr qint64 kTotal = 16 * 1024 * 1024;
constexpr quint32 kWindow = 256 * 1024;

char patternByte(qint64 offset)
{
    return char((offset * 131 + offset / 65536) & 0xff);
}

} // namespace

class TstFrontendRelay : public QObject
{
    Q_OBJECT

private:
    FrontEndTestBench m_bench;
    QProcess m_echo;
    quint16 m_echoPort = 0;

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<qmasque::Error>();
        if (findTool(QStringLiteral("python3")).isEmpty())
            QSKIP("python3 is needed");
        QVERIFY2(m_bench.start(), qPrintable(m_bench.error));
        QString error;
        QVERIFY2(startTarget(m_echo, {QStringLiteral("echo")}, &m_echoPort, &error),
                 qPrintable(error));
    }

    void cleanupTestCase() { stopProcess(m_echo); }

    void backpressure_data()
    {
        QTest::addColumn<TransportKind>("kind");
        QTest::newRow("h3") << TransportKind::H3;
        QTest::newRow("h2") << TransportKind::H2;
        QTest::newRow("h1") << TransportKind::H1;
    }

    void backpressure()
    {
        QFETCH(TransportKind, kind);
        ConnectOptions tuning;
        tuning.streamReceiveWindow = kWindow;
        tuning.connectionReceiveWindow = 4 * kWindow;
        tuning.streamSendBuffer = 128 * 1024;
        auto client = m_bench.makeClient(kind, tuning);
        QPointer<TcpTunnel> tunnel;
        client->openTcp(QStringLiteral("127.0.0.1"), m_echoPort, this,
                        [&](const Result<TcpTunnel *> &result) {
                            // QVERIFY2 would evaluate its message even on success.
                            if (!result)
                                QFAIL(qPrintable(result.error().toString()));
                            tunnel = *result;
                        });
        QTRY_VERIFY_WITH_TIMEOUT(tunnel, 15000);

        int pair[2];
        QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
        const int application = pair[1];
        const auto closeApplication = qScopeGuard([application] { ::close(application); });
        QVERIFY(::fcntl(application, F_SETFL, O_NONBLOCK) == 0);
        LocalStreamSocket socket{SocketFd(pair[0])};
        TcpRelay relay(&socket, tunnel);
        QSignalSpy finished(&relay, &TcpRelay::finished);
        relay.start();

        QByteArray chunk(64 * 1024, '\0');
        qint64 written = 0;
        auto writeSome = [&] {
            while (written < kTotal) {
                const qsizetype size = qsizetype(qMin<qint64>(chunk.size(), kTotal - written));
                for (qsizetype i = 0; i < size; ++i)
                    chunk[i] = patternByte(written + i);
                const ssize_t n = ::send(application, chunk.constData(), size_t(size), 0);
                if (n <= 0)
                    return;
                written += n;
                if (n < size)
                    return;
            }
            ::shutdown(application, SHUT_WR);
        };

        // The application writes and does not read: the echo comes back until the tunnel's
        // window is used up, and stays there.
        qint64 maxPendingDown = 0;
        qint64 maxPendingUp = 0;
        qint64 maxUnconsumed = 0;
        auto observe = [&] {
            maxPendingDown = qMax(maxPendingDown, relay.pendingDown());
            maxPendingUp = qMax(maxPendingUp, relay.pendingUp());
            if (tunnel)
                maxUnconsumed = qMax(maxUnconsumed, tunnel->unconsumed());
        };
        QVERIFY(QTest::qWaitFor(
            [&] {
                writeSome();
                observe();
                return tunnel && tunnel->unconsumed() >= qint64(kWindow) / 2;
            },
            20000));
        for (int i = 0; i < 50; ++i) {
            writeSome();
            observe();
            QTest::qWait(5);
        }
        QVERIFY(maxUnconsumed <= qint64(kWindow));
        QVERIFY(maxPendingDown <= qint64(kWindow));
        QVERIFY(maxPendingUp <= TcpRelay::kReadChunk);

        // Now it reads: every byte comes back in order, and all credit is returned.
        qint64 received = 0;
        bool intact = true;
        bool eof = false;
        char buffer[65536];
        QVERIFY(QTest::qWaitFor(
            [&] {
                writeSome();
                observe();
                for (;;) {
                    const ssize_t n = ::recv(application, buffer, sizeof(buffer), 0);
                    if (n == 0)
                        eof = true;
                    if (n <= 0)
                        break;
                    for (ssize_t i = 0; i < n && intact; ++i)
                        intact = buffer[i] == patternByte(received + i);
                    received += n;
                }
                // h1 cannot half-close: the echo's FIN never comes; all bytes are the end.
                return kind == TransportKind::H1 ? received == kTotal : eof;
            },
            60000));
        QCOMPARE(written, kTotal);
        QCOMPARE(received, kTotal);
        QVERIFY(intact);
        QVERIFY(maxUnconsumed <= qint64(kWindow));
        QVERIFY(maxPendingDown <= qint64(kWindow));
        if (kind != TransportKind::H1) {
            // Both FINs exchanged: the tunnel ended cleanly and the relay with it.
            QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
            QCOMPARE(finished.first().first().value<Error>().code, ErrorCode::PeerFin);
        } else {
            QTRY_COMPARE_WITH_TIMEOUT(tunnel->unconsumed(), qint64(0), 5000);
        }
        QCOMPARE(relay.bytesUp(), kTotal);
        QCOMPARE(relay.bytesDown(), kTotal);
    }
};

QTEST_GUILESS_MAIN(TstFrontendRelay)
#include "tst_frontend_relay.moc"
