#include "local/UdpForwarder.h"

#include "core/Log.h"
#include "local/LocalTcpListener.h"
#include "tunnel/TunnelClient.h"

#include <QtCore/QPointer>

#include <cerrno>
#include <cstring>
#include <deque>
#include <netinet/in.h>
#include <sys/socket.h>

namespace qmasque {

// UdpForwardPeer: one local peer address and its tunnel.
struct UdpForwardPeer
{
    UdpForwarder::PeerKey key;
    SocketAddress address; // where replies go
    QString name;          // "127.0.0.1:40000", for the dashboard and logs
    quint64 openId = 0;    // while the tunnel opens
    QPointer<UdpTunnel> tunnel;
    QMetaObject::Connection closedWatch;
    std::deque<QByteArray> queue; // while the tunnel opens
    qint64 queuedBytes = 0;
    qint64 lastActivityMs = 0;
};

namespace {

UdpForwarder::PeerKey keyOf(const sockaddr_storage &address)
{
    UdpForwarder::PeerKey key;
    key.family = quint8(address.ss_family);
    if (address.ss_family == AF_INET) {
        const auto *in = reinterpret_cast<const sockaddr_in *>(&address);
        std::memcpy(key.address.data(), &in->sin_addr, 4);
        key.port = ntohs(in->sin_port);
    } else if (address.ss_family == AF_INET6) {
        const auto *in6 = reinterpret_cast<const sockaddr_in6 *>(&address);
        std::memcpy(key.address.data(), &in6->sin6_addr, 16);
        key.port = ntohs(in6->sin6_port);
    }
    return key;
}

QString nameOf(const SocketAddress &address)
{
    QHostAddress host(address.get());
    const quint16 port =
        address.family() == AF_INET
            ? ntohs(reinterpret_cast<const sockaddr_in *>(address.get())->sin_port)
            : ntohs(reinterpret_cast<const sockaddr_in6 *>(address.get())->sin6_port);
    if (address.family() == AF_INET6)
        return QStringLiteral("[%1]:%2").arg(host.toString()).arg(port);
    return QStringLiteral("%1:%2").arg(host.toString()).arg(port);
}

} // namespace

size_t UdpForwarder::PeerKeyHash::operator()(const PeerKey &key) const noexcept
{
    return qHashBits(key.address.data(), key.address.size(), size_t(key.port) << 8 | key.family);
}

UdpForwarder::UdpForwarder(TunnelClient *client, const Forward &forward, int idleTimeoutMs,
                           QObject *parent)
    : UdpForwarder(client, forward, idleTimeoutMs, UdpForwarderOptions(), parent)
{}

UdpForwarder::UdpForwarder(TunnelClient *client, const Forward &forward, int idleTimeoutMs,
                           const UdpForwarderOptions &options, QObject *parent)
    : LocalFrontEnd(parent)
    , m_client(client)
    , m_forward(forward)
    , m_idleTimeoutMs(idleTimeoutMs)
    , m_options(options)
    , m_bound(forward.local)
{
    connect(&m_sweepTimer, &QTimer::timeout, this, &UdpForwarder::handleSweep);
}

UdpForwarder::~UdpForwarder()
{
    stop();
}

Status UdpForwarder::start()
{
    if (m_fd.isValid())
        return {};
    const QString what = QStringLiteral("udp-forward %1").arg(m_forward.local.toString());
    const QHostAddress address = listenAddress(m_forward.local.host);
    if (address.isNull())
        return Error(ErrorCode::InvalidConfig,
                     what + QStringLiteral(": the listen address must be an IP address"));
    const SocketAddress local = SocketAddress::from(address, m_forward.local.port);
    auto fd = openNonBlockingSocket(local.family(), SOCK_DGRAM);
    if (!fd)
        return fd.error();
    if (local.family() == AF_INET6) {
        // "::" serves IPv4 peers too (as ::ffff:a.b.c.d).
        const int off = 0;
        (void)::setsockopt(fd->get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    }
    if (::bind(fd->get(), local.get(), local.length) != 0) {
        const int error = errno;
        const QString detail =
            what + QStringLiteral(": ") + QString::fromLocal8Bit(strerror(error));
        if (error == EADDRINUSE)
            return Error(ErrorCode::AddressInUse, detail);
        if (error == EACCES || error == EPERM)
            return Error(ErrorCode::PermissionDenied, detail);
        if (error == EADDRNOTAVAIL)
            return Error(ErrorCode::InvalidConfig, detail);
        return Error(ErrorCode::Io, detail);
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof(bound);
    if (::getsockname(fd->get(), reinterpret_cast<sockaddr *>(&bound), &length) == 0)
        m_bound.port = keyOf(bound).port;
    m_fd = std::move(*fd);
    m_buffer.resize(65536);
    m_notifier = std::make_unique<QSocketNotifier>(m_fd.get(), QSocketNotifier::Read);
    connect(m_notifier.get(), &QSocketNotifier::activated, this, &UdpForwarder::handleReadable);
    m_clock.start();
    if (m_idleTimeoutMs > 0)
        m_sweepTimer.start(qMax(10, m_idleTimeoutMs / 4));
    qCInfo(lcLocal).noquote() << description() << "listening";
    return {};
}

void UdpForwarder::stop()
{
    m_sweepTimer.stop();
    m_notifier.reset(); // before the descriptor
    m_fd.reset();
    while (!m_peers.empty())
        removePeer(m_peers.begin()->second.get());
}

QString UdpForwarder::description() const
{
    return QStringLiteral("udp-forward %1=%2").arg(m_bound.toString(), m_forward.target.toString());
}

void UdpForwarder::handleReadable()
{
    for (int reads = 0; reads < kMaxReadsPerWake && m_fd.isValid(); ++reads) {
        SocketAddress from;
        from.length = sizeof(from.storage);
        const ssize_t n = ::recvfrom(m_fd.get(), m_buffer.data(), size_t(m_buffer.size()), 0,
                                     reinterpret_cast<sockaddr *>(&from.storage), &from.length);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            // EAGAIN: drained. Other errors (an ICMP error queued for an earlier reply) concern
            // one datagram, not the socket: the next read goes on.
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            continue;
        }
        handleDatagram(keyOf(from.storage), from, QByteArrayView(m_buffer.constData(), n));
    }
}

void UdpForwarder::handleDatagram(const PeerKey &key, const SocketAddress &from,
                                  QByteArrayView payload)
{
    UdpForwardPeer *peer = nullptr;
    if (auto it = m_peers.find(key); it != m_peers.end()) {
        peer = it->second.get();
    } else {
        peer = addPeer(key, from);
        if (!peer) {
            ++m_counters.dropPeerLimit;
            return;
        }
    }
    peer->lastActivityMs = m_clock.elapsed();
    if (peer->tunnel) {
        if (Status sent = peer->tunnel->send(payload); !sent) {
            ++m_counters.dropTunnelRefused;
            return;
        }
        ++m_counters.datagramsUp;
        m_counters.bytesUp += quint64(payload.size());
        return;
    }
    // The tunnel is opening: keep it, within bounds.
    if (int(peer->queue.size()) >= m_options.maxQueuedDatagrams ||
        peer->queuedBytes + payload.size() > m_options.maxQueuedBytes) {
        ++m_counters.dropQueueFull;
        return;
    }
    peer->queue.emplace_back(payload.data(), payload.size());
    peer->queuedBytes += payload.size();
    if (peer->openId == 0)
        openTunnel(peer);
}

UdpForwardPeer *UdpForwarder::addPeer(const PeerKey &key, const SocketAddress &from)
{
    if (int(m_peers.size()) >= m_options.maxPeers)
        return nullptr;
    auto peer = std::make_unique<UdpForwardPeer>();
    peer->key = key;
    peer->address = from;
    peer->name = nameOf(from);
    UdpForwardPeer *raw = peer.get();
    m_peers.emplace(key, std::move(peer));
    return raw;
}

void UdpForwarder::openTunnel(UdpForwardPeer *peer)
{
    // The callback is not called once removePeer() cancelled the open, so `peer` is alive.
    peer->openId = m_client->openUdp(
        m_forward.target.host, m_forward.target.port, this,
        [this, peer](const Result<UdpTunnel *> &result) {
            peer->openId = 0;
            if (!result) {
                qCDebug(lcLocal).noquote()
                    << description() << peer->name << result.error().toString();
                m_counters.dropOpenFailed += quint64(peer->queue.size());
                peer->queue.clear();
                removePeer(peer);
                return;
            }
            UdpTunnel *tunnel = *result;
            peer->tunnel = tunnel;
            ++m_counters.peersOpened;
            peer->closedWatch = connect(tunnel, &TunnelSession::closed, this,
                                        [this, peer](const Error &) { removePeer(peer); });
            tunnel->setReceiver(
                [this, peer](QByteArrayView payload) { sendToPeer(peer, payload); });
            // RFC 9298, 5: what arrived while the tunnel opened goes now, in order.
            for (const QByteArray &payload : std::exchange(peer->queue, {})) {
                if (Status sent = tunnel->send(payload); !sent) {
                    ++m_counters.dropTunnelRefused;
                    continue;
                }
                ++m_counters.datagramsUp;
                m_counters.bytesUp += quint64(payload.size());
            }
            peer->queuedBytes = 0;
        },
        QStringLiteral("udp-forward ") + peer->name);
}

void UdpForwarder::sendToPeer(UdpForwardPeer *peer, QByteArrayView payload)
{
    if (!m_fd.isValid())
        return;
    peer->lastActivityMs = m_clock.elapsed();
    const ssize_t n = ::sendto(m_fd.get(), payload.data(), size_t(payload.size()), MSG_DONTWAIT,
                               peer->address.get(), peer->address.length);
    if (n != ssize_t(payload.size())) {
        ++m_counters.dropSendFailed; // UDP: a full socket buffer loses the datagram
        return;
    }
    ++m_counters.datagramsDown;
    m_counters.bytesDown += quint64(payload.size());
}

void UdpForwarder::removePeer(UdpForwardPeer *peer)
{
    auto it = m_peers.find(peer->key);
    if (it == m_peers.end() || it->second.get() != peer)
        return;
    std::unique_ptr<UdpForwardPeer> owned = std::move(it->second);
    m_peers.erase(it);
    if (owned->openId != 0)
        m_client->cancel(owned->openId);
    if (owned->tunnel) {
        disconnect(owned->closedWatch);
        // Never called from inside the tunnel's receiver, so the receiver may be replaced.
        owned->tunnel->setReceiver({});
        owned->tunnel->close();
    }
}

void UdpForwarder::handleSweep()
{
    const qint64 now = m_clock.elapsed();
    std::vector<UdpForwardPeer *> idle;
    for (const auto &[key, peer] : m_peers) {
        // A peer still opening is not idle: its open has its own deadline (the race).
        if (peer->openId == 0 && now - peer->lastActivityMs >= m_idleTimeoutMs)
            idle.push_back(peer.get());
    }
    for (UdpForwardPeer *peer : idle) {
        qCDebug(lcLocal).noquote() << description() << peer->name << "idle: closed";
        removePeer(peer);
    }
}

} // namespace qmasque
