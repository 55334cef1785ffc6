#include "tunnel/TunnelSession.h"

#include "core/Log.h"
#include "tunnel/TunnelLink.h"
#include "tunnel/TunnelRequest.h"

#include <QtCore/QDateTime>

namespace qmasque {

const char *tunnelStateName(TunnelState state) noexcept
{
    switch (state) {
    case TunnelState::Connecting:
        return "connecting";
    case TunnelState::Open:
        return "open";
    case TunnelState::Closing:
        return "closing";
    case TunnelState::Closed:
        return "closed";
    }
    return "unknown";
}

TunnelSession::TunnelSession(TunnelConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_link(new TunnelLink(this, this))
{
    m_clock.start();
    m_handshakeTimer.setSingleShot(true);
    m_handshakeTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_handshakeTimer, &QTimer::timeout, this, &TunnelSession::handleHandshakeTimeout);
    connect(m_link, &TunnelLink::attached, this, &TunnelSession::handleAttached);
    connect(m_link, &TunnelLink::failed, this, &TunnelSession::handleLinkFailed);
}

TunnelSession::~TunnelSession()
{
    abortSilently();
}

void TunnelSession::abortSilently()
{
    m_handshakeTimer.stop();
    if (m_state == TunnelState::Closed)
        return;
    // Deleted while running: abort without signals (observers may be half torn down).
    const bool connecting = m_state == TunnelState::Connecting;
    m_state = TunnelState::Closed;
    m_closeReason = Error(ErrorCode::Cancelled, QStringLiteral("tunnel deleted"));
    m_link->finishReset(connecting ? StreamResetReason::Cancel : m_abortReason);
}

void TunnelSession::start()
{
    if (std::exchange(m_started, true))
        return;
    m_clock.restart();
    m_startedAtWallMs = QDateTime::currentMSecsSinceEpoch();
    const int timeoutMs = qMax(1, m_config.handshakeTimeoutMs);
    m_handshakeTimer.start(timeoutMs);
    m_link->start(m_config.endpoint, m_config.request, needsDatagrams(), m_config.pool,
                  m_config.factory, QDeadlineTimer(timeoutMs));
}

void TunnelSession::close()
{
    if (m_state == TunnelState::Closed)
        return;
    if (m_state == TunnelState::Connecting) {
        endTunnel(Error(ErrorCode::LocalClose, QStringLiteral("closed while connecting")),
                  End::Reset, StreamResetReason::Cancel);
        return;
    }
    endTunnel(Error(ErrorCode::LocalClose), End::Graceful);
}

void TunnelSession::abort(const Error &reason)
{
    if (m_state == TunnelState::Closed)
        return;
    endTunnel(reason, End::Reset,
              m_state == TunnelState::Connecting ? StreamResetReason::Cancel : m_abortReason);
}

StreamId TunnelSession::streamId() const
{
    return m_link->streamId();
}

quint64 TunnelSession::connectionId() const
{
    return m_link->connectionId();
}

bool TunnelSession::isPooled() const
{
    return m_link->isPooled();
}

bool TunnelSession::reachedProxy() const
{
    return m_link->reachedProxy() || m_responseStatus != 0;
}

qint64 TunnelSession::openLatencyUs() const noexcept
{
    if (m_openedAtNs < 0 || m_requestSentAtNs < 0)
        return -1;
    return (m_openedAtNs - m_requestSentAtNs) / 1000;
}

qint64 TunnelSession::openLatencyMs() const noexcept
{
    const qint64 us = openLatencyUs();
    return us < 0 ? -1 : us / 1000;
}

qint64 TunnelSession::openDurationMs() const
{
    if (m_openedAtNs < 0)
        return -1;
    return (m_closedAtMs >= 0 ? m_closedAtMs : m_clock.elapsed()) - m_openedAtNs / 1000000;
}

HttpConnection *TunnelSession::connection() const
{
    return m_attached && m_state != TunnelState::Closed ? m_link->transport() : nullptr;
}

DatagramPath TunnelSession::datagramPath() const
{
    if (!needsDatagrams())
        return DatagramPath::None;
    return transport() == TransportKind::H3 ? DatagramPath::QuicDatagram : DatagramPath::Capsule;
}

Error TunnelSession::handshakeTimeoutError() const
{
    const char *stage = !m_link->reachedProxy() ? "no connection to the proxy"
                        : m_responseStatus == 0 ? "no response from the proxy"
                                                : "tunnel not ready";
    return Error(ErrorCode::HandshakeTimeout, QStringLiteral("%1 within %2 ms")
                                                  .arg(QLatin1StringView(stage))
                                                  .arg(m_config.handshakeTimeoutMs));
}

Status TunnelSession::sendFin()
{
    if (m_finSent)
        return {};
    HttpConnection *http = connection();
    if (!http)
        return Error(ErrorCode::StreamClosed);
    Status ended = http->endStream(m_streamId);
    if (ended)
        m_finSent = true;
    return ended;
}

void TunnelSession::setState(TunnelState state)
{
    if (m_state == state || m_state == TunnelState::Closed)
        return;
    qCDebug(lcTunnel, "tunnel#%llu %s -> %s", m_config.tunnelId, tunnelStateName(m_state),
            tunnelStateName(state));
    m_state = state;
}

void TunnelSession::handleAttached()
{
    if (m_state == TunnelState::Closed)
        return;
    m_attached = true;
    m_streamId = m_link->streamId();
    m_requestSentAtNs = m_clock.nsecsElapsed();
    onAttached();
    // Events a pooled acquire replayed before we knew the stream, in wire order.
    if (std::optional<Response> response = std::exchange(m_keptResponse, std::nullopt))
        handleResponse(*response);
    if (auto end = std::exchange(m_keptEnd, std::nullopt); end && m_state != TunnelState::Closed)
        handleEnd(end->first, end->second);
}

void TunnelSession::handleLinkFailed(const Error &error)
{
    if (m_state == TunnelState::Closed)
        return;
    endTunnel(error, End::Gone);
}

void TunnelSession::handleHandshakeTimeout()
{
    if (m_state != TunnelState::Connecting)
        return;
    endTunnel(handshakeTimeoutError(), End::Reset, StreamResetReason::Cancel);
}

void TunnelSession::onStreamResponse(StreamId id, const Response &response)
{
    Q_UNUSED(id)
    if (m_state != TunnelState::Connecting)
        return;
    if (!m_attached) {
        m_keptResponse = response;
        return;
    }
    handleResponse(response);
}

void TunnelSession::handleResponse(const Response &response)
{
    if (m_state != TunnelState::Connecting || m_responseStatus != 0)
        return;
    m_responseStatus = response.status;
    m_proxyStatus = QString::fromUtf8(headerValue(response.headers, "proxy-status"));
    Status valid = validateTunnelResponse(protocol(), m_config.request, transport(), response);
    if (!valid) {
        // A refusal ends the stream from the proxy's side already; our reset makes sure.
        endTunnel(valid.error(), End::Reset, StreamResetReason::Cancel);
        return;
    }
    if (deferOpen())
        return;
    completeOpen();
}

void TunnelSession::completeOpen()
{
    if (m_state != TunnelState::Connecting)
        return;
    m_handshakeTimer.stop();
    m_openedAtNs = m_clock.nsecsElapsed();
    setState(TunnelState::Open);
    qCInfo(lcTunnel, "tunnel#%llu %s %s open over %s (stream %lld, %lld ms)", m_config.tunnelId,
           tunnelProtocolName(protocol()), qPrintable(m_config.target),
           transportKindName(transport()), static_cast<long long>(m_streamId),
           static_cast<long long>(openLatencyMs()));
    onOpened();

    // What arrived before the response, in order: stream bytes, then datagrams.
    if (!m_earlyData.isEmpty() || m_earlyFin) {
        const QByteArray data = std::exchange(m_earlyData, {});
        const bool fin = std::exchange(m_earlyFin, false);
        handleStreamBody(data, fin);
    }
    while (!m_earlyDatagrams.empty() && isOpen()) {
        const QByteArray payload = std::move(m_earlyDatagrams.front());
        m_earlyDatagrams.pop_front();
        handleDatagram(payload);
    }
    m_earlyDatagrams.clear();
    if (isOpen())
        emit opened();
}

void TunnelSession::onStreamData(StreamId id, QByteArrayView data, bool fin)
{
    Q_UNUSED(id)
    if (m_state == TunnelState::Closed)
        return;
    if (m_state == TunnelState::Connecting) {
        // RFC 9297, 3.3 and erlang-masque 0.7.0's lost-data bug: bytes may overtake our view
        // of the response (a pooled acquire replays them before we know the stream); keep them
        // unconsumed, so flow control bounds what we keep.
        m_earlyData.append(data.data(), data.size());
        m_earlyFin = m_earlyFin || fin;
        return;
    }
    handleStreamBody(data, fin);
}

void TunnelSession::onDatagram(StreamId id, QByteArrayView payload)
{
    Q_UNUSED(id)
    if (m_state == TunnelState::Connecting) {
        // QUIC DATAGRAM frames are not ordered with the stream (RFC 9297, 2.1): they may come
        // before the 2xx. Keep a few.
        if (m_earlyDatagrams.size() < size_t(kMaxEarlyDatagrams))
            m_earlyDatagrams.emplace_back(payload.data(), payload.size());
        else
            ++m_counters.dropEarly;
        return;
    }
    if (isOpen())
        handleDatagram(payload);
}

void TunnelSession::onStreamWritable(StreamId id)
{
    Q_UNUSED(id)
    if (isOpen())
        handleWritable();
}

void TunnelSession::onStreamReset(StreamId id, const Error &reason)
{
    Q_UNUSED(id)
    if (m_state == TunnelState::Closed)
        return;
    if (!m_attached) {
        m_keptEnd = std::pair{reason, false};
        return;
    }
    handleEnd(reason, false);
}

void TunnelSession::onConnectionClosed(StreamId id, const Error &reason)
{
    Q_UNUSED(id)
    if (m_state == TunnelState::Closed)
        return;
    if (!m_attached) {
        m_keptEnd = std::pair{reason, true};
        return;
    }
    handleEnd(reason, true);
}

void TunnelSession::handleEnd(const Error &reason, bool connectionGone)
{
    if (m_state == TunnelState::Closed)
        return;
    if (connectionGone && peerFinished()) {
        endTunnel(Error(ErrorCode::PeerFin, reason.toString()), End::Gone);
        return;
    }
    if (!connectionGone || reason.code == ErrorCode::Goaway) {
        // A stream reset keeps the transport's typed reason: peer_reset (with the peer's wire
        // code), goaway (refused by a GOAWAY), local_close (closed from the dashboard).
        endTunnel(reason, End::Gone);
        return;
    }
    Error gone(ErrorCode::ConnectionClosed, reason.toString());
    gone.wireCode = reason.wireCode;
    endTunnel(gone, End::Gone);
}

void TunnelSession::endTunnel(const Error &reason, End end, StreamResetReason resetReason)
{
    if (m_state == TunnelState::Closed)
        return;
    const bool wasConnecting = m_state == TunnelState::Connecting;
    if (end == End::Graceful && m_attached && !m_finSent && !readyForFin()) {
        end = End::Reset;
        resetReason = m_abortReason;
    }
    m_state = TunnelState::Closed;
    m_closeReason = reason;
    m_closedAtWallMs = QDateTime::currentMSecsSinceEpoch();
    m_closedAtMs = m_clock.elapsed();
    m_handshakeTimer.stop();
    m_earlyData.clear();
    m_earlyDatagrams.clear();
    onEnding();

    switch (end) {
    case End::Graceful:
        if (m_attached && !m_finSent) {
            if (HttpConnection *http = m_link->transport())
                m_finSent = http->endStream(m_streamId).ok();
        }
        m_link->finishGraceful();
        break;
    case End::Reset:
        m_link->finishReset(resetReason);
        break;
    case End::Gone:
        m_link->finishGone();
        break;
    }

    if (wasConnecting) {
        qCInfo(lcTunnel, "tunnel#%llu %s %s over %s failed: %s", m_config.tunnelId,
               tunnelProtocolName(protocol()), qPrintable(m_config.target),
               transportKindName(transport()), qPrintable(reason.toString()));
    } else {
        const TunnelCounters c = counters();
        qCInfo(lcTunnel,
               "tunnel#%llu closed (%s) after %lld ms open, sent %llu B, received %llu B, "
               "%llu drops",
               m_config.tunnelId, qPrintable(reason.toString()),
               static_cast<long long>(openDurationMs()), c.bytesSent, c.bytesReceived, c.drops());
    }
    postClosed();
}

void TunnelSession::postClosed()
{
    // closed() never comes from inside a call into us or a transport callback.
    QMetaObject::invokeMethod(
        this, [this] { emit closed(m_closeReason); }, Qt::QueuedConnection);
}

TunnelRecord TunnelSession::record() const
{
    const TunnelCounters c = counters();
    TunnelRecord record;
    record.tunnelId = m_config.tunnelId;
    record.protocol = protocol();
    record.transport = transport();
    record.connectionId = m_link->connectionId();
    record.streamId = m_link->streamId();
    record.target = m_config.target;
    record.localClient = m_config.localClient;
    record.openedAtMs = m_startedAtWallMs;
    record.closedAtMs = m_closedAtWallMs;
    record.openLatencyMs = openLatencyMs();
    record.responseStatus = m_responseStatus;
    record.proxyStatus = m_proxyStatus;
    if (m_state == TunnelState::Closed) {
        record.closeReason = QLatin1StringView(m_closeReason.name());
        record.closeDetail = m_closeReason.toString();
    }
    record.bytesSent = c.bytesSent;
    record.bytesReceived = c.bytesReceived;
    record.datagramsSent = c.datagramsSent;
    record.datagramsReceived = c.datagramsReceived;
    record.datagramsDropped = c.drops();
    return record;
}

void TunnelSession::describeStream(StreamSnapshot &row) const
{
    const TunnelCounters c = counters();
    row.protocol = protocol();
    row.target = m_config.target;
    row.localClient = m_config.localClient;
    switch (m_state) {
    case TunnelState::Connecting:
        row.state = StreamState::Connecting;
        break;
    case TunnelState::Open:
        row.state = StreamState::Open;
        break;
    case TunnelState::Closing:
    case TunnelState::Closed:
        row.state = StreamState::Closing;
        break;
    }
    row.responseStatus = m_responseStatus;
    row.proxyStatus = m_proxyStatus;
    row.datagramPath = datagramPath();
    row.bytesSent = c.bytesSent;
    row.bytesReceived = c.bytesReceived;
    row.datagramsSent = c.datagramsSent;
    row.datagramsReceived = c.datagramsReceived;
    row.datagramsDropped = c.drops();
    fillRow(row);
}

std::optional<ConnectionSnapshot> TunnelSession::directConnection() const
{
    std::optional<ConnectionSnapshot> row = m_link->directConnection();
    if (!row)
        return row;
    if (m_attached && m_state != TunnelState::Closed) {
        StreamSnapshot stream;
        stream.streamId = m_streamId;
        stream.ageMs =
            m_requestSentAtNs >= 0 ? (m_clock.nsecsElapsed() - m_requestSentAtNs) / 1000000 : 0;
        describeStream(stream);
        row->streams.append(stream);
    }
    return row;
}

} // namespace qmasque
