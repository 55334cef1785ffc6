#include "local/Socks5UdpRelay.h"

#include "tunnel/TunnelClient.h"

#include <QtNetwork/QUdpSocket>

#include <cstring>

namespace qmasque {

namespace {

// The largest UDP payload plus the largest SOCKS UDP header (4 + 1 + 255 + 2).
constexpr qsizetype kMaxDatagram = 65535 + 262;
// Ask the kernel for room for bursts (it caps this at net.core.rmem_max).
constexpr int kSocketBuffer = 4 * 1024 * 1024;

} // namespace

Socks5UdpRelay::Socks5UdpRelay(TunnelClient *client, const Socks5Config &config, Socks5Stats *stats,
                               const QHostAddress &clientAddress, quint16 clientPort,
                               QString localClient, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_config(config)
    , m_stats(stats)
    , m_clientAddress(clientAddress)
    , m_clientPort(clientPort)
    , m_localClient(std::move(localClient))
    , m_socket(new QUdpSocket(this))
{
    m_in.resize(kMaxDatagram);
    m_out.reserve(kMaxDatagram);
    m_clock.start();
    connect(m_socket, &QUdpSocket::readyRead, this, &Socks5UdpRelay::handleReadyRead);
}

Socks5UdpRelay::~Socks5UdpRelay()
{
    stop();
}

Status Socks5UdpRelay::bind(const QHostAddress &address)
{
    if (!m_socket->bind(address, 0))
        return Error(
            ErrorCode::Io,
            QStringLiteral("UDP relay on %1: %2").arg(address.toString(), m_socket->errorString()));
    m_socket->setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, kSocketBuffer);
    m_socket->setSocketOption(QAbstractSocket::SendBufferSizeSocketOption, kSocketBuffer);
    return {};
}

quint16 Socks5UdpRelay::port() const
{
    return m_socket->localPort();
}

void Socks5UdpRelay::stop()
{
    if (m_stopped)
        return;
    m_stopped = true;
    m_socket->close();
    auto targets = std::move(m_targets);
    m_targets.clear();
    for (auto &[key, target] : targets) {
        if (target->tunnel) {
            target->tunnel->disconnect(this);
            target->tunnel->setReceiver({});
            target->tunnel->close();
        } else if (target->openId != 0) {
            m_client->cancel(target->openId);
        }
    }
}

void Socks5UdpRelay::handleReadyRead()
{
    QHostAddress sender;
    quint16 senderPort = 0;
    while (!m_stopped && m_socket->hasPendingDatagrams()) {
        const qint64 size = m_socket->readDatagram(m_in.data(), m_in.size(), &sender, &senderPort);
        if (size < 0)
            break;
        // RFC 1928, 7: the relay accepts datagrams only from the client of the association.
        if (!sender.isEqual(m_clientAddress, QHostAddress::ConvertV4MappedToIPv4) ||
            (m_clientPort != 0 && senderPort != m_clientPort)) {
            ++m_stats->udpForeignSource;
            continue;
        }
        m_clientPort = senderPort;
        const QByteArrayView datagram(m_in.constData(), size);
        const Result<socks5::UdpDatagram> parsed = socks5::parseUdpDatagram(datagram);
        if (!parsed) {
            ++m_stats->udpMalformed;
            continue;
        }
        if (parsed->fragment != 0) {
            // RFC 1928, 7: "An implementation that does not support fragmentation MUST drop any
            // datagram whose FRAG field is other than X'00'."
            ++m_stats->udpFragmented;
            continue;
        }
        // The key is the header's address part (ATYP, address, port), viewed in place.
        const qsizetype headerLength = size - parsed->data.size();
        route(datagram.sliced(3, headerLength - 3), *parsed);
    }
}

void Socks5UdpRelay::route(QByteArrayView key, const socks5::UdpDatagram &datagram)
{
    const QByteArray lookup = QByteArray::fromRawData(key.data(), key.size());
    auto it = m_targets.find(lookup);
    if (it == m_targets.end()) {
        if (int(m_targets.size()) >= m_config.maxUdpTargets) {
            ++m_stats->udpTargetLimit;
            return;
        }
        auto target = std::make_unique<Target>();
        target->address = datagram.destination;
        socks5::appendUdpHeader(target->header, datagram.destination);
        it = m_targets.emplace(key.toByteArray(), std::move(target)).first;
    }
    Target &target = *it->second;
    if (target.tunnel) {
        // Refusals (too large, queue full) are counted by the tunnel itself.
        (void)target.tunnel->send(datagram.data);
        return;
    }
    if (target.openId == 0) {
        if (target.failedAtMs >= 0 && m_clock.elapsed() - target.failedAtMs < kRetryAfterMs) {
            ++m_stats->udpTargetFailed;
            return;
        }
        open(it->first, target);
    }
    if (int(target.pending.size()) >= m_config.maxPendingDatagrams) {
        ++m_stats->udpPendingOverflow;
        return;
    }
    target.pending.emplace_back(datagram.data.toByteArray());
}

void Socks5UdpRelay::open(const QByteArray &key, Target &target)
{
    target.failedAtMs = -1;
    target.openId = m_client->openUdp(
        target.address.hostString(), target.address.port, this,
        [this, key](const Result<UdpTunnel *> &result) { handleOpened(key, result); },
        m_localClient);
}

void Socks5UdpRelay::handleOpened(const QByteArray &key, const Result<UdpTunnel *> &result)
{
    const auto it = m_targets.find(key);
    if (it == m_targets.end() || m_stopped) {
        if (result)
            (*result)->close();
        return;
    }
    Target &target = *it->second;
    target.openId = 0;
    if (!result) {
        m_stats->udpTargetFailed += target.pending.size();
        target.pending.clear();
        target.failedAtMs = m_clock.elapsed();
        return;
    }
    UdpTunnel *tunnel = *result;
    target.tunnel = tunnel;
    const Target *stable = &target; // owned by m_targets until the tunnel closes
    tunnel->setReceiver([this, stable](QByteArrayView payload) { sendToClient(*stable, payload); });
    connect(tunnel, &TunnelSession::closed, this,
            [this, key, tunnel] { handleTunnelClosed(key, tunnel); });
    while (!target.pending.empty()) {
        (void)tunnel->send(target.pending.front());
        target.pending.pop_front();
    }
}

void Socks5UdpRelay::handleTunnelClosed(const QByteArray &key, UdpTunnel *tunnel)
{
    const auto it = m_targets.find(key);
    if (it != m_targets.end() && it->second->tunnel == tunnel)
        m_targets.erase(it); // the next datagram for the target opens a new tunnel
}

void Socks5UdpRelay::sendToClient(const Target &target, QByteArrayView payload)
{
    if (m_clientPort == 0)
        return;
    // RFC 1928, 7: replies carry the header too, naming where the datagram came from.
    m_out.resize(target.header.size() + payload.size());
    std::memcpy(m_out.data(), target.header.constData(), size_t(target.header.size()));
    std::memcpy(m_out.data() + target.header.size(), payload.data(), size_t(payload.size()));
    m_socket->writeDatagram(m_out.constData(), m_out.size(), m_clientAddress, m_clientPort);
}

} // namespace qmasque
