#include "tunnel/TunnelClient.h"

#include "core/Log.h"

#include <atomic>

namespace qmasque {

namespace {

std::atomic<quint64> g_nextTunnelId{1};

template<typename T>
std::function<void(const Result<TunnelSession *> &)>
typed(std::function<void(const Result<T *> &)> done)
{
    return [done = std::move(done)](const Result<TunnelSession *> &result) {
        if (!done)
            return;
        if (result)
            done(static_cast<T *>(*result));
        else
            done(result.error());
    };
}

} // namespace

TunnelClient::TunnelClient(UpstreamPool *pool, TransportFactory factory, QObject *parent)
    : QObject(parent)
    , m_pool(pool)
    , m_factory(std::move(factory))
{}

TunnelClient::~TunnelClient()
{
    if (m_probeTicket && m_pool)
        m_pool->cancel(m_probeTicket);
    for (const Pending &pending : std::as_const(m_pending))
        QObject::disconnect(pending.contextWatch);
    for (const QMetaObject::Connection &watch : std::as_const(m_tunnelWatches))
        QObject::disconnect(watch);
    // Racers and tunnels are children: their destructors abort what is still running.
}

Status TunnelClient::configure(const Profile &profile, const ConnectOptions &tuning)
{
    auto settings = TunnelRequestSettings::fromProfile(profile);
    if (!settings)
        return settings.error();
    if (profile.transports.isEmpty())
        return Error(ErrorCode::InvalidConfig, QStringLiteral("transports: none given"));
    if (profile.connectTimeoutMs <= 0 || profile.h2HeadStartMs < 0 || profile.h1HeadStartMs < 0)
        return Error(ErrorCode::InvalidConfig, QStringLiteral("race times must be positive"));

    ConnectOptions connect = tuning;
    connect.tls = TlsSettings();
    connect.host = settings->proxyHost;
    connect.port = settings->proxyPort;
    connect.connectTimeoutMs = profile.connectTimeoutMs;
    connect.tls.insecure = profile.insecure;
    connect.tls.caFile = profile.ca;
    for (const QString &pin : profile.pinSha256) {
        const QByteArray digest = parsePin(pin);
        if (digest.isEmpty())
            return Error(ErrorCode::InvalidConfig,
                         QStringLiteral("pin-sha256: '%1' is not a SHA-256 digest").arg(pin));
        connect.tls.pinsSha256.append(digest);
    }
    connect.tls.sni = profile.sni;
    connect.tls.clientCertFile = profile.clientCert;
    connect.tls.clientKeyFile = profile.clientKey;

    m_settings = *settings;
    m_connect = connect;
    m_transports.clear();
    for (TransportKind transport : profile.transports) {
        if (!m_transports.contains(transport))
            m_transports.append(transport);
    }
    m_plan.secondDelayMs = profile.h2HeadStartMs;
    m_plan.laterDelayMs = profile.h1HeadStartMs;
    m_plan.deadlineMs = profile.connectTimeoutMs;
    m_proxyKey = m_settings.proxyAuthority().toLower();
    m_configured = true;
    return {};
}

quint64 TunnelClient::openUdp(const QString &host, quint16 port, QObject *context, UdpCallback done,
                              const QString &localClient)
{
    return open(TunnelTarget::udp(host, port), context, typed<UdpTunnel>(std::move(done)),
                localClient, IpTunnel::kDefaultMtu);
}

quint64 TunnelClient::openTcp(const QString &host, quint16 port, QObject *context, TcpCallback done,
                              const QString &localClient)
{
    return open(TunnelTarget::tcp(host, port), context, typed<TcpTunnel>(std::move(done)),
                localClient, IpTunnel::kDefaultMtu);
}

quint64 TunnelClient::openIp(const wire::IpScope &scope, QObject *context, IpCallback done,
                             const QString &localClient, qint64 mtu)
{
    return open(TunnelTarget::ip(scope), context, typed<IpTunnel>(std::move(done)), localClient,
                mtu);
}

quint64 TunnelClient::open(const TunnelTarget &target, QObject *context, AnyCallback done,
                           const QString &localClient, qint64 mtu)
{
    const quint64 tunnelId = g_nextTunnelId.fetch_add(1, std::memory_order_relaxed);
    Pending pending;
    pending.context = context;
    pending.hasContext = context != nullptr;
    pending.done = std::move(done);
    if (context) {
        pending.contextWatch =
            connect(context, &QObject::destroyed, this, [this, tunnelId] { cancel(tunnelId); });
    }

    if (!m_configured) {
        m_pending.insert(tunnelId, std::move(pending));
        failLater(tunnelId, Error(ErrorCode::InvalidConfig, QStringLiteral("no profile")));
        return tunnelId;
    }
    Result<Request> request = buildTunnelRequest(m_settings, target);
    if (!request) {
        m_pending.insert(tunnelId, std::move(pending));
        failLater(tunnelId, request.error());
        return tunnelId;
    }

    RacePlan plan = m_plan;
    plan.order = m_memory.order(m_proxyKey, m_transports);
    RaceRecord record;
    record.tunnelId = tunnelId;
    record.proxy = QStringLiteral("https://") + m_settings.proxyAuthority();
    record.target = target.toString();
    auto factory = [this, target, request = *request, localClient, mtu,
                    tunnelId](TransportKind transport, int timeoutMs, QObject *parent) {
        return makeSession(target, request, localClient, mtu, tunnelId, transport, timeoutMs,
                           parent);
    };
    auto *racer = new Racer(plan, std::move(factory), record, this);
    connect(racer, &Racer::finished, this,
            [this, tunnelId](TunnelSession *winner, const Error &error) {
                handleRaceFinished(tunnelId, winner, error);
            });
    pending.racer = racer;
    m_pending.insert(tunnelId, std::move(pending));
    maybeProbe();
    racer->start();
    return tunnelId;
}

TunnelSession *TunnelClient::makeSession(const TunnelTarget &target, const Request &request,
                                         const QString &localClient, qint64 mtu, quint64 tunnelId,
                                         TransportKind transport, int handshakeTimeoutMs,
                                         QObject *parent)
{
    TunnelConfig config;
    config.tunnelId = tunnelId;
    config.endpoint.transport = transport;
    config.endpoint.connect = m_connect;
    config.request = request;
    config.target = target.toString();
    config.localClient = localClient;
    config.handshakeTimeoutMs = handshakeTimeoutMs;
    config.pool = m_pool;
    config.factory = m_factory;
    switch (target.protocol) {
    case TunnelProtocol::Udp:
        return new UdpTunnel(std::move(config), parent);
    case TunnelProtocol::Tcp:
        return new TcpTunnel(std::move(config), parent);
    case TunnelProtocol::Ip:
        return new IpTunnel(std::move(config), mtu, parent);
    }
    return nullptr;
}

void TunnelClient::failLater(quint64 tunnelId, const Error &error)
{
    QMetaObject::invokeMethod(
        this,
        [this, tunnelId, error] {
            const auto it = m_pending.find(tunnelId);
            if (it == m_pending.end())
                return; // cancelled meanwhile
            Pending pending = std::move(*it);
            m_pending.erase(it);
            QObject::disconnect(pending.contextWatch);
            emit tunnelFailed(tunnelId, error);
            if (pending.done && (!pending.hasContext || pending.context))
                pending.done(error);
        },
        Qt::QueuedConnection);
}

void TunnelClient::handleRaceFinished(quint64 tunnelId, TunnelSession *winner, const Error &error)
{
    const auto it = m_pending.find(tunnelId);
    if (it == m_pending.end()) {
        if (winner)
            winner->deleteLater(); // cannot happen: a cancelled race reports nothing
        return;
    }
    Pending pending = std::move(*it);
    m_pending.erase(it);
    QObject::disconnect(pending.contextWatch);
    Racer *racer = pending.racer;
    m_memory.recordRace(m_proxyKey, racer->outcomes());
    const RaceRecord record = racer->record();
    const std::optional<TunnelRecord> failedRecord = racer->failedRecord();
    racer->deleteLater();
    emit raceFinished(record);

    if (!winner) {
        emit tunnelFailed(tunnelId, error);
        if (failedRecord)
            emit tunnelClosed(*failedRecord);
        if (pending.done && (!pending.hasContext || pending.context))
            pending.done(error);
        return;
    }

    winner->setParent(this);
    m_tunnels.insert(tunnelId, winner);
    connect(winner, &TunnelSession::closed, this,
            [this, tunnelId] { handleTunnelClosed(tunnelId); });
    if (pending.hasContext && pending.context) {
        // The user of the tunnel went away: the tunnel ends with it (gracefully).
        QPointer<TunnelSession> guarded = winner;
        m_tunnelWatches.insert(tunnelId,
                               connect(pending.context, &QObject::destroyed, this, [guarded] {
                                   if (guarded)
                                       guarded->close();
                               }));
    }
    emit tunnelOpened(tunnelId, winner->transport());
    if (pending.done)
        pending.done(winner);
}

void TunnelClient::handleTunnelClosed(quint64 tunnelId)
{
    TunnelSession *tunnel = m_tunnels.take(tunnelId);
    QObject::disconnect(m_tunnelWatches.take(tunnelId));
    if (!tunnel)
        return;
    emit tunnelClosed(tunnel->record());
    tunnel->deleteLater();
}

void TunnelClient::cancel(quint64 tunnelId)
{
    const auto it = m_pending.find(tunnelId);
    if (it == m_pending.end())
        return;
    Pending pending = std::move(*it);
    m_pending.erase(it);
    QObject::disconnect(pending.contextWatch);
    if (Racer *racer = pending.racer) {
        racer->cancel();
        emit raceFinished(racer->record());
        racer->deleteLater();
    }
}

void TunnelClient::closeAll()
{
    const QList<quint64> pending = m_pending.keys();
    for (quint64 id : pending)
        cancel(id);
    const QList<TunnelSession *> open = m_tunnels.values();
    for (TunnelSession *tunnel : open)
        tunnel->close();
}

TunnelSession *TunnelClient::tunnel(quint64 tunnelId) const
{
    return m_tunnels.value(tunnelId);
}

QList<TunnelSession *> TunnelClient::tunnels() const
{
    return m_tunnels.values();
}

QList<ConnectionSnapshot> TunnelClient::directConnections() const
{
    QList<ConnectionSnapshot> rows;
    for (const TunnelSession *tunnel : m_tunnels) {
        if (std::optional<ConnectionSnapshot> row = tunnel->directConnection())
            rows.append(*row);
    }
    std::sort(rows.begin(), rows.end(),
              [](const ConnectionSnapshot &a, const ConnectionSnapshot &b) { return a.id < b.id; });
    return rows;
}

void TunnelClient::maybeProbe()
{
    if (!m_pool || m_probeTicket || !m_transports.contains(TransportKind::H3) ||
        !m_memory.takeProbe(m_proxyKey))
        return;
    // RaceMemory: h3 is demoted for this proxy; check in the background whether UDP gets
    // through again (a pooled QUIC connection, no tunnel request). The connection stays in the
    // pool for the next h3 tunnel.
    UpstreamEndpoint endpoint;
    endpoint.transport = TransportKind::H3;
    endpoint.connect = m_connect;
    const QString key = m_proxyKey;
    qCDebug(lcRacer, "%s: probing h3", qPrintable(key));
    m_probeTicket = m_pool->checkout(
        endpoint, this,
        [this, key](const Result<UpstreamOwner *> &owner) {
            m_probeTicket = 0;
            m_memory.recordProbe(key, owner.ok(), owner.ok() ? Error() : owner.error());
        },
        QDeadlineTimer(m_connect.connectTimeoutMs));
}

} // namespace qmasque
