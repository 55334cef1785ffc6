#pragma once

#include "api/Profile.h"
#include "local/LocalFrontEnd.h"
#include "proxy/SocketUtil.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QSocketNotifier>
#include <QtCore/QTimer>

#include <array>
#include <memory>
#include <unordered_map>

namespace qmasque {

class TunnelClient;
struct UdpForwardPeer;

// UdpForwarderOptions: limits of a udp-forward.
struct UdpForwarderOptions
{
    int maxPeers = 256;                 // local peer addresses served at once
    int maxQueuedDatagrams = 64;        // per peer, while its tunnel opens
    qint64 maxQueuedBytes = 256 * 1024; // per peer, while its tunnel opens
};

// UdpForwarderCounters: what a udp-forward moved and dropped since start(); every drop is
// counted under one reason.
struct UdpForwarderCounters
{
    quint64 datagramsUp = 0;   // local peers -> tunnels (sent)
    quint64 datagramsDown = 0; // tunnels -> local peers (sent)
    quint64 bytesUp = 0;
    quint64 bytesDown = 0;
    quint64 peersOpened = 0; // tunnels opened (one per peer address and idle period)

    quint64 dropQueueFull = 0;     // beyond the queue bound while the tunnel opened
    quint64 dropPeerLimit = 0;     // from a new peer while maxPeers were served
    quint64 dropOpenFailed = 0;    // queued while the tunnel opened, and it failed
    quint64 dropTunnelRefused = 0; // the tunnel refused them (too large for the path, full)
    quint64 dropSendFailed = 0;    // the local socket refused a reply (buffer full, peer gone)

    quint64 drops() const noexcept
    {
        return dropQueueFull + dropPeerLimit + dropOpenFailed + dropTunnelRefused + dropSendFailed;
    }
};

// UdpForwarder: "--udp-forward 127.0.0.1:5353=dns.example:53": a UDP socket on the local
// address; each local peer address (ip:port) gets its own CONNECT-UDP tunnel (RFC 9298) to the
// fixed target, opened by its first datagram, so replies go back to the peer that asked.
//  - While a peer's tunnel opens, its datagrams are queued (maxQueuedDatagrams / maxQueuedBytes;
//    beyond, dropped and counted); they are sent in order once it is open, dropped and counted
//    if it fails. The next datagram from that peer tries again.
//  - A peer whose tunnel saw no datagram either way for `idleTimeoutMs` is closed (checked every
//    idleTimeoutMs / 4, so the close comes between 1 and 1.25 idle times; 0 = never). A tunnel
//    the proxy or the connection ended is forgotten; the peer's next datagram opens a new one.
//  - At most maxPeers peers at once; datagrams from further peers are dropped and counted.
// The data path reads up to 64 datagrams per wake into one reused buffer and sends replies with
// sendto() straight from the tunnel's view: no allocation per datagram once a peer's tunnel is
// open. Unreliable like UDP: nothing is retried.
//
// Engine thread only. `client` (not owned) must outlive the forwarder.
class UdpForwarder final : public LocalFrontEnd
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UdpForwarder)

public:
    static constexpr int kMaxReadsPerWake = 64;

    UdpForwarder(TunnelClient *client, const Forward &forward, int idleTimeoutMs,
                 QObject *parent = nullptr);
    UdpForwarder(TunnelClient *client, const Forward &forward, int idleTimeoutMs,
                 const UdpForwarderOptions &options, QObject *parent = nullptr);
    ~UdpForwarder() override;

    Status start() override;
    void stop() override;
    QString description() const override;
    int activeClients() const override { return int(m_peers.size()); }

    Endpoint boundEndpoint() const { return m_bound; }
    const UdpForwarderCounters &counters() const noexcept { return m_counters; }

    // PeerKey: a peer's address and port, hashable without allocation.
    struct PeerKey
    {
        std::array<quint8, 16> address{};
        quint16 port = 0;
        quint8 family = 0;
        friend bool operator==(const PeerKey &, const PeerKey &) = default;
    };
    struct PeerKeyHash
    {
        size_t operator()(const PeerKey &key) const noexcept;
    };

private:
    void handleReadable();
    void handleDatagram(const PeerKey &key, const SocketAddress &from, QByteArrayView payload);
    UdpForwardPeer *addPeer(const PeerKey &key, const SocketAddress &from);
    void openTunnel(UdpForwardPeer *peer);
    void sendToPeer(UdpForwardPeer *peer, QByteArrayView payload);
    void removePeer(UdpForwardPeer *peer);
    void handleSweep();

    TunnelClient *m_client; // not owned
    const Forward m_forward;
    const int m_idleTimeoutMs;
    const UdpForwarderOptions m_options;
    Endpoint m_bound;
    SocketFd m_fd;
    std::unique_ptr<QSocketNotifier> m_notifier;
    QByteArray m_buffer; // one datagram, reused
    std::unordered_map<PeerKey, std::unique_ptr<UdpForwardPeer>, PeerKeyHash> m_peers;
    QTimer m_sweepTimer;
    QElapsedTimer m_clock;
    UdpForwarderCounters m_counters;
};

} // namespace qmasque
