#pragma once

#include "api/EngineControl.h"
#include "service/DemoServices.h"
#include "service/EngineMetrics.h"
#include "transport/Transport.h"

#include <QtCore/QHash>
#include <QtCore/QPointer>
#include <QtCore/QTimer>

#include <optional>

namespace qmasque {

class DemoHost;
class LocalFrontEnd;
class MetricsEndpoint;
class ProxyProbe;
class SnapshotFile;
class TunnelClient;
class TunnelSession;
class UpstreamPool;

// Engine: the facade the GUI and the headless runner drive (EngineControl). It lives on the
// engine thread (EngineThread creates it there) and owns everything on it: the UpstreamPool, the
// TunnelClient, the local front ends, the metrics endpoint, the snapshot file and, with --demo,
// the DemoHost (the embedded proxy and demo targets on their own thread).
//
// start(profile): Stopped/Failed -> Starting -> Running, or -> Failed(error):
//   1. the profile is validated (invalid_config naming the key);
//   2. with `demo`, the demo services start and the profile is pointed at them (proxy URL,
//      pin-sha256, socks 127.0.0.1:1080 unless given);
//   3. a fresh pool and TunnelClient are configured; the front ends (createFrontEnds()), the
//      metrics endpoint and the snapshot file open (address_in_use, ...);
//   4. the proxy is probed with the profile's transports (ProxyProbe): an unreachable proxy
//      fails the start with the first transport's error (connection_refused, tls_pin_mismatch).
//   Then listening(listeners) and stateChanged(Running).
// stop(): Running -> Stopping -> Stopped: the front ends stop taking clients and close theirs,
//   every tunnel closes gracefully (FIN), then every pooled connection gets GOAWAY; whatever is
//   left after kStopGraceMs is closed. start() while running is stop() + start().
//
// Snapshots: every snapshotInterval (default 250 ms; 0 = none) one EngineSnapshot value is
// emitted, never more than one in flight: the next is built only after acknowledgeSnapshot().
// Events: tunnelClosed (every record), raceFinished, and one qmasque.engine log line per tunnel
// open / close / failure (service/TunnelLogLine.h). Engine thread only; other threads use
// queued calls.
class Engine final : public EngineControl
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Engine)

public:
    static constexpr int kDefaultSnapshotIntervalMs = 250;
    static constexpr int kStopGraceMs = 3000;

    struct Options
    {
        TransportFactory factory = defaultTransportFactory();
        DemoSettings demo;
    };

    explicit Engine(QObject *parent = nullptr);
    explicit Engine(Options options, QObject *parent = nullptr);
    ~Engine() override;

    EngineState state() const noexcept { return m_state; }
    // listeners: what is listening now ("socks5 127.0.0.1:1080", "metrics 127.0.0.1:9100",
    // "demo-http 127.0.0.1:8080", ...), as in the snapshot.
    const QStringList &listeners() const noexcept { return m_listeners; }
    // snapshot: the current snapshot (what snapshotReady carries).
    EngineSnapshot snapshot() const;
    // metricsText: what GET /metrics serves now.
    QByteArray metricsText();

public Q_SLOTS:
    void start(const qmasque::Profile &profile) override;
    void stop() override;
    void closeStream(quint64 connectionId, qint64 streamId) override;
    void closeConnection(quint64 connectionId) override;
    void setSnapshotInterval(int milliseconds) override;
    void acknowledgeSnapshot() override;
    // shutdownNow: ends everything at once (no graceful close), Stopped. For process exit.
    void shutdownNow();

Q_SIGNALS:
    // listening: emitted once per start, right before stateChanged(Running).
    void listening(const QStringList &listeners);

private:
    enum class StopPhase : quint8
    {
        None,
        Tunnels,     // waiting for the tunnels to close
        Connections, // waiting for the pooled connections to drain after GOAWAY
    };

    void setState(EngineState state, const Error &error = {});
    void fail(const Error &error);
    void handleDemoStarted(const DemoEndpoints &endpoints);
    void startClient();
    // createFrontEnds: one LocalFrontEnd per listener the profile asks for, unstarted, children
    // of the engine, using m_client.
    Result<QList<LocalFrontEnd *>> createFrontEnds(const Profile &profile);
    Status openObservability();
    void handleProbe(bool ok, TransportKind transport, const Error &error);
    void checkStopProgress();
    void finishStop();
    void teardown();
    void publishSnapshot();

    void handleTunnelOpened(quint64 tunnelId, TransportKind transport);
    void handleTunnelFailed(quint64 tunnelId, const Error &error);
    void handleTunnelClosed(const TunnelRecord &record);
    void handleRaceFinished(const RaceRecord &record);
    TrafficTotals traffic() const;

    const Options m_options;
    EngineState m_state = EngineState::Stopped;
    Profile m_profile;             // as running (demo: pointed at the demo proxy)
    std::optional<Profile> m_next; // start() during stop: started once stopped
    quint64 m_generation = 0;      // start attempts; late callbacks of an old one are ignored
    StopPhase m_stopPhase = StopPhase::None;
    QTimer m_stopTimer;

    DemoHost *m_demo = nullptr;                   // child
    UpstreamPool *m_pool = nullptr;               // child
    TunnelClient *m_client = nullptr;             // child
    QList<LocalFrontEnd *> m_frontEnds;           // children
    MetricsEndpoint *m_metricsEndpoint = nullptr; // child
    SnapshotFile *m_snapshotFile = nullptr;       // child
    ProxyProbe *m_probe = nullptr;                // child
    QStringList m_listeners;
    QStringList m_demoListeners;

    QTimer m_snapshotTimer;
    bool m_snapshotInFlight = false;

    EngineMetrics m_metrics;
    TrafficTotals m_closedTraffic; // tunnels that ended, over every start
    quint64 m_tunnelsOpened = 0;
    quint64 m_tunnelsFailed = 0;
    quint64 m_dialsStartedBefore = 0; // of pools of earlier starts
    quint64 m_dialsFailedBefore = 0;
    QHash<quint64, Error> m_failedWithoutRecord; // tunnelFailed seen, record not (yet)
};

} // namespace qmasque
