// qmasque's process contract: SIGTERM during transfers exits 0 after closing every tunnel (and
// logging each close, and writing the --snapshot file a last time); start-up failures exit 1
// (runtime) or 2 (command line, profile) with one "qmasque: error:" line naming the cause; --help
// and --version need no display; without a display the app says so and runs headless.

#include "api/Profile.h"
#include "api/Version.h"
#include "support/AppProcess.h"
#include "support/ProxyTestTargets.h"

#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QTcpServer>
#include <QtTest/QTest>

using namespace qmasque;
using namespace Qt::StringLiterals;
using namespace qmasque::test;

namespace {

QList<QByteArray> errorLines(AppProcess &app)
{
    QList<QByteArray> lines;
    for (const QByteArray &line : app.stderrLines()) {
        if (line.startsWith("qmasque: error:"))
            lines.append(line);
    }
    return lines;
}

} // namespace

class tst_AppLifecycle : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sigtermDuringTransfers();
    void sigintWhenIdle();
    void startupFailures_data();
    void startupFailures();
    void portInUse();
    void proxyUnreachable();
    void helpAndVersion();
    void noDisplayRunsHeadless();
};

void tst_AppLifecycle::sigtermDuringTransfers()
{
    QTemporaryDir files;
    const QString snapshotPath = files.filePath(QStringLiteral("snapshot.json"));
    AppProcess app;
    QVERIFY2(app.start({QStringLiteral("--headless"), QStringLiteral("--demo"),
                        QStringLiteral("--socks"), QStringLiteral("127.0.0.1:0"),
                        QStringLiteral("--snapshot"), snapshotPath}),
             qPrintable(app.error()));
    const QString socks = app.listener(QStringLiteral("socks5"));
    const QString http = app.listener(QStringLiteral("demo-http"));
    // Three slow downloads (1 MiB/s of 64 MiB): all still running when the signal comes, and
    // each has received its first bytes (its output file grew).
    QList<QProcess *> downloads;
    for (int i = 0; i < 3; ++i) {
        auto *curl = new QProcess(this);
        curl->start(QStringLiteral("curl"),
                    {QStringLiteral("-sS"), QStringLiteral("--limit-rate"), QStringLiteral("1M"),
                     QStringLiteral("--socks5-hostname"), socks,
                     QStringLiteral("http://%1/64M").arg(http), QStringLiteral("-o"),
                     files.filePath(QString::number(i))});
        downloads.append(curl);
    }
    QTRY_COMPARE_WITH_TIMEOUT(app.standardError().count("qmasque.engine: tunnel-open id="), 3,
                              15000);
    for (int i = 0; i < 3; ++i)
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(files.filePath(QString::number(i))).size() > 0, 15000);
    for (QProcess *curl : downloads)
        QCOMPARE(curl->state(), QProcess::Running);

    app.terminate();
    QVERIFY2(app.waitForExit(15000) == 0, qPrintable(app.exitReport()));
    const QByteArray log = app.standardError();
    QCOMPARE(log.count("qmasque.engine: tunnel-close id="), 3);
    for (const QByteArray &line : app.stderrLines()) {
        if (line.contains("qmasque.engine: tunnel-close id=")) {
            QVERIFY2(line.contains(QByteArray("target=" + http.toLatin1())), line.constData());
            QVERIFY2(line.contains("reason=local_close"), line.constData());
            QVERIFY2(!line.contains("bytes_received=0 "), line.constData());
        }
    }
    QVERIFY(errorLines(app).isEmpty());
    // The snapshot file was written a last time on the way out: a whole JSON document that
    // counts the three tunnels and says the engine stopped.
    QFile snapshotFile(snapshotPath);
    QVERIFY(snapshotFile.open(QIODevice::ReadOnly));
    QJsonParseError parseError;
    const QJsonDocument snapshot = QJsonDocument::fromJson(snapshotFile.readAll(), &parseError);
    QVERIFY2(parseError.error == QJsonParseError::NoError, qPrintable(parseError.errorString()));
    QCOMPARE(snapshot.object()
                 .value(QStringLiteral("engine"))
                 .toObject()
                 .value(QStringLiteral("tunnels_opened"))
                 .toInteger(),
             3);
    QCOMPARE(snapshot.object()
                 .value(QStringLiteral("engine"))
                 .toObject()
                 .value(QStringLiteral("state"))
                 .toString(),
             QStringLiteral("stopped"));
    // The clients saw their connections end.
    for (QProcess *curl : downloads)
        QVERIFY(curl->waitForFinished(10000));
    qDeleteAll(downloads);
}

void tst_AppLifecycle::sigintWhenIdle()
{
    AppProcess app;
    QVERIFY2(app.start({QStringLiteral("--headless"), QStringLiteral("--demo"),
                        QStringLiteral("--socks"), QStringLiteral("127.0.0.1:0")}),
             qPrintable(app.error()));
    app.interrupt();
    QVERIFY2(app.waitForExit(15000) == 0, qPrintable(app.exitReport()));
}

