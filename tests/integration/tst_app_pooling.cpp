// Pooling for real: 500 curl downloads, 200 at a time, through qmasque's SOCKS5 listener share
// at most 5 upstream connections (50 tunnels per connection here; the proxy allows 100), as the
// --snapshot file shows while they run; after --pool-idle-ms without tunnels the snapshot
// shows no connection at all.

#include "support/AppProcess.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using namespace qmasque::test;

namespace {

constexpr int kDownloads = 500;
constexpr int kBodyBytes = 128 * 1024;
constexpr int kAtOnce = 200; // transfers running at the same time

} // namespace

class tst_AppPooling : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fiveHundredDownloads();
};

void tst_AppPooling::fiveHundredDownloads()
{
    QTemporaryDir dir;
    const QString snapshotPath = dir.filePath(QStringLiteral("snapshot.json"));
    AppProcess app;
    QVERIFY2(
        app.start({QStringLiteral("--headless"), QStringLiteral("--demo"),
                   QStringLiteral("--socks"), QStringLiteral("127.0.0.1:0"),
                   QStringLiteral("--transports"), QStringLiteral("h2"),
                   QStringLiteral("--snapshot"), snapshotPath, QStringLiteral("--snapshot-ms"),
                   QStringLiteral("100"), QStringLiteral("--pool-idle-ms"), QStringLiteral("1500"),
                   QStringLiteral("--log-level"), QStringLiteral("info"),
                   // 500 curl processes starting on a busy 2-core machine slow everything
                   // down: a tunnel waiting for a new pooled connection may wait seconds.
                   QStringLiteral("--connect-timeout-ms"), QStringLiteral("30000"),
                   // 50 of the proxy's 100: a tunnel the pool already counts as closed stays
                   // open in the h2 session until the proxy's END_STREAM arrives (a loaded
                   // machine delays that), and an open the session refuses (stream_limit) is
                   // retried only once by the pool.
                   QStringLiteral("--pool-max-streams"), QStringLiteral("50")}),
        qPrintable(app.error()));
    const QString socks = app.listener(QStringLiteral("socks5"));
    const QString http = app.listener(QStringLiteral("demo-http"));

    // Every transfer reads at 64 KiB/s, so each tunnel stays open for about 2 s and 200 of
    // them are open at the same time.
    QProcess downloads;
    downloads.start(QStringLiteral("bash"),
                    {QStringLiteral("-c"),
                     // One curl running the transfers in parallel, each on its own SOCKS5
                     // connection (HTTP/1.1 does not multiplex, and "Connection: close" stops curl
                     // from reusing a finished one): 500 processes would take longer to start on a
                     // busy machine than the downloads take.
                     QStringLiteral("for i in $(seq %1); do echo \"url = http://%4/%5\"; "
                                    "echo 'output = /dev/null'; done | "
                                    "curl -sS --fail --max-time 60 --parallel --parallel-immediate "
                                    "--parallel-max %2 --limit-rate 64K -H 'Connection: close' "
                                    "--socks5-hostname %3 "
                                    "-w '%{size_download}\\n' --config -")
                         .arg(kDownloads)
                         .arg(kAtOnce)
                         .arg(socks, http)
                         .arg(kBodyBytes)});
    QVERIFY(downloads.waitForStarted());

    qint64 maxConnections = 0;
    qint64 maxStreams = 0;
    qint64 maxDialsStarted = 0;
    int snapshotsRead = 0;
    QElapsedTimer clock;
    clock.start();
    while (downloads.state() != QProcess::NotRunning && clock.elapsed() < 90000) {
        QFile file(snapshotPath);
        if (file.open(QIODevice::ReadOnly)) {
            // Written atomically (rename): never a partial document.
            const QJsonObject snapshot = QJsonDocument::fromJson(file.readAll()).object();
            QVERIFY(!snapshot.isEmpty());
            ++snapshotsRead;
            const QJsonObject totals = snapshot.value(QStringLiteral("totals")).toObject();
            const QJsonObject counters = snapshot.value(QStringLiteral("counters")).toObject();
            const qint64 connections =
                snapshot.value(QStringLiteral("connections")).toArray().size() +
                totals.value(QStringLiteral("dials")).toInteger();
            maxConnections = qMax(maxConnections, connections);
            maxStreams = qMax(maxStreams, totals.value(QStringLiteral("streams")).toInteger());
            maxDialsStarted =
                qMax(maxDialsStarted, counters.value(QStringLiteral("dials_started")).toInteger());
        }
        QTest::qWait(100);
    }
    QCOMPARE(downloads.state(), QProcess::NotRunning);
    const QList<QByteArray> sizes = downloads.readAllStandardOutput().trimmed().split('\n');
    qInfo("%d downloads in %lld ms; at most %lld connections (%lld dials) for %lld streams at "
          "once, %d snapshots read",
          int(sizes.size()), clock.elapsed(), maxConnections, maxDialsStarted, maxStreams,
          snapshotsRead);
    QByteArray failures = downloads.readAllStandardError();
    for (const QByteArray &line : app.stderrLines()) {
        if (line.contains("tunnel-failed"))
            failures += line + '\n';
    }
    QVERIFY2(sizes.size() == kDownloads, failures.constData());
    for (const QByteArray &size : sizes)
        QVERIFY2(size.toLongLong() == qint64(kBodyBytes), failures.constData());
    QVERIFY(snapshotsRead > 5);
    QVERIFY2(maxStreams > 100, "the downloads did not overlap enough to need a second connection");
    QVERIFY(maxConnections >= 2);
    QVERIFY(maxConnections <= 5);
    QVERIFY(maxDialsStarted <= 5);

    // Idle: every connection closes after --pool-idle-ms.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            QFile file(snapshotPath);
            if (!file.open(QIODevice::ReadOnly))
                return false;
            const QJsonObject snapshot = QJsonDocument::fromJson(file.readAll()).object();
            return snapshot.value(QStringLiteral("connections")).toArray().isEmpty() &&
                   snapshot.value(QStringLiteral("totals"))
                           .toObject()
                           .value(QStringLiteral("streams")) == 0 &&
                   snapshot.value(QStringLiteral("engine"))
                           .toObject()
                           .value(QStringLiteral("tunnels_opened")) == kDownloads;
        }(),
        15000);

    app.terminate();
    QVERIFY2(app.waitForExit(15000) == 0, qPrintable(app.exitReport()));
}

QTEST_GUILESS_MAIN(tst_AppPooling)
#include "tst_app_pooling.moc"
