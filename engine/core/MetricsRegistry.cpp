#include "core/MetricsRegistry.h"

#include "core/Log.h"

#include <QtCore/QLocale>

#include <cmath>

namespace qmasque {

namespace {

// OpenMetrics label values escape backslash, double quote and line feed.
QByteArray escapeLabel(const QByteArray &value)
{
    QByteArray out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

QByteArray number(double value)
{
    if (std::isinf(value))
        return value > 0 ? QByteArrayLiteral("+Inf") : QByteArrayLiteral("-Inf");
    if (value == std::floor(value) && std::fabs(value) < 9.0e15)
        return QByteArray::number(qint64(value));
    return QByteArray::number(value, 'g', QLocale::FloatingPointShortest);
}

QByteArray labelSet(const QList<QByteArray> &names, const MetricsRegistry::Labels &values,
                    const QByteArray &extraName = {}, const QByteArray &extraValue = {})
{
    QByteArray out;
    for (qsizetype i = 0; i < names.size(); ++i) {
        out += out.isEmpty() ? "{" : ",";
        out += names[i] + "=\"" + escapeLabel(values.value(i)) + '"';
    }
    if (!extraName.isEmpty()) {
        out += out.isEmpty() ? "{" : ",";
        out += extraName + "=\"" + extraValue + '"';
    }
    if (!out.isEmpty())
        out += '}';
    return out;
}

const char *typeName(MetricsRegistry::Type type)
{
    switch (type) {
    case MetricsRegistry::Type::Counter:
        return "counter";
    case MetricsRegistry::Type::Gauge:
        return "gauge";
    case MetricsRegistry::Type::Histogram:
        return "histogram";
    }
    return "unknown";
}

} // namespace

void MetricsRegistry::declare(const QByteArray &name, const QByteArray &help, Type type,
                              const QList<QByteArray> &labelNames, std::vector<double> buckets)
{
    Family &family = m_families[name];
    family.help = help;
    family.type = type;
    family.labelNames = labelNames;
    family.buckets = std::move(buckets);
}

MetricsRegistry::Family *MetricsRegistry::find(const QByteArray &name, Type type,
                                               const Labels &labels)
{
    auto it = m_families.find(name);
    if (it == m_families.end() || it->second.type != type ||
        labels.size() != it->second.labelNames.size()) {
        // A programming error, not input: loud in logs, harmless at run time.
        qCWarning(lcEngine) << "metric" << name << "used with the wrong type or labels";
        return nullptr;
    }
    return &it->second;
}

void MetricsRegistry::add(const QByteArray &name, const Labels &labels, double delta)
{
    if (Family *family = find(name, Type::Counter, labels); family && delta >= 0)
        family->values[labels] += delta;
}

void MetricsRegistry::set(const QByteArray &name, const Labels &labels, double value)
{
    if (Family *family = find(name, Type::Gauge, labels))
        family->values[labels] = value;
}

void MetricsRegistry::observe(const QByteArray &name, const Labels &labels, double value)
{
    Family *family = find(name, Type::Histogram, labels);
    if (!family)
        return;
    HistogramSample &sample = family->histograms[labels];
    sample.counts.resize(family->buckets.size() + 1);
    std::size_t bucket = 0;
    while (bucket < family->buckets.size() && value > family->buckets[bucket])
        ++bucket;
    ++sample.counts[bucket];
    sample.sum += value;
    ++sample.count;
}

void MetricsRegistry::clearSamples(const QByteArray &name)
{
    if (auto it = m_families.find(name); it != m_families.end()) {
        it->second.values.clear();
        it->second.histograms.clear();
    }
}

double MetricsRegistry::value(const QByteArray &name, const Labels &labels) const
{
    const auto it = m_families.find(name);
    if (it == m_families.end())
        return 0;
    const auto sample = it->second.values.find(labels);
    return sample == it->second.values.end() ? 0 : sample->second;
}

QByteArray MetricsRegistry::render() const
{
    QByteArray out;
    for (const auto &[name, family] : m_families) {
        out += "# TYPE " + name + ' ' + typeName(family.type) + '\n';
        out += "# HELP " + name + ' ' + family.help + '\n';
        if (family.type == Type::Histogram) {
            for (const auto &[labels, sample] : family.histograms) {
                quint64 cumulative = 0;
                for (std::size_t i = 0; i <= family.buckets.size(); ++i) {
                    cumulative += i < sample.counts.size() ? sample.counts[i] : 0;
                    const QByteArray le = i < family.buckets.size() ? number(family.buckets[i])
                                                                    : QByteArrayLiteral("+Inf");
                    out += name + "_bucket" + labelSet(family.labelNames, labels, "le", le) + ' ' +
                           QByteArray::number(cumulative) + '\n';
                }
                out += name + "_count" + labelSet(family.labelNames, labels) + ' ' +
                       QByteArray::number(sample.count) + '\n';
                out += name + "_sum" + labelSet(family.labelNames, labels) + ' ' +
                       number(sample.sum) + '\n';
            }
            continue;
        }
        const QByteArray suffix = family.type == Type::Counter ? "_total" : "";
        for (const auto &[labels, value] : family.values)
            out += name + suffix + labelSet(family.labelNames, labels) + ' ' + number(value) + '\n';
    }
    out += "# EOF\n";
    return out;
}

} // namespace qmasque
