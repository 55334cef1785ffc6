// OpenMetrics text rendering of counters, gauges and histograms.

#include "core/MetricsRegistry.h"

#include <QtTest/QTest>

using qmasque::MetricsRegistry;

class tst_MetricsRegistry : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void countersAndGauges();
    void histogramBucketsAreCumulative();
    void labelValuesAreEscaped();
    void misuseIsIgnored();
};

void tst_MetricsRegistry::countersAndGauges()
{
    MetricsRegistry r;
    r.declare("qmasque_dials", "Upstream dials by transport and result.",
              MetricsRegistry::Type::Counter, {"transport", "result"});
    r.declare("qmasque_connections", "Pooled connections by state.", MetricsRegistry::Type::Gauge,
              {"state"});
    r.add("qmasque_dials", {"h3", "ok"});
    r.add("qmasque_dials", {"h3", "ok"}, 2);
    r.add("qmasque_dials", {"h2", "error"});
    r.set("qmasque_connections", {"ready"}, 3);
    QCOMPARE(r.value("qmasque_dials", {"h3", "ok"}), 3.0);
    const QByteArray text = r.render();
    QVERIFY(text.contains("# TYPE qmasque_dials counter\n"));
    QVERIFY(text.contains("# HELP qmasque_dials Upstream dials by transport and result.\n"));
    QVERIFY(text.contains("qmasque_dials_total{transport=\"h3\",result=\"ok\"} 3\n"));
    QVERIFY(text.contains("qmasque_dials_total{transport=\"h2\",result=\"error\"} 1\n"));
    QVERIFY(text.contains("# TYPE qmasque_connections gauge\n"));
    QVERIFY(text.contains("qmasque_connections{state=\"ready\"} 3\n"));
    QVERIFY(text.endsWith("# EOF\n"));
    r.clearSamples("qmasque_connections");
    QVERIFY(!r.render().contains("qmasque_connections{"));
}

void tst_MetricsRegistry::histogramBucketsAreCumulative()
{
    MetricsRegistry r;
    r.declare("qmasque_tunnel_open_seconds", "Tunnel open latency.",
              MetricsRegistry::Type::Histogram, {"transport"}, {0.001, 0.01, 0.1});
    for (double v : {0.0005, 0.001, 0.005, 0.05, 2.0})
        r.observe("qmasque_tunnel_open_seconds", {"h2"}, v);
    const QByteArray text = r.render();
    QVERIFY(text.contains("qmasque_tunnel_open_seconds_bucket{transport=\"h2\",le=\"0.001\"} 2\n"));
    QVERIFY(text.contains("qmasque_tunnel_open_seconds_bucket{transport=\"h2\",le=\"0.01\"} 3\n"));
    QVERIFY(text.contains("qmasque_tunnel_open_seconds_bucket{transport=\"h2\",le=\"0.1\"} 4\n"));
    QVERIFY(text.contains("qmasque_tunnel_open_seconds_bucket{transport=\"h2\",le=\"+Inf\"} 5\n"));
    QVERIFY(text.contains("qmasque_tunnel_open_seconds_count{transport=\"h2\"} 5\n"));
    QVERIFY(text.contains("qmasque_tunnel_open_seconds_sum{transport=\"h2\"} 2.0565"));
}

void tst_MetricsRegistry::labelValuesAreEscaped()
{
    MetricsRegistry r;
    r.declare("qmasque_closes", "Tunnel closes.", MetricsRegistry::Type::Counter, {"reason"});
    r.add("qmasque_closes", {"a\"b\\c\nd"});
    QVERIFY(r.render().contains("qmasque_closes_total{reason=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

void tst_MetricsRegistry::misuseIsIgnored()
{
    MetricsRegistry r;
    r.declare("qmasque_x", "x", MetricsRegistry::Type::Counter, {"a"});
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("wrong type")));
    r.add("qmasque_x", {}); // wrong label count
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("wrong type")));
    r.set("qmasque_x", {"v"}, 1);  // wrong type
    r.add("qmasque_x", {"v"}, -1); // counters never go down
    QCOMPARE(r.value("qmasque_x", {"v"}), 0.0);
}

QTEST_APPLESS_MAIN(tst_MetricsRegistry)
#include "tst_metrics_registry.moc"
