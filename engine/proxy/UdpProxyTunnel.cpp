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
    : ProxyTunnel(context, connection, id, request, logId, parent)
    , m_channel(this)
{
    m_idleTimer.setTimerType(Qt::CoarseTimer);
    connect(&m_idleTimer, &QTimer::timeout, this, &UdpProxyTunnel::handleIdleCheck);
}

UdpProxyTunnel::~UdpProxyTunnel() = default;

void UdpProxyTunnel::startSetup()
{
    m_channel.attach(stream(), m_streamId);
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
        if (m_context.config.tunnelIdleTimeoutMs > 0)
            m_idleTimer.start(m_context.config.tunnelIdleTimeoutMs);
        return;
    }
    refuse(lastError);
}

void UdpProxyTunnel::onStreamData(StreamId, QByteArrayView data, bool fin)
{
    if (isClosed())
        return;
    if (Status ok = m_channel.receiveStreamData(data, fin); !ok) {
        // RFC 9297, 3.3: a malformed capsule is a stream error.
        abort(StreamResetReason::MessageError, ok.error());
        return;
    }
    if (fin) {
        // RFC 9298, 3: the client ended the tunnel; answer its FIN with ours.
        if (stream() && !m_finSent) {
            m_finSent = true;
            (void)stream()->endStream(m_streamId);
        }
        finish(Error(ErrorCode::PeerFin, QStringLiteral("the client ended the tunnel")));
    }
}

void UdpProxyTunnel::onStreamWritable(StreamId)
{
    m_channel.flush();
}

void UdpProxyTunnel::onDatagram(StreamId, QByteArrayView payload)
{
    if (!isClosed())
        m_channel.receiveDatagram(payload);
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

void UdpProxyTunnel::handleIdleCheck()
{
    const quint64 activity =
        m_counters.datagramsUp + m_counters.datagramsDown + m_channel.counters().datagramsReceived;
    if (activity != m_activity) {
        m_activity = activity;
        return;
    }
    // RFC 9298, 3 leaves idle handling to the proxy: a tunnel silent both ways for a whole
    // period is closed (FIN, so the client sees a clean end).
    if (stream() && !m_finSent) {
        m_finSent = true;
        (void)stream()->endStream(m_streamId);
    }
    finish(
        Error(ErrorCode::IdleTimeout,
              QStringLiteral("no datagram for %1 ms").arg(m_context.config.tunnelIdleTimeoutMs)));
}

quint64 UdpProxyTunnel::dropCount() const
{
    return m_channel.counters().drops() + m_dropTooLarge + m_dropSendFailed + m_dropTruncated;
}

void UdpProxyTunnel::releaseResources()
{
    const CapsuleChannel::Counters &channel = m_channel.counters();
    ProxyMetrics &metrics = m_context.metrics;
    metrics.datagramsDropped(TunnelProtocol::Udp, "too_large",
                             channel.dropTooLarge + m_dropTooLarge + m_dropTruncated);
    metrics.datagramsDropped(TunnelProtocol::Udp, "queue_full", channel.dropQueueFull);
    metrics.datagramsDropped(TunnelProtocol::Udp, "unknown_context", channel.dropUnknownContext);
    metrics.datagramsDropped(TunnelProtocol::Udp, "malformed", channel.dropMalformed);
    metrics.datagramsDropped(TunnelProtocol::Udp, "send_failed", m_dropSendFailed);
    m_idleTimer.stop();
    disposeLater(m_resolver); // its destructor cancels a lookup in flight
    disposeLater(m_socket);
    m_channel.detach();
}

} // namespace qmasque
