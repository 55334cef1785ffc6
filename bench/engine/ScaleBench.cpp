// qmasque-bench-scale: B4 of bench/README.md. Opens N concurrent tunnels through one TunnelClient
// and one UpstreamPool (what one qmasque process does) to a target behind a qmasque-proxy child
// process, and reports:
//   - the client's RSS per open idle tunnel (VmRSS delta between a warm baseline of one full
//     connection and all N open, divided by the tunnels added; connection cost is amortised in);
//   - the upstream connections the pool opened, against ceil(N / per-connection limit);
//   - the wall time to open them all (every open requested at once);
//   - the time to build one pool snapshot (what the engine does per dashboard tick) and to turn
//     it into the documented JSON, medians of 21 builds;
//   - for UDP, that every tunnel works: one datagram out and its echo back on each.
// One JSON line on stdout. The proxy's own memory is not counted: it is another process.
//
// Usage: qmasque-bench-scale --transport h3|h2 --protocol udp|tcp --tunnels N
//            --target ADDR:PORT [--per-connection N]

#include "api/Snapshot.h"
#include "pool/UpstreamPool.h"
#include "support/ProxyProcess.h"
#include "transport/Transport.h"
#include "tunnel/TunnelClient.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QPointer>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace qmasque;

namespace {

constexpr int kSnapshotBuilds = 21;
constexpr int kOpenDeadlineMs = 180000;

qint64 residentKiB()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

// waitUntil: runs the event loop until `done` or the deadline; false on timeout.
template<typename Predicate>
bool waitUntil(Predicate done, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!done()) {
        if (deadline.hasExpired())
            return false;
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    }
    return true;
}

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values.empty() ? 0.0 : values[values.size() / 2];
}

struct Options
{
    TransportKind transport = TransportKind::H3;
    bool udp = true;
    int tunnels = 10000;
    int perConnection = 100;
    QString targetHost;
    quint16 targetPort = 0;
};

class ScaleRun
{
public:
    ScaleRun(const Options &options, UpstreamPool *pool, TunnelClient *client)
        : m_options(options)
        , m_pool(pool)
        , m_client(client)
    {}

    // openBatch: opens `count` more tunnels at once and waits for every callback.
    bool openBatch(int count, QObject *context)
    {
        const int target = m_opened + m_failed + count;
        for (int i = 0; i < count; ++i) {
            if (m_options.udp) {
                m_client->openUdp(m_options.targetHost, m_options.targetPort, context,
                                  [this](const Result<UdpTunnel *> &result) {
                                      if (result) {
                                          ++m_opened;
                                          m_udp.push_back(*result);
                                      } else {
                                          ++m_failed;
                                          m_lastError = result.error().toString();
                                      }
                                  });
            } else {
                m_client->openTcp(m_options.targetHost, m_options.targetPort, context,
                                  [this](const Result<TcpTunnel *> &result) {
                                      if (result) {
                                          ++m_opened;
                                          m_tcp.push_back(*result);
                                      } else {
                                          ++m_failed;
                                          m_lastError = result.error().toString();
                                      }
                                  });
            }
        }
        return waitUntil([&] { return m_opened + m_failed >= target; }, kOpenDeadlineMs);
    }

    // echoEveryUdpTunnel: one 64-byte datagram per tunnel; returns how many echoes came back.
    int echoEveryUdpTunnel()
    {
        int echoed = 0;
        const QByteArray payload(64, 'x');
        for (const QPointer<UdpTunnel> &tunnel : m_udp) {
            if (!tunnel)
                continue;
            bool *seen = new bool(false);
            tunnel->setReceiver([&echoed, seen](QByteArrayView) {
                if (!*seen) {
                    *seen = true;
                    ++echoed;
                }
            });
            m_seen.push_back(seen);
            (void)tunnel->send(payload);
        }
        const int expected = int(m_udp.size());
        waitUntil([&] { return echoed >= expected; }, 20000);
        for (const QPointer<UdpTunnel> &tunnel : m_udp) {
            if (tunnel)
                tunnel->setReceiver({});
        }
        for (bool *seen : m_seen)
            delete seen;
        m_seen.clear();
        return echoed;
    }

    int opened() const { return m_opened; }
    int failed() const { return m_failed; }
    const QString &lastError() const { return m_lastError; }

private:
    Options m_options;
    UpstreamPool *m_pool;
    TunnelClient *m_client;
    int m_opened = 0;
    int m_failed = 0;
    QString m_lastError;
    std::vector<QPointer<UdpTunnel>> m_udp;
    std::vector<QPointer<TcpTunnel>> m_tcp;
    std::vector<bool *> m_seen;
};

