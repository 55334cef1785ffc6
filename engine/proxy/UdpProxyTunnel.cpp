#include "proxy/UdpProxyTunnel.h"

#include "proxy/HostResolver.h"
#include "proxy/ProxyContext.h"
#include "proxy/ProxyLog.h"
#include "proxy/UdpTargetSocket.h"

namespace qmasque {

namespace {

constexpr qint64 kReceiveBuffer = 65536;
constexpr int kReadBudget = 256; // datagrams per wake-up, so one busy tunnel cannot starve others

} // namespace

UdpProxyTunnel::UdpProxyTunnel(ProxyContext &context, ServerConnection *connection, StreamId id,
                               const TunnelRequest &request, const QString &logId, QObject *parent)
    : DatagramProxyTunnel(context, connection, id, request, logId, "datagram", parent)
{}

UdpProxyTunnel::~UdpProxyTunnel() = default;

void UdpProxyTunnel::startSetup()
{
    attachChannel();
    m_resolver = std::make_unique<HostResolver>();
    connect(m_resolver.get(), &HostResolver::resolved, this, &UdpProxyTunnel::handleResolved);
    connect(m_resolver.get(), &HostResolver::failed, this,
            [this](const Error &reason) { refuse(reason); });
    m_resolver->resolve(request().host.host, m_context.config.dnsTimeoutMs);
}

void UdpProxyTunnel::handleResolved(const QList<QHostAddress> &addresses)
{
    QList<QHostAddress> permitted;
    for (const QHostAddress &address : addresses) {
        if (m_context.acl.permits(address))
            permitted.append(address);
    }
    if (permitted.isEmpty()) {
        refuse(Error(ErrorCode::Forbidden, deniedTargetDetail(request().host.host, addresses)));
        return;
    }
    Error lastError;
    for (const QHostAddress &address : std::as_const(permitted)) {
        auto socket = std::make_unique<UdpTargetSocket>();
        if (Status opened = socket->open(address, request().host.port); !opened) {
            lastError = opened.error();
            continue;
        }
        m_socket = std::move(socket);
        m_buffer.resize(kReceiveBuffer);
        connect(m_socket.get(), &UdpTargetSocket::readable, this,
                &UdpProxyTunnel::handleTargetReadable);
        if (!accept(request().capsuleProtocol, formatEndpoint(address, request().host.port)))
            return;
        startIdleTimer();
        return;
    }
    refuse(lastError);
}

void UdpProxyTunnel::onChannelDatagram(QByteArrayView payload)
{
    if (!m_socket || state() != State::Open)
        return; // before the 2xx: nowhere to send it yet
    if (payload.size() > kMaxUdpPayload) {
        ++m_dropTooLarge;
        return;
    }
    if (!m_socket->send(payload.data(), payload.size())) {
        ++m_dropSendFailed;
        return;
    }
    ++m_counters.datagramsUp;
    m_counters.bytesUp += quint64(payload.size());
}

void UdpProxyTunnel::handleTargetReadable()
{
    if (isClosed())
        return;
    for (int i = 0; i < kReadBudget; ++i) {
        const qint64 size = m_socket->receive(m_buffer.data(), m_buffer.size());
        if (size == -1)
            return;
        if (size < 0) {
            ++m_dropTruncated;
            continue;
        }
        // Drops (too large for the path, queue full) are counted by the channel.
        if (m_channel.sendDatagram(QByteArrayView(m_buffer.constData(), size), kMaxUdpPayload)
                .ok()) {
            ++m_counters.datagramsDown;
            m_counters.bytesDown += quint64(size);
        }
        if (isClosed())
            return;
    }
}

quint64 UdpProxyTunnel::dropCount() const
{
    return m_channel.counters().drops() + m_dropTooLarge + m_dropSendFailed + m_dropTruncated;
}

void UdpProxyTunnel::releaseResources()
{
    countChannelDrops(m_dropTooLarge + m_dropTruncated);
    m_context.metrics.datagramsDropped(TunnelProtocol::Udp, "send_failed", m_dropSendFailed);
    disposeLater(m_resolver); // its destructor cancels a lookup in flight
    disposeLater(m_socket);
    releaseChannel();
}

} // namespace qmasque
