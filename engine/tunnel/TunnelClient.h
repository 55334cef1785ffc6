#pragma once

#include "api/EngineEvents.h"
#include "api/Profile.h"
#include "pool/UpstreamPool.h"
#include "tunnel/IpTunnel.h"
#include "tunnel/RaceMemory.h"
#include "tunnel/Racer.h"
#include "tunnel/TcpTunnel.h"
#include "tunnel/TunnelRequest.h"
#include "tunnel/UdpTunnel.h"

#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QPointer>

#include <functional>

namespace qmasque {

// TunnelClient: the one object the engine and the local front ends (SOCKS5, HTTP proxy,
// forwards, TUN) open tunnels with. It owns no connection: h2/h3 streams come from the
// UpstreamPool, h1 connections from the TransportFactory; it races the profile's transports
// (Racer), remembers per proxy what worked (RaceMemory), and owns the tunnels it opened.
//
// Using it:
//   configure(profile);                           // once, and again when the profile changes
//   client.openTcp("example.com", 443, socksConn, [=](const Result<TcpTunnel *> &r) { ... });
// The callback runs exactly once, from the event loop (never inside open*()), with the open
// tunnel or the typed error of the race (errorRank(): a refusal carries httpStatus and the
// Proxy-Status fields). It is not called if cancel(id) came first or `context` was destroyed
// first; then the race is aborted and nothing is left behind.
//
// The tunnel belongs to the client: use it (write/send, receivers, close()) until its closed()
// signal; the client deletes it afterwards (deleteLater(): keep a QPointer). When `context` is
// destroyed while the tunnel is open, the tunnel is closed gracefully. Every tunnel that ended,
// and every race that failed, is reported with tunnelClosed(TunnelRecord) (a failed race with
// the record of the attempt whose error it reports); every race with raceFinished(RaceRecord),
// also a cancelled one; every failed open with tunnelFailed(), also one refused before racing
// (bad target, no profile).
//
// Engine thread only. The pool (not owned) must outlive the client, or be destroyed with it.
class TunnelClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TunnelClient)

public:
    using UdpCallback = std::function<void(const Result<UdpTunnel *> &)>;
    using TcpCallback = std::function<void(const Result<TcpTunnel *> &)>;
    using IpCallback = std::function<void(const Result<IpTunnel *> &)>;

    // `pool` may be null: then every transport dials its own connection (tests, one-off tools).
    TunnelClient(UpstreamPool *pool, TransportFactory factory, QObject *parent = nullptr);
    ~TunnelClient() override;

    // configure: takes the proxy URL, trust settings, transports and their head starts, the
    // connect timeout (the race deadline), proxy-auth, headers, templates and the TCP mode.
    // Errors: invalid_config, reserved_header, header_injection (see TunnelRequestSettings).
    // Tunnels already open keep their settings. `tuning` supplies what a profile does not set
    // (receive windows, send buffers, keepalive, idle timeout, QUIC datagram limits); its host,
    // port, TLS and connect timeout are replaced by the profile's.
    Status configure(const Profile &profile, const ConnectOptions &tuning = {});
    bool isConfigured() const noexcept { return m_configured; }
    // connectOptions: how the configured proxy is reached (host, port, TLS, timeouts): what
    // every tunnel's transport dials with (the engine's start-up probe dials the same).
    const ConnectOptions &connectOptions() const noexcept { return m_connect; }

    // open*: starts racing a tunnel; returns its tunnel id (never 0). `localClient` names the
    // local user in the dashboard ("socks5 127.0.0.1:51234"). Bad targets fail through the
    // callback (bad_host, bad_port, bad_target).
    quint64 openUdp(const QString &host, quint16 port, QObject *context, UdpCallback done,
                    const QString &localClient = {});
    quint64 openTcp(const QString &host, quint16 port, QObject *context, TcpCallback done,
                    const QString &localClient = {});
    quint64 openIp(const wire::IpScope &scope, QObject *context, IpCallback done,
                   const QString &localClient = {}, qint64 mtu = IpTunnel::kDefaultMtu);

    // cancel: forgets a pending open (its callback is not called) and aborts its race.
    // Ignored for unknown ids and for tunnels already open (close those).
    void cancel(quint64 tunnelId);
    // closeAll: cancels every pending open and closes every open tunnel gracefully.
    void closeAll();

    // tunnel: an open tunnel by id (null when unknown or gone).
    TunnelSession *tunnel(quint64 tunnelId) const;
    QList<TunnelSession *> tunnels() const;
    int pendingOpens() const { return int(m_pending.size()); }
    // directConnections: dashboard rows of the connections h1 (and unpooled) tunnels own.
    QList<ConnectionSnapshot> directConnections() const;

    RaceMemory &raceMemory() noexcept { return m_memory; }
    // proxyKey: the RaceMemory key of the configured proxy ("host:port", lower case).
    const QString &proxyKey() const noexcept { return m_proxyKey; }

Q_SIGNALS:
    void tunnelOpened(quint64 tunnelId, qmasque::TransportKind transport);
    void tunnelFailed(quint64 tunnelId, const qmasque::Error &error);
    void tunnelClosed(const qmasque::TunnelRecord &record);
    void raceFinished(const qmasque::RaceRecord &record);

private:
    using AnyCallback = std::function<void(const Result<TunnelSession *> &)>;

    struct Pending
    {
        Racer *racer = nullptr; // child; null when the open failed before racing
        QPointer<QObject> context;
        bool hasContext = false;
        QMetaObject::Connection contextWatch;
        AnyCallback done;
    };

    quint64 open(const TunnelTarget &target, QObject *context, AnyCallback done,
                 const QString &localClient, qint64 mtu);
    TunnelSession *makeSession(const TunnelTarget &target, const Request &request,
                               const QString &localClient, qint64 mtu, quint64 tunnelId,
                               TransportKind transport, int handshakeTimeoutMs, QObject *parent);
    void failLater(quint64 tunnelId, const Error &error);
    void handleRaceFinished(quint64 tunnelId, TunnelSession *winner, const Error &error);
    void handleTunnelClosed(quint64 tunnelId);
    void maybeProbe();

    QPointer<UpstreamPool> m_pool;
    const TransportFactory m_factory;
    bool m_configured = false;
    TunnelRequestSettings m_settings;
    ConnectOptions m_connect;
    QList<TransportKind> m_transports;
    RacePlan m_plan;
    QString m_proxyKey;
    RaceMemory m_memory;
    PoolTicket m_probeTicket = 0;

    QHash<quint64, Pending> m_pending;
    QHash<quint64, TunnelSession *> m_tunnels; // children
    QHash<quint64, QMetaObject::Connection> m_tunnelWatches;
};

} // namespace qmasque
