#pragma once

#include "support/TestPackets.h"

#include "api/Profile.h"
#include "pool/UpstreamPool.h"
#include "proxy/MasqueProxy.h"
#include "proxy/ProxyConfig.h"
#include "tunnel/TunnelClient.h"
#include "wire/IpAddress.h"

#include <QtCore/QObject>
#include <QtCore/QThread>

#include <functional>
#include <memory>
#include <optional>

namespace qmasque::test {

// End-to-end fixtures: the client as the application runs it (TunnelClient over an UpstreamPool
// with the real h1/h2/h3 transports, configured from a Profile) against qmasque-proxy
// (MasqueProxy in process here; the binary is ProxyProcess.h).

// e2eProxyConfig: a proxy on 127.0.0.1 port 0 with a fresh self-signed identity, loopback
// targets allowed unless `allowLoopback` is false, short DNS/connect/drain timeouts.
ProxyConfig e2eProxyConfig(bool allowLoopback = true);
// withTestPkiIdentity: `config` serving the TestPki server certificate instead of a fresh
// self-signed one, so a restarted proxy keeps the pin the client was configured with.
ProxyConfig withTestPkiIdentity(ProxyConfig config);

// e2eProfile: a client profile for https://127.0.0.1:<port> pinned to `pinBase64`, racing
// `transports` in that order.
Profile e2eProfile(quint16 port, const QString &pinBase64, const QList<TransportKind> &transports);

// E2eProxy: a MasqueProxy for the tests, on the test's thread or (ownThread) on a QThread of its
// own, as the GUI's demo embeds it, so bulk transfers use both cores. Every call is made on the
// proxy's thread (blocking queued when it has its own); proxy() is only for the same-thread case.
class E2eProxy
{
public:
    explicit E2eProxy(ProxyConfig config = e2eProxyConfig(), bool ownThread = false);
    ~E2eProxy();
    Q_DISABLE_COPY_MOVE(E2eProxy)

    // start: false with `error` set when the proxy did not start.
    bool start();
    // stop: the proxy closes everything now (QUIC CONNECTION_CLOSE, TLS close) and is deleted.
    // port() stays valid for restart().
    void stop();
    // restart: a new proxy with the same configuration on the same port (retrying a little
    // while the port number is still held by the kernel).
    bool restart();
    bool isRunning() const { return m_proxy != nullptr; }

    quint16 port() const { return m_port; }
    QString pin() const { return m_pin; }
    Profile profile(const QList<TransportKind> &transports) const;
    ProxyConfig &config() { return m_config; }

    ProxyStats stats();
    // connectionStats: the transport statistics of the proxy's client connections (test
    // introspection: the listeners' ServerConnection children).
    QList<TransportStats> connectionStats();
    // goawayAndDrain: MasqueProxy::goawayAndDrain() on the proxy's thread.
    void goawayAndDrain();
    MasqueProxy *proxy() const;

    QString error;

private:
    void onProxyThread(const std::function<void()> &work);

    ProxyConfig m_config;
    std::unique_ptr<QThread> m_thread;
    QObject *m_anchor = nullptr;    // lives on m_thread: the context of the calls made there
    MasqueProxy *m_proxy = nullptr; // owned; deleted on its thread
    quint16 m_port = 0;
    QString m_pin;
};

// E2eClient: an UpstreamPool and a TunnelClient configured from a profile, with blocking open
// helpers. Records every race and every ended tunnel.
class E2eClient : public QObject
{
    Q_OBJECT

public:
    explicit E2eClient(const Profile &profile, const ConnectOptions &tuning = {},
                       QObject *parent = nullptr);
    // With pool options of the test's own (the factory is always the real transports').
    E2eClient(const Profile &profile, PoolOptions poolOptions, const ConnectOptions &tuning = {});
    ~E2eClient() override;

    // configured: the result of TunnelClient::configure().
    Status configured;
    std::unique_ptr<UpstreamPool> pool;
    std::unique_ptr<TunnelClient> tunnels;
    QList<RaceRecord> races;
    QList<TunnelRecord> ended;

    // open*: runs the event loop until the open finished (or `timeoutMs`: timeout error, and the
    // open is cancelled).
    Result<UdpTunnel *> openUdp(const QString &host, quint16 port, int timeoutMs = 20000);
    Result<TcpTunnel *> openTcp(const QString &host, quint16 port, int timeoutMs = 20000);
    Result<IpTunnel *> openIp(const wire::IpScope &scope = {}, int timeoutMs = 20000);

    // connectionCount: pooled connections alive now.
    int connectionCount() const { return int(pool->owners().size()); }

private:
    template<typename T, typename Start>
    Result<T *> waitOpen(Start start, int timeoutMs);
};

// why: the error text of a failed Result or Status, empty on success. For QVERIFY2 messages,
// which are evaluated whether the check failed or not (error() of a success is undefined).
template<typename R>
QString why(const R &result)
{
    return result ? QString() : result.error().toString();
}

// waitClosed: runs the event loop until `tunnel` emitted closed() (or was closed already);
// its close reason, or nothing after `timeoutMs`.
std::optional<Error> waitClosed(TunnelSession *tunnel, int timeoutMs = 10000);

// udpRoundTrip: one payload through a UDP tunnel to an echo and back, intact, within
// `timeoutMs` (a replacement receiver is installed for the duration).
bool udpRoundTrip(UdpTunnel *tunnel, const QByteArray &payload, int timeoutMs = 5000);

// TcpRoundTrip: writes `payload` and waits until as many bytes came back; returns them.
QByteArray tcpRoundTrip(TcpTunnel *tunnel, const QByteArray &payload, int timeoutMs = 5000);

// describeRace: a race's attempts on one line, "h3@0ms+4ms=ok h2@250ms+0ms=cancelled", for
// failure messages.
QString describeRace(const RaceRecord &record);

// endedByTheConnection: the close reasons that say "the proxy's connection went away". Over
// HTTP/1.1 the connection is the stream, and the TLS socket reports the proxy's close as the
// end of the stream whether a close_notify came or not: there a stopped proxy looks like one
// that ended the tunnel (peer_fin).
bool endedByTheConnection(const Error &reason, TransportKind kind);

} // namespace qmasque::test