bool parseOptions(const QCoreApplication &app, Options &options)
{
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOption({QStringLiteral("transport"), QStringLiteral("h3 or h2"), QStringLiteral("T"),
                      QStringLiteral("h3")});
    parser.addOption({QStringLiteral("protocol"), QStringLiteral("udp or tcp"), QStringLiteral("P"),
                      QStringLiteral("udp")});
    parser.addOption({QStringLiteral("tunnels"), QStringLiteral("tunnels to open"),
                      QStringLiteral("N"), QStringLiteral("10000")});
    parser.addOption({QStringLiteral("per-connection"),
                      QStringLiteral("the proxy's tunnels per connection"), QStringLiteral("N"),
                      QStringLiteral("100")});
    parser.addOption({QStringLiteral("target"), QStringLiteral("target ADDR:PORT"),
                      QStringLiteral("ADDR:PORT")});
    parser.process(app);
    const QString transport = parser.value(QStringLiteral("transport"));
    if (transport != QStringLiteral("h3") && transport != QStringLiteral("h2"))
        return false;
    options.transport = transport == QStringLiteral("h3") ? TransportKind::H3 : TransportKind::H2;
    options.udp = parser.value(QStringLiteral("protocol")) != QStringLiteral("tcp");
    options.tunnels = parser.value(QStringLiteral("tunnels")).toInt();
    options.perConnection = parser.value(QStringLiteral("per-connection")).toInt();
    const Result<Endpoint> target = parseEndpoint(parser.value(QStringLiteral("target")));
    if (!target || options.tunnels <= options.perConnection || options.perConnection <= 0)
        return false;
    options.targetHost = target->host;
    options.targetPort = target->port;
    return true;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    Options options;
    if (!parseOptions(app, options)) {
        std::fprintf(stderr, "usage: qmasque-bench-scale --transport h3|h2 --protocol udp|tcp "
                             "--tunnels N (> per-connection) --target ADDR:PORT "
                             "[--per-connection N]\n");
        return 2;
    }
    registerSnapshotMetaTypes();

    test::ProxyProcess proxy;
    const QString perConnection = QString::number(options.perConnection);
    if (!proxy.start({QStringLiteral("--self-signed"), QStringLiteral("--listen"),
                      QStringLiteral("127.0.0.1:0"), QStringLiteral("--allow"),
                      QStringLiteral("127.0.0.0/8"), QStringLiteral("--log-level"),
                      QStringLiteral("error"), QStringLiteral("--max-tunnels-per-connection"),
                      perConnection})) {
        std::fprintf(stderr, "qmasque-proxy: %s\n", qPrintable(proxy.error()));
        return 1;
    }

    PoolOptions poolOptions;
    poolOptions.factory = defaultTransportFactory();
    UpstreamPool pool(poolOptions);
    TunnelClient client(&pool, defaultTransportFactory());
    Profile profile;
    profile.proxy = QStringLiteral("https://127.0.0.1:%1").arg(proxy.port());
    profile.pinSha256 = {QString::fromLatin1(proxy.pin().toBase64())};
    profile.transports = {options.transport};
    profile.connectTimeoutMs = kOpenDeadlineMs;
    if (Status configured = client.configure(profile); !configured) {
        std::fprintf(stderr, "profile: %s\n", qPrintable(configured.error().toString()));
        return 1;
    }
    int connectionsOpened = 0;
    QObject::connect(&pool, &UpstreamPool::connectionAdded, &pool,
                     [&connectionsOpened] { ++connectionsOpened; });

    QObject context;
    ScaleRun run(options, &pool, &client);
    // Warm baseline: one full connection's worth, so library initialisation and the first
    // handshake's buffers are not charged to the tunnels measured.
    if (!run.openBatch(options.perConnection, &context) || run.failed() > 0) {
        std::fprintf(stderr, "warm-up failed: %s\n", qPrintable(run.lastError()));
        return 1;
    }
    const qint64 rssWarm = residentKiB();

    QElapsedTimer openTimer;
    openTimer.start();
    const int rest = options.tunnels - options.perConnection;
    const bool allAnswered = run.openBatch(rest, &context);
    const double openSeconds = double(openTimer.nsecsElapsed()) / 1e9;
    QCoreApplication::processEvents(); // let settled connections finish their bookkeeping
    const qint64 rssAll = residentKiB();

    std::vector<double> buildMs;
    std::vector<double> jsonMs;
    int streamsInSnapshot = 0;
    for (int i = 0; i < kSnapshotBuilds; ++i) {
        QElapsedTimer timer;
        timer.start();
        const PoolSnapshot snapshot = pool.snapshot();
        buildMs.push_back(double(timer.nsecsElapsed()) / 1e6);
        timer.restart();
        const QByteArray json = snapshotToJson(snapshot);
        jsonMs.push_back(double(timer.nsecsElapsed()) / 1e6);
        streamsInSnapshot = 0;
        for (const ConnectionSnapshot &connection : snapshot.connections)
            streamsInSnapshot += int(connection.streams.size());
        Q_UNUSED(json);
    }

    const int echoed = options.udp ? run.echoEveryUdpTunnel() : -1;
    const int expectedConnections =
        (options.tunnels + options.perConnection - 1) / options.perConnection;

    QJsonObject result{
        {QStringLiteral("transport"), QString::fromLatin1(transportKindName(options.transport))},
        {QStringLiteral("protocol"), options.udp ? QStringLiteral("udp") : QStringLiteral("tcp")},
        {QStringLiteral("tunnels"), options.tunnels},
        {QStringLiteral("opened"), run.opened()},
        {QStringLiteral("failed"), run.failed()},
        {QStringLiteral("all_answered"), allAnswered},
        {QStringLiteral("last_error"), run.lastError()},
        {QStringLiteral("connections"), connectionsOpened},
        {QStringLiteral("expected_connections"), expectedConnections},
        {QStringLiteral("open_seconds"), openSeconds},
        {QStringLiteral("rss_warm_kib"), rssWarm},
        {QStringLiteral("rss_all_kib"), rssAll},
        {QStringLiteral("rss_per_tunnel_bytes"), double(rssAll - rssWarm) * 1024.0 / rest},
        {QStringLiteral("snapshot_streams"), streamsInSnapshot},
        {QStringLiteral("snapshot_build_ms"), median(buildMs)},
        {QStringLiteral("snapshot_json_ms"), median(jsonMs)},
        {QStringLiteral("echoed"), echoed},
    };
    std::printf("%s\n", QJsonDocument(result).toJson(QJsonDocument::Compact).constData());
    std::fflush(stdout);
    client.closeAll();
    waitUntil([&] { return client.tunnels().isEmpty(); }, 10000);
    return run.failed() == 0 && allAnswered ? 0 : 1;
}
