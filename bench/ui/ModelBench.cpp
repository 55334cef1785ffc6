// qmasque-bench-ui-models: the cost of applying one snapshot tick to the dashboard's models.
//
// 10 000 streams (100 connections x 100 streams, and 1 connection x 10 000 streams), steady state
// with ~10% of the streams changing per tick plus a little churn (streams closing and opening).
// Three stages, each measured for the keyed diff (ConnectionModel + StreamModel) and, in the same
// run, for a baseline that resets the stream model every tick:
//   models        the models alone;
//   + proxy       a StreamFilterProxy sorted by bytes received (the streams table's sort);
//   + view        that proxy in a visible 1280x800 QTableView, laid out and repainted once per
//                 tick (offscreen platform): what the event loop spends per snapshot.
// Prints median / min / max per tick in milliseconds and the ratio reset / keyed. Target: a tick
// of the keyed diff (models and sorted proxy) in at most 20 ms on this machine. The reset looks
// cheap in isolation but throws away the selection, the current row and the scroll position on
// every tick, which is why the dashboard never resets.
//
// Usage: qmasque-bench-ui-models [--ticks N]   (default 60; run with QT_QPA_PLATFORM=offscreen)

#include "support/SnapshotGenerator.h"
#include "ui/ConnectionModel.h"
#include "ui/StreamFilterProxy.h"
#include "ui/StreamModel.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QElapsedTimer>
#include <QtWidgets/QApplication>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QTableView>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

using namespace qmasque;
using namespace qmasque::ui;
using qmasque::test::SnapshotGenerator;
using qmasque::test::SnapshotGeneratorConfig;

namespace {

// ResetStreamModel: the baseline: the same rows and cell values as StreamModel, replaced by a
// model reset on every tick.
class ResetStreamModel final : public QAbstractTableModel
{
public:
    void apply(const EngineSnapshot &snapshot)
    {
        beginResetModel();
        m_rows.clear();
        const auto add = [this](const ConnectionSnapshot &connection, bool direct) {
            for (const StreamSnapshot &stream : connection.streams)
                m_rows.append(
                    StreamModel::Row{connection.id, connection.transport, direct, stream});
        };
        for (const ConnectionSnapshot &connection : snapshot.pool.connections)
            add(connection, false);
        for (const ConnectionSnapshot &connection : snapshot.directConnections)
            add(connection, true);
        endResetModel();
    }
    int rowCount(const QModelIndex &parent = {}) const override
    {
        return parent.isValid() ? 0 : int(m_rows.size());
    }
    int columnCount(const QModelIndex &parent = {}) const override
    {
        return parent.isValid() ? 0 : StreamModel::ColumnCount;
    }
    QVariant data(const QModelIndex &index, int role) const override
    {
        return StreamModel::cellData(m_rows.at(index.row()), index.column(), role, false);
    }

private:
    QList<StreamModel::Row> m_rows;
};

struct Stats
{
    double median = 0;
    double min = 0;
    double max = 0;
};

Stats summarize(std::vector<double> samples)
{
    std::sort(samples.begin(), samples.end());
    return {samples[samples.size() / 2], samples.front(), samples.back()};
}

enum class Stage
{
    Models,
    Proxy,
    View,
};

const char *stageName(Stage stage)
{
    switch (stage) {
    case Stage::Models:
        return "models";
    case Stage::Proxy:
        return "+ sorted proxy";
    case Stage::View:
        return "+ proxy + view";
    }
    return "";
}

// measure: `ticks` ticks of a fresh generator (after a warm-up), each timed from the apply to
// the end of the repaint it causes. `keyed` chooses the keyed diff or the reset baseline.
std::vector<double> measure(const SnapshotGeneratorConfig &config, Stage stage, bool keyed,
                            int ticks)
{
    SnapshotGenerator generator(config);
    ConnectionModel connections;
    StreamModel streams;
    ResetStreamModel reset;
    QAbstractItemModel *source = keyed ? static_cast<QAbstractItemModel *>(&streams) : &reset;

    StreamFilterProxy keyedProxy;
    QSortFilterProxyModel resetProxy;
    QSortFilterProxyModel *proxy = nullptr;
    if (stage != Stage::Models) {
        if (keyed) {
            keyedProxy.setStreamModel(&streams);
            proxy = &keyedProxy;
        } else {
            resetProxy.setSourceModel(&reset);
            resetProxy.setSortRole(RawValueRole);
            proxy = &resetProxy;
        }
        proxy->sort(StreamModel::BytesIn, Qt::DescendingOrder);
    }
    std::unique_ptr<QTableView> view;
    if (stage == Stage::View) {
        view = std::make_unique<QTableView>();
        view->setModel(proxy ? static_cast<QAbstractItemModel *>(proxy) : source);
        // As the dashboard's tables: fixed row height, no row numbers.
        view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
        view->verticalHeader()->setDefaultSectionSize(22);
        view->verticalHeader()->hide();
        view->resize(1280, 800);
        view->show();
        QCoreApplication::processEvents();
    }

    const auto apply = [&](const EngineSnapshot &snapshot) {
        connections.apply(snapshot);
        if (keyed)
            streams.apply(snapshot);
        else
            reset.apply(snapshot);
        if (view) // the layout and repaint the model signals scheduled
            QCoreApplication::processEvents();
    };
    for (int i = 0; i < 3; ++i) // warm-up: first inserts, caches, fonts
        apply(generator.next());

    std::vector<double> samples;
    samples.reserve(size_t(ticks));
    QElapsedTimer timer;
    for (int i = 0; i < ticks; ++i) {
        const EngineSnapshot snapshot = generator.next(); // not timed: the engine's work
        timer.start();
        apply(snapshot);
        samples.push_back(double(timer.nsecsElapsed()) / 1e6);
    }
    return samples;
}

} // namespace

