// qmasque --metrics: GET /metrics after real traffic through the demo (3 downloads, 200 UDP
// datagrams, 5 fragmented datagrams), parsed and checked against that traffic, including the
// embedded proxy's own families in the same exposition.

#include "support/AppProcess.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QRegularExpression>
#include <QtTest/QTest>

using namespace qmasque::test;

namespace {

// Exposition: name{labels} -> value, from OpenMetrics text.
using Exposition = QHash<QString, double>;

Exposition parseExposition(const QByteArray &text, QString *problem)
{
    Exposition samples;
    const QList<QByteArray> lines = text.split('\n');
    static const QRegularExpression sampleLine(
        QStringLiteral(R"(^([a-z_]+)(\{[^}]*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|\+Inf)$)"));
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QString line = QString::fromUtf8(lines[i]);
        if (line.isEmpty() && i == lines.size() - 1)
            break;
        if (line == u"# EOF") {
            if (i != lines.size() - 2)
                *problem = QStringLiteral("# EOF is not the last line");
            continue;
        }
        if (line.startsWith(u"# TYPE ") || line.startsWith(u"# HELP "))
            continue;
        const QRegularExpressionMatch match = sampleLine.match(line);
        if (!match.hasMatch()) {
            *problem = QStringLiteral("not a sample: ") + line;
            continue;
        }
        samples.insert(match.captured(1) + match.captured(2), match.captured(3).toDouble());
    }
    if (!text.endsWith("# EOF\n"))
        *problem = QStringLiteral("no # EOF at the end");
    return samples;
}

} // namespace

class tst_AppMetrics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void afterTraffic();
};

