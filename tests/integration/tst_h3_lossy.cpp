// HTTP/3 over a lossy, slow path: a 16 MiB transfer must complete byte-exact with 1% loss and
// 20 ms of delay. Once through a network namespace pair shaped with tc netem (needs root, ip
// netns and the kernel's sch_netem; skipped with the reason otherwise), once through an
// in-process impairing UDP relay that works everywhere.

#include "support/H3LossyRelay.h"
#include "support/H3ServerProcess.h"
#include "support/H3TestClient.h"
#include "support/H3TestServer.h"
#include "support/TestPki.h"
#include "transport/h3/H3Transport.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QProcess>
#include <QtCore/QRandomGenerator>
#include <QtCore/QScopeGuard>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <unistd.h>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

constexpr qint64 kBytes = 16 * 1024 * 1024;

QString part(const char *text)
{
    return QString::fromLatin1(text);
}

QString part(const QString &text)
{
    return text;
}

// cmd: a command line from literals and strings.
template<typename... Parts>
QStringList cmd(const Parts &...parts)
{
    return {part(parts)...};
}

// run: runs a command to completion; false (with its stderr in `error`) when it fails.
bool run(const QStringList &command, QString *error = nullptr)
{
    QProcess process;
    process.start(command.first(), command.mid(1));
    if (!process.waitForFinished(15000) || process.exitStatus() != QProcess::NormalExit ||
        process.exitCode() != 0) {
        if (error) {
            *error = command.join(QLatin1Char(' ')) + QStringLiteral(": ") +
                     QString::fromLocal8Bit(process.readAllStandardError()).trimmed();
        }
        return false;
    }
    return true;
}

// download: fetches kBytes of pattern over `client` and checks every byte.
void download(H3Transport *client, int timeoutMs)
{
    Request request;
    request.protocol = "connect-tcp";
    request.authority = "localhost";
    request.path = "/source/" + QByteArray::number(kBytes);
    H3RecordingHandler handler(client);
    handler.keepData = false;
    handler.verifyPattern = true;
    const auto id = client->submitRequest(request);
    QVERIFY(id);
    handler.id = *id;
    QVERIFY(client->setStreamHandler(*id, &handler));
    QElapsedTimer clock;
    clock.start();
    QTRY_VERIFY_WITH_TIMEOUT(handler.fin || handler.reset ||
                                 client->state() == HttpConnection::State::Closed,
                             timeoutMs);
    QVERIFY(!handler.reset);
    QCOMPARE(handler.received, kBytes);
    QVERIFY(handler.intact);
    const TransportStats stats = client->stats();
    qInfo("16 MiB in %.1f s (%.1f MiB/s); receiver srtt %lld us", clock.elapsed() / 1000.0,
          kBytes / 1048576.0 / (clock.elapsed() / 1000.0), qlonglong(stats.smoothedRttUs));
    QVERIFY(stats.smoothedRttUs >= 15000); // the delay is real
}

} // namespace

class TstH3Lossy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<qmasque::Error>();
        QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
    }

    void netnsNetem()
    {
        if (::geteuid() != 0)
            QSKIP("needs root for ip netns and tc netem");
        // Unique names: other test runs may do the same at the same time.
        const quint32 tag = QRandomGenerator::global()->bounded(0x100000u);
        const QString ns =
            QStringLiteral("qmh3-%1-%2").arg(::getpid()).arg(tag, 5, 16, QLatin1Char('0'));
        const QString outer = QStringLiteral("qh3a%1").arg(tag, 5, 16, QLatin1Char('0'));
        const QString inner = QStringLiteral("qh3b%1").arg(tag, 5, 16, QLatin1Char('0'));
        const QString subnet =
            QStringLiteral("10.%1.%2.").arg(200 + (tag >> 16) % 50).arg((tag >> 8) & 0xff);
        const QString clientAddress = subnet + QString::number((tag & 0x3f) * 4 + 1);
        const QString serverAddress = subnet + QString::number((tag & 0x3f) * 4 + 2);

        QString error;
        if (!run(cmd("ip", "netns", "add", ns), &error))
            QSKIP(qPrintable(QStringLiteral("network namespaces unavailable: ") + error));
        const auto cleanup = qScopeGuard([&] {
            run(cmd("ip", "netns", "del", ns));
            run(cmd("ip", "link", "del", outer));
        });
        const QStringList inNs = cmd("ip", "netns", "exec", ns);
        const QList<QStringList> setup = {
            cmd("ip", "link", "add", outer, "type", "veth", "peer", "name", inner),
            cmd("ip", "link", "set", inner, "netns", ns),
            cmd("ip", "addr", "add", clientAddress + QStringLiteral("/30"), "dev", outer),
            cmd("ip", "link", "set", outer, "up"),
            inNs + cmd("ip", "addr", "add", serverAddress + QStringLiteral("/30"), "dev", inner),
            inNs + cmd("ip", "link", "set", inner, "up"),
            inNs + cmd("ip", "link", "set", "lo", "up"),
        };
        for (const QStringList &command : setup)
            QVERIFY2(run(command, &error), qPrintable(error));
        // 10 ms each way (20 ms round trip) and 1% loss each way.
        if (!run(cmd("tc", "qdisc", "add", "dev", outer, "root", "netem", "delay", "10ms", "loss",
                     "1%"),
                 &error)) {
            QSKIP(qPrintable(QStringLiteral("tc netem unavailable (kernel without sch_netem?): ") +
                             error));
        }
        QVERIFY2(run(inNs + cmd("tc", "qdisc", "add", "dev", inner, "root", "netem", "delay",
                                "10ms", "loss", "1%"),
                     &error),
                 qPrintable(error));

        H3ServerProcess server(inNs);
        QVERIFY2(server.start(serverAddress), qPrintable(server.error()));
        ConnectOptions options = h3ClientOptions(server.port(), serverAddress);
        options.tls.sni = QStringLiteral("localhost"); // the test certificate's name
        Error connectError;
        std::unique_ptr<H3Transport> client(connectH3(options, nullptr, &connectError));
        QVERIFY2(client, qPrintable(connectError.toString()));
        download(client.get(), 120000);
    }

    void impairedRelay()
    {
        H3TestServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        // 10 ms each way (20 ms round trip), 1% loss each way.
        H3LossyRelay relay(QHostAddress::LocalHost, server.port(), {10, 0.01}, {10, 0.01}, 20240);
        QVERIFY(relay.listen());
        Error error;
        std::unique_ptr<H3Transport> client(
            connectH3(h3ClientOptions(relay.port()), nullptr, &error, 30000));
        QVERIFY2(client, qPrintable(error.toString()));
        download(client.get(), 120000);
        qInfo("relay forwarded %llu datagrams, dropped %llu", qulonglong(relay.forwarded()),
              qulonglong(relay.dropped()));
        const TransportStats sender = server.lastConnection()->stats();
        qInfo("sender: srtt %lld us, min rtt %lld us, cwnd %llu, %llu of %llu packets lost",
              qlonglong(sender.smoothedRttUs), qlonglong(sender.minRttUs),
              qulonglong(sender.congestionWindow), qulonglong(sender.packetsLost),
              qulonglong(sender.framesSent));
        QVERIFY(sender.packetsLost > 0); // losses were seen and recovered
        QVERIFY(relay.dropped() > 0);
    }
};

QTEST_GUILESS_MAIN(TstH3Lossy)
#include "tst_h3_lossy.moc"
