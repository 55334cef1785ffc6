#include "support/E2eBench.h"

#include "proxy/IpResponder.h"
#include "support/ProxyTestClient.h"
#include "support/TestPki.h"
#include "support/TunnelWaiter.h"
#include "transport/ServerConnection.h"
#include "wire/InternetChecksum.h"

#include <QtCore/QDeadlineTimer>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

namespace qmasque::test {

ProxyConfig e2eProxyConfig(bool allowLoopback)
{
    return proxyTestConfig(allowLoopback);
}

ProxyConfig withTestPkiIdentity(ProxyConfig config)
{
    const TestPki &pki = TestPki::instance();
    config.selfSigned = false;
    config.certificateFile = pki.serverCert;
    config.privateKeyFile = pki.serverKey;
    return config;
}

Profile e2eProfile(quint16 port, const QString &pinBase64, const QList<TransportKind> &transports)
{
    Profile profile;
    profile.proxy = QStringLiteral("https://127.0.0.1:%1").arg(port);
    profile.pinSha256 = {pinBase64};
    profile.transports = transports;
    return profile;
}

// E2eProxy

E2eProxy::E2eProxy(ProxyConfig config, bool ownThread)
    : m_config(std::move(config))
{
    if (ownThread) {
        m_thread = std::make_unique<QThread>();
        m_thread->setObjectName(QStringLiteral("e2e-proxy"));
        m_anchor = new QObject;
        m_anchor->moveToThread(m_thread.get());
        QObject::connect(m_thread.get(), &QThread::finished, m_anchor, &QObject::deleteLater);
        m_thread->start();
    }
}

E2eProxy::~E2eProxy()
{
    stop();
    if (m_thread) {
        m_thread->quit();
        m_thread->wait();
    }
}

void E2eProxy::onProxyThread(const std::function<void()> &work)
{
    if (!m_thread) {
        work();
        return;
    }
    QMetaObject::invokeMethod(m_anchor, work, Qt::BlockingQueuedConnection);
}

bool E2eProxy::start()
{
    if (m_proxy)
        return true;
    Status started = Error(ErrorCode::Internal);
    onProxyThread([&] {
        // Created on its own thread, so every child (listeners, sockets, timers) lives there.
        auto *proxy = new MasqueProxy(m_config);
        started = proxy->start();
        if (!started) {
            delete proxy;
            return;
        }
        m_proxy = proxy;
        m_port = proxy->endpoints().first().port;
        m_pin = proxy->identity().pinBase64();
    });
    if (!started)
        error = started.error().toString();
    return started.ok();
}

void E2eProxy::stop()
{
    if (!m_proxy)
        return;
    onProxyThread([this] {
        m_proxy->stop();
        delete m_proxy;
    });
    m_proxy = nullptr;
}

bool E2eProxy::restart()
{
    stop();
    for (ProxyListenAddress &listen : m_config.listen)
        listen.port = m_port;
    // The old sockets are closed; a UDP or TCP port number is normally free again at once,
    // but give the kernel a moment if it is not.
    QDeadlineTimer deadline(5000);
    while (!start()) {
        if (deadline.hasExpired() || !error.contains(QLatin1StringView("address_in_use")))
            return false;
        QTest::qWait(50);
    }
    return true;
}

Profile E2eProxy::profile(const QList<TransportKind> &transports) const
{
    return e2eProfile(m_port, m_pin, transports);
}

ProxyStats E2eProxy::stats()
{
    ProxyStats stats;
    if (m_proxy)
        onProxyThread([&] { stats = m_proxy->stats(); });
    return stats;
}

QList<TransportStats> E2eProxy::connectionStats()
{
    QList<TransportStats> stats;
    if (m_proxy) {
        onProxyThread([&] {
            const QList<ServerConnection *> connections =
                m_proxy->findChildren<ServerConnection *>();
            for (const ServerConnection *connection : connections)
                stats.append(connection->stats());
        });
    }
    return stats;
}

void E2eProxy::goawayAndDrain()
{
    if (m_proxy)
        onProxyThread([this] { m_proxy->goawayAndDrain(); });
}

MasqueProxy *E2eProxy::proxy() const
{
    Q_ASSERT(!m_thread);
    return m_proxy;
}

// E2eClient

E2eClient::E2eClient(const Profile &profile, const ConnectOptions &tuning, QObject *parent)
    : E2eClient(profile, PoolOptions(), tuning)
{
    setParent(parent);
}

E2eClient::E2eClient(const Profile &profile, PoolOptions options, const ConnectOptions &tuning)
{
    options.factory = defaultTransportFactory();
    pool = std::make_unique<UpstreamPool>(options);
    tunnels = std::make_unique<TunnelClient>(pool.get(), defaultTransportFactory());
    connect(tunnels.get(), &TunnelClient::raceFinished, this,
            [this](const RaceRecord &record) { races.append(record); });
    connect(tunnels.get(), &TunnelClient::tunnelClosed, this,
            [this](const TunnelRecord &record) { ended.append(record); });
    configured = tunnels->configure(profile, tuning);
}

E2eClient::~E2eClient()
{
    // Tunnels first (they hold pooled streams), then the pool.
    tunnels.reset();
    pool.reset();
}

template<typename T, typename Start>
Result<T *> E2eClient::waitOpen(Start start, int timeoutMs)
{
    std::optional<Result<T *>> result;
    TunnelWaiter waiter;
    const quint64 id = start([&](const Result<T *> &r) {
        result = r;
        waiter.poke();
    });
    if (!waiter.wait([&] { return result.has_value(); }, timeoutMs)) {
        tunnels->cancel(id);
        return Error(ErrorCode::Timeout,
                     QStringLiteral("the open did not finish in %1 ms").arg(timeoutMs));
    }
    return *result;
}

Result<UdpTunnel *> E2eClient::openUdp(const QString &host, quint16 port, int timeoutMs)
{
    return waitOpen<UdpTunnel>(
        [&](TunnelClient::UdpCallback done) {
            return tunnels->openUdp(host, port, this, std::move(done));
        },
        timeoutMs);
}

Result<TcpTunnel *> E2eClient::openTcp(const QString &host, quint16 port, int timeoutMs)
{
    return waitOpen<TcpTunnel>(
        [&](TunnelClient::TcpCallback done) {
            return tunnels->openTcp(host, port, this, std::move(done));
        },
        timeoutMs);
}

Result<IpTunnel *> E2eClient::openIp(const wire::IpScope &scope, int timeoutMs)
{
    return waitOpen<IpTunnel>(
        [&](TunnelClient::IpCallback done) {
            return tunnels->openIp(scope, this, std::move(done));
        },
        timeoutMs);
}

// Helpers

std::optional<Error> waitClosed(TunnelSession *tunnel, int timeoutMs)
{
    if (!tunnel)
        return std::nullopt;
    if (tunnel->state() == TunnelState::Closed)
        return tunnel->closeReason(); // closed() is on its way or was emitted already
    QSignalSpy closed(tunnel, &TunnelSession::closed);
    if (!closed.wait(timeoutMs))
        return std::nullopt;
    return closed.first().first().value<Error>();
}

bool udpRoundTrip(UdpTunnel *tunnel, const QByteArray &payload, int timeoutMs)
{
    bool echoed = false;
    TunnelWaiter waiter;
    tunnel->setReceiver([&](QByteArrayView data) {
        echoed = echoed || data == payload;
        waiter.poke();
    });
    // Datagrams may be lost, even on loopback: a few tries.
    bool sent = false;
    for (int attempt = 0; attempt < 5 && !echoed; ++attempt) {
        sent = tunnel->send(payload).ok() || sent;
        waiter.wait([&] { return echoed; }, timeoutMs / 5);
    }
    tunnel->setReceiver({});
    return sent && echoed;
}

QByteArray tcpRoundTrip(TcpTunnel *tunnel, const QByteArray &payload, int timeoutMs)
{
    QByteArray received;
    TunnelWaiter waiter;
    tunnel->setReceiver([&](QByteArrayView data) {
        received.append(data.data(), data.size());
        tunnel->consume(data.size());
        waiter.poke();
    });
    qint64 written = 0;
    QDeadlineTimer deadline(timeoutMs);
    while (written < payload.size() && !deadline.hasExpired()) {
        const Result<qint64> accepted = tunnel->write(QByteArrayView(payload).sliced(written));
        if (!accepted)
            break;
        written += *accepted;
        if (written < payload.size())
            QTest::qWait(1);
    }
    waiter.wait([&] { return received.size() >= payload.size(); },
                int(qMax<qint64>(1, deadline.remainingTime())));
    tunnel->setReceiver({});
    return received;
}

QString describeRace(const RaceRecord &record)
{
    QStringList parts;
    for (const RaceAttempt &attempt : record.attempts) {
        parts << QStringLiteral("%1@%2ms+%3ms=%4")
                     .arg(QLatin1StringView(transportKindName(attempt.transport)))
                     .arg(attempt.startOffsetMs)
                     .arg(attempt.durationMs)
                     .arg(attempt.result);
    }
    return parts.join(u' ');
}

bool endedByTheConnection(const Error &reason, TransportKind kind)
{
    if (kind == TransportKind::H1 && reason.code == ErrorCode::PeerFin)
        return true;
    switch (reason.code) {
    case ErrorCode::ConnectionClosed:
    case ErrorCode::ConnectionLost:
    case ErrorCode::ConnectionRefused:
    case ErrorCode::IdleTimeout:
    case ErrorCode::StatelessReset:
    case ErrorCode::Goaway:
    case ErrorCode::PeerReset:
        return true;
    default:
        return false;
    }
}

} // namespace qmasque::test
