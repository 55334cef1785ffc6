#include "proxy/MasqueProxy.h"

#include "core/Log.h"
#include "proxy/IpAddressPool.h"
#include "proxy/IpRouter.h"
#include "proxy/ProxyAuth.h"
#include "proxy/ProxyConnection.h"
#include "proxy/ProxyContext.h"
#include "proxy/ProxyRequest.h"
#include "transport/h3/H3ServerListener.h"
#include "transport/tls/TlsServerListener.h"

#include <QtNetwork/QHostInfo>

namespace qmasque {

namespace {

constexpr int kPortAttempts = 32; // port 0: tries to find a number free for both TCP and UDP

QList<wire::IpPrefix> gatewayHosts(const IpAddressPool &pool)
{
    QList<wire::IpPrefix> hosts;
    for (int version : {4, 6}) {
        const wire::IpAddress gateway = pool.gateway(version);
        if (!gateway.isNull())
            hosts.append(wire::IpPrefix::host(gateway));
    }
    return hosts;
}

} // namespace

MasqueProxy::MasqueProxy(const ProxyConfig &config, QObject *parent)
    : QObject(parent)
    , m_context(std::make_unique<ProxyContext>())
{
    m_context->config = config;
    // A child, so moveToThread() takes the timer along (embedding on the demo's thread).
    m_drainTimer.setParent(this);
    m_drainTimer.setSingleShot(true);
    connect(&m_drainTimer, &QTimer::timeout, this, [this] {
        qCInfo(lcProxy).noquote()
            << QStringLiteral("drain deadline: closing %1 connections").arg(m_connections.size());
        stop();
    });
}

MasqueProxy::~MasqueProxy()
{
    // Tunnels refer to the context: they go first, then the connections' transports.
    const QList<ProxyConnection *> connections = std::exchange(m_connections, {});
    qDeleteAll(connections);
    const QList<ServerListener *> listeners = std::exchange(m_listeners, {});
    qDeleteAll(listeners);
    delete m_router;
}

const ProxyConfig &MasqueProxy::config() const
{
    return m_context->config;
}

Status MasqueProxy::start()
{
    if (m_started)
        return Error(ErrorCode::InvalidArgument, QStringLiteral("already started"));
    m_started = true;
    ProxyConfig &config = m_context->config;
    if (Status valid = validateProxyConfig(config); !valid)
        return valid;

    const QList<ProxyListenAddress> listen = effectiveListen(config);
    if (config.selfSigned) {
        QStringList names{QStringLiteral("localhost")};
        const QString hostName = QHostInfo::localHostName();
        if (!hostName.isEmpty())
            names.append(hostName);
        QList<QHostAddress> addresses{QHostAddress(QHostAddress::LocalHost),
                                      QHostAddress(QHostAddress::LocalHostIPv6)};
        for (const ProxyListenAddress &entry : listen) {
            if (entry.address != QHostAddress::Any && entry.address != QHostAddress::AnyIPv4 &&
                entry.address != QHostAddress::AnyIPv6)
                addresses.append(entry.address);
        }
        auto identity = ProxyIdentity::generateSelfSigned(names, addresses);
        if (!identity)
            return identity.error();
        m_identity = std::move(identity.value());
    } else {
        auto identity = ProxyIdentity::fromFiles(config.certificateFile, config.privateKeyFile);
        if (!identity)
            return identity.error();
        m_identity = std::move(identity.value());
    }
    config.certificateFile = m_identity.certificateFile();
    config.privateKeyFile = m_identity.privateKeyFile();

    m_context->acl = AccessControl(config.allow);
    m_pool = std::make_unique<IpAddressPool>(effectivePools(config));
    m_context->ipPool = m_pool.get();
    QList<wire::IpPrefix> ipAllow = config.allow;
    ipAllow.append(gatewayHosts(*m_pool));
    m_context->ipAcl = AccessControl(ipAllow);
    m_auth = std::make_unique<ProxyAuth>(config.credentials, config.proxyName);
    m_parser = std::make_unique<ProxyRequestParser>(config);

    if (!config.tunDevice.isEmpty()) {
        QList<wire::IpPrefix> gateways;
        for (const wire::IpPrefix &pool : effectivePools(config))
            gateways.append(wire::IpPrefix{m_pool->gateway(pool.address.version()), pool.length});
        m_router = new IpRouter(this);
        if (Status opened = m_router->open(config.tunDevice, gateways); !opened) {
            delete m_router;
            m_router = nullptr;
            return opened;
        }
        m_context->ipRouter = m_router;
    }

    for (const ProxyListenAddress &entry : listen) {
        if (Status bound = listenOn(entry); !bound) {
            stop();
            return bound;
        }
    }
    return {};
}

Result<ServerListener *> MasqueProxy::makeListener(bool h3, const QHostAddress &address,
                                                   quint16 port)
{
    const ServerOptions options = m_context->config.serverOptions();
    ServerListener *listener = nullptr;
    if (h3)
        listener = new H3ServerListener(options, this);
    else
        listener = new TlsServerListener(options, this);
    if (Status bound = listener->listen(address, port); !bound) {
        delete listener;
        return bound.error();
    }
    connect(listener, &ServerListener::newConnection, this, &MasqueProxy::handleNewConnection);
    return listener;
}

Status MasqueProxy::listenOn(const ProxyListenAddress &listen)
{
    const ProxyConfig &config = m_context->config;
    const bool tls = config.enableH1 || config.enableH2;
    const bool h3 = config.enableH3;
    // One port number for both: the TLS listener picks it (or takes the given one), the QUIC
    // listener binds the same number on UDP. With port 0, a number taken on UDP is retried.
    const int attempts = listen.port == 0 && tls && h3 ? kPortAttempts : 1;
    Error lastError;
    for (int attempt = 0; attempt < attempts; ++attempt) {
        Result<ServerListener *> first = makeListener(!tls, listen.address, listen.port);
        if (!first)
            return first.error();
        const quint16 port = (*first)->serverPort();
        ServerListener *second = nullptr;
        if (tls && h3) {
            auto quic = makeListener(true, listen.address, port);
            if (!quic) {
                delete *first;
                lastError = quic.error();
                if (quic.error().code == ErrorCode::AddressInUse && listen.port == 0)
                    continue;
                return lastError;
            }
            second = *quic;
        }
        m_listeners.append(*first);
        if (second)
            m_listeners.append(second);
        m_endpoints.append(Endpoint{listen.address, port, h3, tls});
        return {};
    }
    return lastError;
}

void MasqueProxy::handleNewConnection(ServerConnection *connection)
{
    auto *proxyConnection =
        new ProxyConnection(*this, connection, m_context->nextConnectionId++, this);
    m_connections.append(proxyConnection);
    connect(proxyConnection, &ProxyConnection::finished, this,
            &MasqueProxy::handleConnectionFinished);
    if (m_draining)
        proxyConnection->goaway();
}

void MasqueProxy::handleConnectionFinished(ProxyConnection *connection)
{
    if (!m_connections.removeOne(connection))
        return;
    connection->deleteLater(); // it is emitting
    checkDrained();
}

void MasqueProxy::goawayAndDrain()
{
    if (m_draining)
        return;
    m_draining = true;
    qCInfo(lcProxy).noquote() << QStringLiteral("draining: GOAWAY to %1 connections, %2 ms")
                                     .arg(m_connections.size())
                                     .arg(m_context->config.drainTimeoutMs);
    for (ServerListener *listener : std::as_const(m_listeners))
        listener->goawayAll();
    for (ProxyConnection *connection : std::as_const(m_connections))
        connection->goaway();
    m_drainTimer.start(m_context->config.drainTimeoutMs);
    checkDrained();
}

void MasqueProxy::stop()
{
    const Error reason(ErrorCode::Shutdown, QStringLiteral("the proxy stopped"));
    const QList<ProxyConnection *> connections = m_connections;
    for (ProxyConnection *connection : connections)
        connection->terminate(reason);
    for (ServerListener *listener : std::as_const(m_listeners))
        listener->close();
    // Closing is reported queued; connections leave through handleConnectionFinished.
    checkDrained();
}

void MasqueProxy::checkDrained()
{
    if (!m_draining || m_drainedEmitted || !m_connections.isEmpty())
        return;
    m_drainedEmitted = true;
    m_drainTimer.stop();
    QMetaObject::invokeMethod(this, &MasqueProxy::drained, Qt::QueuedConnection);
}

ProxyStats MasqueProxy::stats() const
{
    ProxyStats stats = m_context->metrics.totals();
    for (const ProxyConnection *connection : m_connections) {
        connection->addLiveCounters(&stats.bytesUp, &stats.bytesDown, &stats.datagramsUp,
                                    &stats.datagramsDown);
    }
    return stats;
}

const MetricsRegistry &MasqueProxy::metrics() const
{
    return m_context->metrics.registry();
}

} // namespace qmasque
