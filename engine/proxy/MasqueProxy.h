#pragma once

#include "api/Result.h"
#include "proxy/ProxyConfig.h"
#include "proxy/ProxyIdentity.h"
#include "proxy/ProxyMetrics.h"

#include <QtCore/QObject>
#include <QtCore/QTimer>
#include <QtNetwork/QHostAddress>

#include <memory>

namespace qmasque {

class IpAddressPool;
class IpRouter;
class ProxyAuth;
class ProxyConnection;
class ProxyRequestParser;
class ServerConnection;
class ServerListener;
struct ProxyContext;

// MasqueProxy: the MASQUE proxy as a library object (qmasque-proxy's main, the tests, and the
// GUI's --demo, which runs it on a QThread of its own). It serves CONNECT (classic and
// connect-tcp), CONNECT-UDP and CONNECT-IP over h3 (QUIC on UDP) and h2/h1 (TLS over TCP) on the
// same port number of every listen address.
//
//     MasqueProxy proxy(config);                 // ProxyConfig.h
//     if (Status ok = proxy.start(); !ok) ...    // binds, loads or generates the identity
//     proxy.endpoints();                         // the bound ports (port 0 picks one)
//     proxy.identity().pinBase64();              // for clients: --pin-sha256
//     proxy.goawayAndDrain();                    // later: GOAWAY, drained() when done
//
// Embedding on another thread: create the MasqueProxy without a parent, moveToThread() it, and
// call start() / goawayAndDrain() / stop() through QMetaObject::invokeMethod (queued); every
// object it creates (listeners, connections, tunnels, sockets, timers) is its descendant and
// lives on its thread. stats() and metrics() must be called on that thread too.
//
// Ownership: listeners, ProxyConnections and the IpRouter are children; tunnels are children of
// their ProxyConnection. Not thread-safe.
class MasqueProxy final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MasqueProxy)

public:
    // Endpoint: one listen address as bound.
    struct Endpoint
    {
        QHostAddress address;
        quint16 port = 0;
        bool h3 = false;  // UDP listener
        bool tls = false; // TCP listener (h2 and/or h1)
    };

    explicit MasqueProxy(const ProxyConfig &config, QObject *parent = nullptr);
    ~MasqueProxy() override;

    // start: validates the configuration, loads or generates the identity, opens the TUN device
    // (--tun) and binds every listen address. Errors: invalid_config, address_in_use,
    // permission_denied, io_error. On failure nothing stays bound. Call once.
    Status start();

    QList<Endpoint> endpoints() const { return m_endpoints; }
    const ProxyIdentity &identity() const { return m_identity; }
    const ProxyConfig &config() const;

    // goawayAndDrain: stops accepting, sends GOAWAY on every connection and lets open tunnels
    // finish; after ProxyConfig::drainTimeoutMs the rest is closed. drained() follows (queued)
    // once no connection is left. Idempotent.
    void goawayAndDrain();
    // stop: closes every tunnel, connection and listener now; drained() follows if a drain was
    // in progress. Idempotent.
    void stop();
    bool isDraining() const noexcept { return m_draining; }

    ProxyStats stats() const;
    const MetricsRegistry &metrics() const;

    // For ProxyConnection.
    ProxyContext &context() { return *m_context; }
    const ProxyAuth &auth() const { return *m_auth; }
    const ProxyRequestParser &parser() const { return *m_parser; }

Q_SIGNALS:
    // drained: after goawayAndDrain(), every connection is gone.
    void drained();

private:
    Status listenOn(const ProxyListenAddress &listen);
    Result<ServerListener *> makeListener(bool h3, const QHostAddress &address, quint16 port);
    void handleNewConnection(ServerConnection *connection);
    void handleConnectionFinished(ProxyConnection *connection);
    void checkDrained();

    std::unique_ptr<ProxyContext> m_context;
    std::unique_ptr<ProxyAuth> m_auth;
    std::unique_ptr<ProxyRequestParser> m_parser;
    std::unique_ptr<IpAddressPool> m_pool;
    ProxyIdentity m_identity;
    IpRouter *m_router = nullptr;           // child
    QList<ServerListener *> m_listeners;    // children
    QList<ProxyConnection *> m_connections; // children
    QList<Endpoint> m_endpoints;
    QTimer m_drainTimer;
    bool m_started = false;
    bool m_draining = false;
    bool m_drainedEmitted = false;
};

} // namespace qmasque
