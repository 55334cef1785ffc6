#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QString>

#include <map>
#include <vector>

namespace qmasque {

// MetricsRegistry: counters, gauges and histograms rendered as OpenMetrics 1.0 text
// (https://prometheus.io/docs/specs/om/open_metrics_spec/). Engine thread only.
//
// Families are declared once (name, help, type, label names); samples are addressed by label
// values in the declared order. Counters go up at events (a dial, a race, a tunnel close), never
// per packet: per-byte totals are read from the snapshot when rendering.
class MetricsRegistry
{
public:
    enum class Type
    {
        Counter,
        Gauge,
        Histogram
    };
    using Labels = QList<QByteArray>; // values, in the family's label-name order

    // declare: registers a family. `name` without the _total suffix; histograms take their
    // bucket upper bounds (ascending; +Inf is implicit).
    void declare(const QByteArray &name, const QByteArray &help, Type type,
                 const QList<QByteArray> &labelNames = {}, std::vector<double> buckets = {});

    void add(const QByteArray &name, const Labels &labels = {}, double delta = 1.0);
    void set(const QByteArray &name, const Labels &labels, double value);
    void observe(const QByteArray &name, const Labels &labels, double value);
    // clearSamples: drops every sample of a gauge family (before re-setting it from a snapshot).
    void clearSamples(const QByteArray &name);

    double value(const QByteArray &name, const Labels &labels = {}) const;

    // render: the whole registry as OpenMetrics text, ending with "# EOF".
    QByteArray render() const;

    static constexpr const char *kContentType =
        "application/openmetrics-text; version=1.0.0; charset=utf-8";

private:
    struct HistogramSample
    {
        std::vector<quint64> counts; // per bucket, not cumulative; last = +Inf
        double sum = 0;
        quint64 count = 0;
    };
    struct Family
    {
        QByteArray help;
        Type type = Type::Counter;
        QList<QByteArray> labelNames;
        std::vector<double> buckets;
        std::map<Labels, double> values;
        std::map<Labels, HistogramSample> histograms;
    };

    Family *find(const QByteArray &name, Type type, const Labels &labels);

    std::map<QByteArray, Family> m_families; // ordered: stable output
};

} // namespace qmasque