void tst_AppMetrics::afterTraffic()
{
    AppProcess app;
    QVERIFY2(app.start({QStringLiteral("--headless"), QStringLiteral("--demo"),
                        QStringLiteral("--socks"), QStringLiteral("127.0.0.1:0"),
                        QStringLiteral("--metrics"), QStringLiteral("127.0.0.1:0"),
                        QStringLiteral("--transports"), QStringLiteral("h2")}),
             qPrintable(app.error()));
    const QString socks = app.listener(QStringLiteral("socks5"));
    const QString http = app.listener(QStringLiteral("demo-http"));
    const QString echo = app.listener(QStringLiteral("demo-udp-echo"));
    const QString metrics = app.listener(QStringLiteral("metrics"));
    QVERIFY(!metrics.isEmpty() && !metrics.endsWith(u":0"));

    for (int i = 0; i < 3; ++i) {
        const CommandResult download = runCommand(
            QStringLiteral("curl"),
            {QStringLiteral("-sS"), QStringLiteral("--fail"), QStringLiteral("--socks5-hostname"),
             socks, QStringLiteral("http://%1/1M").arg(http), QStringLiteral("-o"),
             QStringLiteral("/dev/null")},
            30000);
        QVERIFY2(download.exitCode == 0, download.err.constData());
    }
    const CommandResult udp =
        runCommand(QStringLiteral("python3"),
                   {scriptPath(QStringLiteral("socks5_udp_echo.py")), QStringLiteral("--socks"),
                    socks, QStringLiteral("--target"), echo, QStringLiteral("--count"),
                    QStringLiteral("200"), QStringLiteral("--size"), QStringLiteral("100")},
                   60000);
    QVERIFY2(udp.exitCode == 0, QByteArray(udp.out + udp.err).constData());
    QCOMPARE(QJsonDocument::fromJson(udp.out).object().value(QStringLiteral("received")).toInt(),
             200);
    // RFC 1928, 7: FRAG != 0 is dropped (and counted), never forwarded: no tunnel opens.
    const CommandResult fragments = runCommand(
        QStringLiteral("python3"),
        {scriptPath(QStringLiteral("socks5_udp_echo.py")), QStringLiteral("--socks"), socks,
         QStringLiteral("--target"), echo, QStringLiteral("--count"), QStringLiteral("5"),
         QStringLiteral("--fragment"), QStringLiteral("--timeout"), QStringLiteral("0.5")},
        60000);
    QCOMPARE(
        QJsonDocument::fromJson(fragments.out).object().value(QStringLiteral("received")).toInt(),
        0);

    // The closes are logged when the tunnels have ended; scrape until they are all counted.
    Exposition samples;
    QString problem;
    const auto scrape = [&] {
        const CommandResult result = runCommand(QStringLiteral("curl"),
                                                {QStringLiteral("-sS"), QStringLiteral("--fail"),
                                                 QStringLiteral("http://%1/metrics").arg(metrics)},
                                                10000);
        problem.clear();
        samples = parseExposition(result.out, &problem);
        return result.exitCode == 0;
    };
    const QString closedTcp = QStringLiteral(
        R"(qmasque_tunnels_closed_total{protocol="tcp",transport="h2",reason="local_close"})");
    const QString closedUdp = QStringLiteral(
        R"(qmasque_tunnels_closed_total{protocol="udp",transport="h2",reason="local_close"})");
    QTRY_VERIFY_WITH_TIMEOUT(
        scrape() && samples.value(closedTcp) == 3 && samples.value(closedUdp) == 1, 10000);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));

    const auto value = [&](const char *series) {
        return samples.value(QString::fromLatin1(series), -1);
    };
    QCOMPARE(value(R"(qmasque_tunnels_opened_total{protocol="tcp",transport="h2"})"), 3.0);
    QCOMPARE(value(R"(qmasque_tunnels_opened_total{protocol="udp",transport="h2"})"), 1.0);
    QCOMPARE(value(R"(qmasque_tunnel_open_latency_seconds_count{transport="h2"})"), 4.0);
    QCOMPARE(value(R"(qmasque_races_total{winner="h2"})"), 4.0);
    QVERIFY(value(R"(qmasque_tunnel_open_latency_seconds_sum{transport="h2"})") > 0);
    // The start-up probe dialed the one connection every tunnel then shared.
    QCOMPARE(value("qmasque_dials_total"), 1.0);
    QCOMPARE(value("qmasque_dials_failed_total"), 0.0);
    QCOMPARE(value(R"(qmasque_upstream_connections{transport="h2",state="ready"})"), 1.0);
    // Payload: three bodies of 1 MiB plus their HTTP heads down; requests and 200 x 100 bytes
    // up; 200 datagrams each way.
    const double received = value("qmasque_bytes_received_total");
    QVERIFY2(received >= 3 * 1048576.0 + 200 * 100 && received < 3 * 1048576.0 + 200 * 100 + 4096,
             qPrintable(QString::number(received)));
    const double sent = value("qmasque_bytes_sent_total");
    QVERIFY2(sent >= 200 * 100 && sent < 200 * 100 + 4096, qPrintable(QString::number(sent)));
    QCOMPARE(value("qmasque_datagrams_sent_total"), 200.0);
    QCOMPARE(value("qmasque_datagrams_received_total"), 200.0);
    QCOMPARE(value(R"(qmasque_drops_total{reason="socks5_udp_fragmented"})"), 5.0);
    QCOMPARE(value(R"(qmasque_tunnels_open{protocol="tcp",transport="h2"})"), -1.0);
    QCOMPARE(value(QStringLiteral(R"(qmasque_local_clients{listener="socks5 %1"})")
                       .arg(socks)
                       .toLatin1()
                       .constData()),
             0.0);
    // The embedded proxy saw the same tunnels.
    QCOMPARE(value(R"(qmasque_proxy_tunnels_total{protocol="tcp",transport="h2"})"), 3.0);
    QCOMPARE(value(R"(qmasque_proxy_tunnels_total{protocol="udp",transport="h2"})"), 1.0);

    app.terminate();
    QVERIFY2(app.waitForExit(15000) == 0, qPrintable(app.exitReport()));
}

QTEST_GUILESS_MAIN(tst_AppMetrics)
#include "tst_app_metrics.moc"