void tst_AppLifecycle::startupFailures_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("config"); // a profile file, when not empty
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QByteArray>("named");
    QTest::newRow("unknown flag") << QStringList{u"--headless"_s, u"--bogus"_s} << QByteArray() << 2
                                  << QByteArray("bogus");
    QTest::newRow("bad value") << QStringList{u"--headless"_s, u"--demo"_s, u"--pool-idle-ms"_s,
                                              u"soon"_s}
                               << QByteArray() << 2 << QByteArray("pool-idle-ms");
    QTest::newRow("out of range") << QStringList{u"--headless"_s, u"--demo"_s, u"--snapshot-ms"_s,
                                                 u"1"_s}
                                  << QByteArray() << 2 << QByteArray("snapshot-ms");
    QTest::newRow("no proxy") << QStringList{u"--headless"_s} << QByteArray() << 2
                              << QByteArray("proxy");
    QTest::newRow("bad socks address")
        << QStringList{u"--headless"_s, u"--demo"_s, u"--socks"_s, u"x y"_s} << QByteArray() << 2
        << QByteArray("socks");
    QTest::newRow("unknown profile key")
        << QStringList{u"--headless"_s}
        << QByteArray(R"({"proxy": "https://p.example", "bogus": 1})") << 2 << QByteArray("bogus");
    QTest::newRow("wrongly typed profile key")
        << QStringList{u"--headless"_s} << QByteArray(R"({"demo": true, "socks": 1080})") << 2
        << QByteArray("socks");
    QTest::newRow("snapshot directory missing")
        << QStringList{u"--headless"_s,  u"--demo"_s,     u"--socks"_s,
                       u"127.0.0.1:0"_s, u"--snapshot"_s, u"/nonexistent/dir/snapshot.json"_s}
        << QByteArray() << 1 << QByteArray("/nonexistent/dir/snapshot.json");
}

void tst_AppLifecycle::startupFailures()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, config);
    QFETCH(int, exitCode);
    QFETCH(QByteArray, named);
    AppProcess app;
    if (!config.isEmpty()) {
        const QString path = app.configDirectory() + QStringLiteral("/given.json");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(config);
        file.close();
        arguments << QStringLiteral("--config") << path;
    }
    QCOMPARE(app.run(arguments), exitCode);
    const QList<QByteArray> errors = errorLines(app);
    QCOMPARE(errors.size(), 1);
    QVERIFY2(errors.first().contains(named), errors.first().constData());
    QVERIFY(!app.standardOutput().contains("ready"));
}

void tst_AppLifecycle::portInUse()
{
    QTcpServer taken;
    QVERIFY(taken.listen(QHostAddress::LocalHost, 0));
    const QString address = QStringLiteral("127.0.0.1:%1").arg(taken.serverPort());
    AppProcess app;
    QCOMPARE(app.run({QStringLiteral("--headless"), QStringLiteral("--demo"),
                      QStringLiteral("--socks"), address}),
             1);
    const QList<QByteArray> errors = errorLines(app);
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.first(),
             "qmasque: error: socks5 " + address.toLatin1() + ": address in use (address_in_use)");
}

void tst_AppLifecycle::proxyUnreachable()
{
    // Nothing listens there: the start-up probe fails with the first transport's error.
    const quint16 port = unusedTcpPort();
    AppProcess app;
    QCOMPARE(
        app.run({QStringLiteral("--headless"), QStringLiteral("--proxy"),
                 QStringLiteral("https://127.0.0.1:%1").arg(port), QStringLiteral("--transports"),
                 QStringLiteral("h2,h1"), QStringLiteral("--socks"), QStringLiteral("127.0.0.1:0"),
                 QStringLiteral("--connect-timeout-ms"), QStringLiteral("2000")}),
        1);
    const QList<QByteArray> errors = errorLines(app);
    QCOMPARE(errors.size(), 1);
    QVERIFY2(errors.first().contains("unreachable") &&
                 errors.first().contains("connection_refused"),
             errors.first().constData());
}

void tst_AppLifecycle::helpAndVersion()
{
    // help2man runs these on build machines: no display, no profile.
    AppProcess app;
    app.environment().remove(QStringLiteral("DISPLAY"));
    app.environment().remove(QStringLiteral("WAYLAND_DISPLAY"));
    app.environment().remove(QStringLiteral("QT_QPA_PLATFORM"));
    QCOMPARE(app.run({QStringLiteral("--help")}), 0);
    const QByteArray help = app.standardOutput();
    QVERIFY(help.startsWith("Usage: "));
    for (const ProfileOption &option : Profile::options())
        QVERIFY2(help.contains(QByteArray("--" + option.key.toLatin1())), qPrintable(option.key));
    AppProcess version;
    version.environment().remove(QStringLiteral("QT_QPA_PLATFORM"));
    QCOMPARE(version.run({QStringLiteral("--version")}), 0);
    QCOMPARE(version.standardOutput(), QByteArray("qmasque ") + kVersion + '\n');
}

void tst_AppLifecycle::noDisplayRunsHeadless()
{
    AppProcess app;
    app.environment().remove(QStringLiteral("DISPLAY"));
    app.environment().remove(QStringLiteral("WAYLAND_DISPLAY"));
    app.environment().remove(QStringLiteral("QT_QPA_PLATFORM"));
    QVERIFY2(app.start({QStringLiteral("--demo"), QStringLiteral("--socks"),
                        QStringLiteral("127.0.0.1:0")}),
             qPrintable(app.error()));
    QVERIFY(app.standardError().contains("qmasque: no display"));
    app.terminate();
    QVERIFY2(app.waitForExit(15000) == 0, qPrintable(app.exitReport()));
}

QTEST_GUILESS_MAIN(tst_AppLifecycle)
#include "tst_app_lifecycle.moc"
