#include "proxy/DatagramProxyTunnel.h"

#include "proxy/ProxyContext.h"

namespace qmasque {

DatagramProxyTunnel::DatagramProxyTunnel(ProxyContext &context, ServerConnection *connection,
                                         StreamId id, const TunnelRequest &request,
                                         const QString &logId, const char *unit, QObject *parent)
    : ProxyTunnel(context, connection, id, request, logId, parent)
    , m_channel(this)
    , m_unit(unit)
{
    m_idleTimer.setTimerType(Qt::CoarseTimer);
    connect(&m_idleTimer, &QTimer::timeout, this, &DatagramProxyTunnel::handleIdleCheck);
}

DatagramProxyTunnel::~DatagramProxyTunnel() = default;

void DatagramProxyTunnel::attachChannel()
{
    m_channel.attach(stream(), m_streamId);
}

void DatagramProxyTunnel::startIdleTimer()
{
    if (m_context.config.tunnelIdleTimeoutMs > 0)
        m_idleTimer.start(m_context.config.tunnelIdleTimeoutMs);
}

void DatagramProxyTunnel::onStreamData(StreamId, QByteArrayView data, bool fin)
{
    if (isClosed())
        return;
    if (Status ok = m_channel.receiveStreamData(data, fin); !ok) {
        abort(StreamResetReason::MessageError, ok.error());
        return;
    }
    if (fin)
        endWithFin(Error(ErrorCode::PeerFin, QStringLiteral("the client ended the tunnel")));
}

void DatagramProxyTunnel::onStreamWritable(StreamId)
{
    m_channel.flush();
}

void DatagramProxyTunnel::onDatagram(StreamId, QByteArrayView payload)
{
    if (!isClosed())
        m_channel.receiveDatagram(payload);
}

void DatagramProxyTunnel::endWithFin(const Error &reason)
{
    if (stream() && !m_finSent) {
        m_finSent = true;
        (void)stream()->endStream(m_streamId);
    }
    finish(reason);
}

void DatagramProxyTunnel::handleIdleCheck()
{
    const quint64 activity =
        m_counters.datagramsUp + m_counters.datagramsDown + m_channel.counters().datagramsReceived;
    if (activity != m_activity) {
        m_activity = activity;
        return;
    }
    endWithFin(Error(ErrorCode::IdleTimeout, QStringLiteral("no %1 for %2 ms")
                                                 .arg(QLatin1StringView(m_unit))
                                                 .arg(m_context.config.tunnelIdleTimeoutMs)));
}

void DatagramProxyTunnel::countChannelDrops(quint64 extraTooLarge)
{
    const CapsuleChannel::Counters &channel = m_channel.counters();
    ProxyMetrics &metrics = m_context.metrics;
    const TunnelProtocol tunnelProtocol = protocol();
    metrics.datagramsDropped(tunnelProtocol, "too_large", channel.dropTooLarge + extraTooLarge);
    metrics.datagramsDropped(tunnelProtocol, "queue_full", channel.dropQueueFull);
    metrics.datagramsDropped(tunnelProtocol, "unknown_context", channel.dropUnknownContext);
    metrics.datagramsDropped(tunnelProtocol, "malformed", channel.dropMalformed);
}

void DatagramProxyTunnel::releaseChannel()
{
    m_idleTimer.stop();
    m_channel.detach();
}

} // namespace qmasque