int main(int argc, char *argv[])
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Applies 10 000-stream snapshots to the dashboard models."));
    parser.addHelpOption();
    parser.addOption({QStringLiteral("ticks"), QStringLiteral("Ticks per measurement."),
                      QStringLiteral("N"), QStringLiteral("60")});
    parser.process(app);
    const int ticks = std::max(5, parser.value(QStringLiteral("ticks")).toInt());

    struct Shape
    {
        const char *name;
        int connections;
        int streams;
    };
    const Shape shapes[] = {{"100 x 100", 100, 100}, {"1 x 10000", 1, 10000}};

    std::printf("dashboard model benchmark: %d ticks, ~10%% of streams changing per tick\n", ticks);
    std::printf("%-10s %-16s %28s %28s %7s\n", "shape", "stage", "keyed diff median/min/max",
                "reset median/min/max", "ratio");
    double worstKeyed = 0;
    for (const Shape &shape : shapes) {
        SnapshotGeneratorConfig config;
        config.connections = shape.connections;
        config.streamsPerConnection = shape.streams;
        config.directConnections = 0;
        config.changeFraction = 0.1;
        config.streamChurn = 0.002; // ~20 streams close and ~20 open per tick
        config.connectionChurn = 0;
        config.failureRate = 0;
        config.seed = 42;
        for (Stage stage : {Stage::Models, Stage::Proxy, Stage::View}) {
            const Stats keyed = summarize(measure(config, stage, true, ticks));
            const Stats reset = summarize(measure(config, stage, false, ticks));
            std::printf("%-10s %-16s %10.2f %7.2f %8.2f ms %10.2f %7.2f %8.2f ms %6.1fx\n",
                        shape.name, stageName(stage), keyed.median, keyed.min, keyed.max,
                        reset.median, reset.min, reset.max, reset.median / keyed.median);
            if (stage == Stage::Proxy)
                worstKeyed = std::max(worstKeyed, keyed.median);
        }
    }
    std::printf("target: keyed diff into the sorted proxy <= 20 ms per tick (median): %s "
                "(worst %.2f ms)\n",
                worstKeyed <= 20.0 ? "met" : "MISSED", worstKeyed);
    return 0;
}
