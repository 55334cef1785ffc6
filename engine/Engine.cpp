#include "Engine.h"

#include "core/Log.h"
#include "local/HttpProxyServer.h"
#include "local/MetricsEndpoint.h"
#include "local/Socks5Server.h"
#include "local/TcpForwarder.h"
#include "local/TunFrontEnd.h"
#include "local/UdpForwarder.h"
#include "pool/UpstreamPool.h"
#include "proxy/ProxyLog.h"
#include "service/DemoHost.h"
#include "service/LogForwarder.h"
#include "service/ProxyProbe.h"
#include "service/SnapshotFile.h"
#include "service/TunnelLogLine.h"
#include "tunnel/TunnelClient.h"

#include <QtCore/QDateTime>
#include <QtCore/QUrl>

namespace qmasque {

namespace {

// proxyDisplay: "https://host:port", IPv6 in brackets, the default port spelled out.
QString proxyDisplay(const QString &proxy)
{
    if (proxy.isEmpty())
        return {};
    const QUrl url(proxy);
    const QString host = url.host();
    const QString shown = host.contains(u':') ? u'[' + host + u']' : host;
    return QStringLiteral("https://%1:%2").arg(shown).arg(url.port(443));
}

} // namespace

Engine::Engine(QObject *parent)
    : Engine(Options(), parent)
{}

Engine::Engine(Options options, QObject *parent)
    : EngineControl(parent)
    , m_options(std::move(options))
    // Children, so that moveToThread() takes the timers along to the engine thread.
    , m_stopTimer(this)
    , m_snapshotTimer(this)
{
    registerEngineMetaTypes();
    m_stopTimer.setSingleShot(true);
    connect(&m_stopTimer, &QTimer::timeout, this, &Engine::finishStop);
    m_snapshotTimer.setTimerType(Qt::CoarseTimer);
    connect(&m_snapshotTimer, &QTimer::timeout, this, &Engine::publishSnapshot);
    m_snapshotTimer.start(kDefaultSnapshotIntervalMs);
}

Engine::~Engine()
{
    teardown();
}

void Engine::setState(EngineState state, const Error &error)
{
    if (state == m_state && state != EngineState::Failed)
        return;
    m_state = state;
    if (state == EngineState::Failed)
        qCWarning(lcEngine, "failed: %s", qPrintable(error.toString()));
    else
        qCDebug(lcEngine, "state %s", engineStateName(state));
    emit stateChanged(state, error);
}

void Engine::start(const Profile &profile)
{
    if (m_state == EngineState::Starting || m_state == EngineState::Running ||
        m_state == EngineState::Stopping) {
        // New settings: stop gracefully, then start with them.
        m_next = profile;
        stop();
        return;
    }
    ++m_generation;
    m_profile = profile;
    m_listeners.clear();
    m_demoListeners.clear();
    setState(EngineState::Starting);
    if (Status valid = profile.validate(); !valid) {
        fail(valid.error());
        return;
    }
    LogForwarder::applyLogLevel(profile.logLevel);
    if (!profile.demo) {
        startClient();
        return;
    }
    m_demo = new DemoHost(this);
    connect(m_demo, &DemoHost::started, this, &Engine::handleDemoStarted);
    connect(m_demo, &DemoHost::failed, this, &Engine::fail);
    m_demo->start(m_options.demo);
}

void Engine::handleDemoStarted(const DemoEndpoints &endpoints)
{
    if (m_state != EngineState::Starting)
        return;
    const QString host = formatEndpoint(endpoints.address, endpoints.proxyPort);
    if (!m_profile.proxy.isEmpty())
        qCInfo(lcEngine, "demo: using the embedded proxy instead of %s",
               qPrintable(m_profile.proxy));
    // The client trusts exactly the demo proxy's fresh key (no insecure mode, no CA).
    m_profile.proxy = QStringLiteral("https://") + host;
    m_profile.pinSha256 = {endpoints.pinSha256};
    m_profile.insecure = false;
    m_profile.ca.clear();
    m_profile.sni.clear();
    m_profile.proxyAuth.clear();
    if (m_profile.socks.isEmpty())
        m_profile.socks = QStringLiteral("127.0.0.1:1080");
    m_demoListeners = {
        QStringLiteral("demo-proxy %1 pin-sha256=%2").arg(host, endpoints.pinSha256),
        QStringLiteral("demo-http ") + formatEndpoint(endpoints.address, endpoints.httpPort),
        QStringLiteral("demo-udp-echo ") + formatEndpoint(endpoints.address, endpoints.udpEchoPort),
    };
    startClient();
}

void Engine::startClient()
{
    PoolOptions poolOptions;
    poolOptions.factory = m_options.factory;
    poolOptions.owner.idleTimeoutMs = m_profile.poolIdleMs;
    poolOptions.owner.maxStreams = m_profile.poolMaxStreams;
    poolOptions.maxConnectionsPerFingerprint = m_profile.poolMaxConnections;
    m_pool = new UpstreamPool(poolOptions, this);
    m_client = new TunnelClient(m_pool, m_options.factory, this);
    if (Status configured = m_client->configure(m_profile); !configured) {
        fail(configured.error());
        return;
    }
    connect(m_client, &TunnelClient::tunnelOpened, this, &Engine::handleTunnelOpened);
    connect(m_client, &TunnelClient::tunnelFailed, this, &Engine::handleTunnelFailed);
    connect(m_client, &TunnelClient::tunnelClosed, this, &Engine::handleTunnelClosed);
    connect(m_client, &TunnelClient::raceFinished, this, &Engine::handleRaceFinished);

    Result<QList<LocalFrontEnd *>> frontEnds = createFrontEnds(m_profile);
    if (!frontEnds) {
        fail(frontEnds.error());
        return;
    }
    m_frontEnds = *frontEnds;
    for (LocalFrontEnd *frontEnd : std::as_const(m_frontEnds)) {
        if (Status started = frontEnd->start(); !started) {
            fail(started.error());
            return;
        }
        connect(frontEnd, &LocalFrontEnd::failed, this, [this](const Error &error) {
            qCWarning(lcEngine, "front end failed: %s", qPrintable(error.toString()));
            fail(error);
        });
        m_listeners.append(frontEnd->description());
    }
    if (m_frontEnds.isEmpty())
        qCWarning(lcEngine, "no listener configured (socks, http-proxy, forwards, tun): "
                            "nothing can use the tunnels");
    if (Status opened = openObservability(); !opened) {
        fail(opened.error());
        return;
    }
    m_listeners += m_demoListeners;

    m_probe = new ProxyProbe(m_pool, m_options.factory, this);
    connect(m_probe, &ProxyProbe::finished, this, &Engine::handleProbe);
    ProxyProbe::Plan plan;
    plan.order = m_profile.transports;
    plan.secondDelayMs = m_profile.h2HeadStartMs;
    plan.laterDelayMs = m_profile.h1HeadStartMs;
    plan.deadlineMs = m_profile.connectTimeoutMs;
    m_probe->start(m_client->connectOptions(), plan);
}

Result<QList<LocalFrontEnd *>> Engine::createFrontEnds(const Profile &profile)
{
    // Every local front end is built here, from its profile key, with the TunnelClient. The
    // profile was validated, so a failure here is one the profile cannot see (a bad address).
    QList<LocalFrontEnd *> frontEnds;
    if (!profile.socks.isEmpty()) {
        Result<Socks5Config> config = Socks5Config::fromProfile(profile);
        if (!config)
            return config.error();
        frontEnds.append(new Socks5Server(m_client, *config, this));
    }
    if (!profile.httpProxy.isEmpty()) {
        const Result<Endpoint> listen = parseEndpoint(profile.httpProxy, u"127.0.0.1");
        if (!listen) {
            qDeleteAll(frontEnds);
            return listen.error();
        }
        frontEnds.append(new HttpProxyServer(m_client, *listen, this));
    }
    for (const Forward &forward : profile.udpForwards)
        frontEnds.append(new UdpForwarder(m_client, forward, profile.udpIdleMs, this));
    for (const Forward &forward : profile.tcpForwards)
        frontEnds.append(new TcpForwarder(m_client, forward, this));
    if (!profile.tun.isEmpty())
        frontEnds.append(new TunFrontEnd(m_client, profile.tun, this));
    return frontEnds;
}

Status Engine::openObservability()
{
    if (!m_profile.metrics.isEmpty()) {
        const Result<Endpoint> endpoint = parseEndpoint(m_profile.metrics, u"127.0.0.1");
        QHostAddress address;
        if (!endpoint ||
            !address.setAddress(endpoint->host == u"localhost" ? QStringLiteral("127.0.0.1")
                                                               : endpoint->host))
            return Error(ErrorCode::InvalidConfig,
                         QStringLiteral("metrics: '%1' is not ADDR:PORT").arg(m_profile.metrics));
        m_metricsEndpoint = new MetricsEndpoint([this] { return metricsText(); }, this);
        if (Status listening = m_metricsEndpoint->listen(address, endpoint->port); !listening)
            return Error(listening.error().code,
                         QStringLiteral("metrics: ") + listening.error().detail);
        m_listeners.append(QStringLiteral("metrics ") +
                           formatEndpoint(address, m_metricsEndpoint->serverPort()));
    }
    if (!m_profile.snapshot.isEmpty()) {
        m_snapshotFile = new SnapshotFile(
            m_profile.snapshot, m_profile.snapshotMs, [this] { return snapshot(); }, this);
        if (Status written = m_snapshotFile->start(); !written)
            return written;
    }
    return {};
}

void Engine::handleProbe(bool ok, TransportKind transport, const Error &error)
{
    if (m_probe) {
        m_probe->deleteLater();
        m_probe = nullptr;
    }
    if (m_state != EngineState::Starting)
        return;
    if (!ok) {
        Error unreachable = error;
        unreachable.detail = QStringLiteral("proxy %1 unreachable: %2")
                                 .arg(proxyDisplay(m_profile.proxy), error.detail);
        fail(unreachable);
        return;
    }
    qCInfo(lcEngine, "proxy %s reachable over %s", qPrintable(proxyDisplay(m_profile.proxy)),
           transportKindName(transport));
    emit listening(m_listeners);
    setState(EngineState::Running);
}

void Engine::fail(const Error &error)
{
    m_next.reset();
    teardown();
    setState(EngineState::Failed, error);
}

void Engine::stop()
{
    switch (m_state) {
    case EngineState::Stopping:
        return;
    case EngineState::Stopped:
    case EngineState::Failed:
    case EngineState::Starting:
        teardown();
        setState(EngineState::Stopped);
        if (std::optional<Profile> next = std::exchange(m_next, std::nullopt))
            start(*next);
        return;
    case EngineState::Running:
        break;
    }
    setState(EngineState::Stopping);
    // Local clients first (no new tunnels), then every tunnel gracefully.
    for (LocalFrontEnd *frontEnd : std::as_const(m_frontEnds))
        frontEnd->stop();
    m_client->closeAll();
    m_stopPhase = StopPhase::Tunnels;
    m_stopTimer.start(kStopGraceMs);
    connect(m_pool, &UpstreamPool::connectionRemoved, this, &Engine::checkStopProgress);
    checkStopProgress();
}

void Engine::checkStopProgress()
{
    if (m_stopPhase == StopPhase::Tunnels) {
        if (!m_client->tunnels().isEmpty() || m_client->pendingOpens() > 0)
            return;
        // Every tunnel sent its FIN: GOAWAY lets each connection flush and close by itself.
        m_stopPhase = StopPhase::Connections;
        for (UpstreamOwner *owner : m_pool->owners()) {
            if (Transport *transport = owner->transport())
                transport->goaway();
        }
    }
    if (m_stopPhase == StopPhase::Connections && m_pool->owners().isEmpty() &&
        m_pool->dialsInFlight() == 0)
        QMetaObject::invokeMethod(this, &Engine::finishStop, Qt::QueuedConnection);
}

void Engine::finishStop()
{
    if (m_state != EngineState::Stopping)
        return;
    if (m_snapshotFile)
        (void)m_snapshotFile->writeFinal(EngineState::Stopped);
    teardown();
    setState(EngineState::Stopped);
    if (std::optional<Profile> next = std::exchange(m_next, std::nullopt))
        start(*next);
}

void Engine::shutdownNow()
{
    m_next.reset();
    teardown();
    setState(EngineState::Stopped);
}

void Engine::teardown()
{
    m_stopPhase = StopPhase::None;
    m_stopTimer.stop();
    if (m_probe) {
        m_probe->disconnect(this);
        m_probe->deleteLater();
        m_probe = nullptr;
    }
    for (LocalFrontEnd *frontEnd : std::as_const(m_frontEnds)) {
        frontEnd->disconnect(this);
        frontEnd->stop();
        frontEnd->deleteLater();
    }
    m_frontEnds.clear();
    if (m_metricsEndpoint) {
        m_metricsEndpoint->deleteLater();
        m_metricsEndpoint = nullptr;
    }
    if (m_snapshotFile) {
        m_snapshotFile->stop();
        m_snapshotFile->deleteLater();
        m_snapshotFile = nullptr;
    }
    if (m_client) {
        // Counted before the tunnels go: what they moved stays in the totals.
        for (TunnelSession *tunnel : m_client->tunnels())
            m_closedTraffic.add(tunnel->counters());
        m_client->disconnect(this);
        for (TunnelSession *tunnel : m_client->tunnels())
            tunnel->disconnect(this);
        m_client->closeAll();
        m_client->deleteLater();
        m_client = nullptr;
    }
    if (m_pool) {
        const PoolCounters counters = m_pool->snapshot().counters;
        m_dialsStartedBefore += counters.dialsStarted;
        m_dialsFailedBefore += counters.dialsFailed;
        m_pool->disconnect(this);
        m_pool->closeAll();
        m_pool->deleteLater();
        m_pool = nullptr;
    }
    if (m_demo) {
        m_demo->disconnect(this);
        m_demo->deleteLater(); // stops the embedded proxy and joins its thread
        m_demo = nullptr;
    }
    m_failedWithoutRecord.clear();
    m_listeners.clear();
}

void Engine::closeStream(quint64 connectionId, qint64 streamId)
{
    if (!m_client)
        return;
    // A direct (h1) tunnel is its own connection; pooled streams are closed by their owner.
    for (TunnelSession *tunnel : m_client->tunnels()) {
        if (!tunnel->isPooled() && tunnel->connectionId() == connectionId &&
            tunnel->streamId() == streamId) {
            tunnel->abort();
            return;
        }
    }
    if (m_pool)
        m_pool->closeStream(connectionId, streamId);
}

void Engine::closeConnection(quint64 connectionId)
{
    if (!m_client)
        return;
    for (TunnelSession *tunnel : m_client->tunnels()) {
        if (!tunnel->isPooled() && tunnel->connectionId() == connectionId) {
            tunnel->close();
            return;
        }
    }
    if (!m_pool)
        return;
    UpstreamOwner *owner = m_pool->owner(connectionId);
    if (!owner)
        return;
    // Graceful: GOAWAY, the streams on it finish, then it closes; a dial is simply stopped.
    if (Transport *transport = owner->transport(); transport && owner->streamsInUse() > 0)
        transport->goaway();
    else
        m_pool->closeConnection(connectionId);
}

void Engine::setSnapshotInterval(int milliseconds)
{
    if (milliseconds <= 0) {
        m_snapshotTimer.stop();
        return;
    }
    m_snapshotTimer.start(milliseconds);
}

void Engine::acknowledgeSnapshot()
{
    m_snapshotInFlight = false;
}

void Engine::publishSnapshot()
{
    // At most one in flight: a consumer that has not acknowledged the last one gets no new one
    // (it gets the next fresh one after acknowledging, never a stale queue).
    if (m_snapshotInFlight)
        return;
    m_snapshotInFlight = true;
    emit snapshotReady(snapshot());
}

EngineSnapshot Engine::snapshot() const
{
    EngineSnapshot snapshot;
    snapshot.state = m_state;
    snapshot.profileName = m_profile.name;
    snapshot.proxy = proxyDisplay(m_profile.proxy);
    if (m_pool)
        snapshot.pool = m_pool->snapshot();
    else
        snapshot.pool.takenAtMs = QDateTime::currentMSecsSinceEpoch();
    if (m_client)
        snapshot.directConnections = m_client->directConnections();
    snapshot.tunnelsOpened = m_tunnelsOpened;
    snapshot.tunnelsFailed = m_tunnelsFailed;
    const TrafficTotals totals = traffic();
    snapshot.bytesSent = totals.bytesSent;
    snapshot.bytesReceived = totals.bytesReceived;
    snapshot.listeners = m_listeners;
    return snapshot;
}

TrafficTotals Engine::traffic() const
{
    TrafficTotals totals = m_closedTraffic;
    if (m_client) {
        for (const TunnelSession *tunnel : m_client->tunnels())
            totals.add(tunnel->counters());
    }
    return totals;
}

QByteArray Engine::metricsText()
{
    EngineMetrics::Levels levels;
    levels.snapshot = snapshot();
    if (m_client) {
        for (const TunnelSession *tunnel : m_client->tunnels())
            ++levels.openTunnels[{EngineMetrics::protocolLabel(tunnel->protocol()),
                                  QByteArray(transportKindName(tunnel->transport()))}];
    }
    levels.traffic = traffic();
    levels.dialsStarted = m_dialsStartedBefore + levels.snapshot.pool.counters.dialsStarted;
    levels.dialsFailed = m_dialsFailedBefore + levels.snapshot.pool.counters.dialsFailed;
    for (const LocalFrontEnd *frontEnd : std::as_const(m_frontEnds)) {
        levels.localDrops += frontEnd->drops();
        levels.localClients.append({frontEnd->description().toUtf8(), frontEnd->activeClients()});
    }
    return m_metrics.render(levels, m_demo ? m_demo->proxyMetrics() : QByteArray());
}

void Engine::handleTunnelOpened(quint64 tunnelId, TransportKind transport)
{
    ++m_tunnelsOpened;
    TunnelSession *tunnel = m_client->tunnel(tunnelId);
    if (!tunnel)
        return;
    m_metrics.tunnelOpened(tunnel->protocol(), transport, tunnel->openLatencyUs());
    qCInfo(lcEngine).noquote() << tunnellog::openLine(tunnelId, tunnel->protocol(), transport,
                                                      tunnel->target(), tunnel->localClient(),
                                                      tunnel->openLatencyMs());
    // Its counters join the totals when it ends (the client deletes it after closed()).
    connect(tunnel, &TunnelSession::closed, this,
            [this, tunnel] { m_closedTraffic.add(tunnel->counters()); });
}

void Engine::handleTunnelFailed(quint64 tunnelId, const Error &error)
{
    ++m_tunnelsFailed;
    m_metrics.openFailed(error);
    // A failed race reports its record right after this; an open refused before racing has
    // none and is logged from here, once the record had its chance.
    m_failedWithoutRecord.insert(tunnelId, error);
    QMetaObject::invokeMethod(
        this,
        [this, tunnelId] {
            if (m_failedWithoutRecord.contains(tunnelId))
                qCInfo(lcEngine).noquote()
                    << tunnellog::failedLine(tunnelId, m_failedWithoutRecord.take(tunnelId));
        },
        Qt::QueuedConnection);
}

void Engine::handleTunnelClosed(const TunnelRecord &record)
{
    m_metrics.tunnelClosed(record);
    if (record.openLatencyMs < 0) {
        m_failedWithoutRecord.remove(record.tunnelId);
        qCInfo(lcEngine).noquote() << tunnellog::failedLine(record);
    } else {
        qCInfo(lcEngine).noquote() << tunnellog::closeLine(record);
    }
    emit tunnelClosed(record);
    if (m_stopPhase != StopPhase::None)
        checkStopProgress();
}

void Engine::handleRaceFinished(const RaceRecord &record)
{
    m_metrics.raceFinished(record);
    emit raceFinished(record);
}

} // namespace qmasque
