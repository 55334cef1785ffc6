#include "pool/UpstreamOwner.h"

#include "core/Log.h"
#include "transport/StreamHandler.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <utility>

namespace qmasque {

namespace {

std::atomic<quint64> g_nextOwnerId{1};

TunnelProtocol protocolOf(const Request &request)
{
    if (request.protocol == "connect-udp")
        return TunnelProtocol::Udp;
    if (request.protocol == "connect-ip")
        return TunnelProtocol::Ip;
    return TunnelProtocol::Tcp;
}

// targetOf: the row's default target until the session names it: the authority of a classic
// CONNECT (RFC 9110, 9.3.6), else the expanded template path (RFC 9298, 2; RFC 9484, 3).
QString targetOf(const Request &request)
{
    return QString::fromUtf8(
        request.isClassicConnect() || request.path.isEmpty() ? request.authority : request.path);
}

} // namespace

UpstreamOwner::UpstreamOwner(UpstreamEndpoint endpoint, Fingerprint fingerprint,
                             OwnerOptions options, TransportFactory factory, QObject *parent)
    : QObject(parent)
    , m_id(g_nextOwnerId.fetch_add(1, std::memory_order_relaxed))
    , m_endpoint(std::move(endpoint))
    , m_fingerprint(fingerprint.isNull() ? Fingerprint::of(m_endpoint) : std::move(fingerprint))
    , m_options(options)
    , m_factory(std::move(factory))
{
    m_clock.start();
    m_idleTimer.setSingleShot(true);
    m_idleTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_idleTimer, &QTimer::timeout, this, &UpstreamOwner::handleIdleTimeout);
    m_dialGuard.setSingleShot(true);
    connect(&m_dialGuard, &QTimer::timeout, this, &UpstreamOwner::handleDialGuardTimeout);
}

UpstreamOwner::~UpstreamOwner()
{
    m_idleTimer.stop();
    m_dialGuard.stop();
    // Deleted without stop() (e.g. with its parent): sessions still learn that their stream is
    // gone. No signals from a destructor: observers may already be half torn down.
    const QHash<StreamId, StreamEntry> streams = std::exchange(m_streams, {});
    for (auto it = streams.cbegin(); it != streams.cend(); ++it) {
        QObject::disconnect(it->sessionWatch);
        if (m_transport)
            m_transport->clearStreamHandler(it.key());
    }
    if (m_transport)
        disconnect(m_transport, nullptr, this, nullptr);
    const Error reason(ErrorCode::Shutdown, QStringLiteral("upstream connection deleted"));
    for (auto it = streams.cbegin(); it != streams.cend(); ++it) {
        if (it->session)
            it->handler->onConnectionClosed(it.key(), reason);
    }
}

void UpstreamOwner::dial()
{
    if (m_phase != Phase::Created)
        return;
    m_phase = Phase::Dialing;
    qCInfo(lcPool, "owner#%llu dialing %s", m_id, qPrintable(m_fingerprint.toString()));

    if (m_endpoint.transport == TransportKind::H1) {
        closeNow(Error(ErrorCode::PoolUnsupportedForTransport,
                       QStringLiteral("HTTP/1.1 connections carry one tunnel and are not pooled")),
                 false);
        return;
    }
    if (!m_factory) {
        closeNow(Error(ErrorCode::InvalidConfig, QStringLiteral("no transport factory")), false);
        return;
    }

    // The transport is born our child: no ownership transfer, its events come to us. A factory
    // or connect that throws is a crashed dial, reported like any other failure (erlang-masque
    // 0.7.0 lost such dials and left the pool waiting).
    Transport *transport = nullptr;
    try {
        transport = m_factory(m_endpoint.transport, this);
    } catch (const std::exception &e) {
        closeNow(Error(ErrorCode::DialCrashed,
                       QStringLiteral("transport factory threw: ") + QString::fromUtf8(e.what())),
                 false);
        return;
    } catch (...) {
        closeNow(Error(ErrorCode::DialCrashed, QStringLiteral("transport factory threw")), false);
        return;
    }
    if (!transport) {
        closeNow(Error(ErrorCode::DialCrashed, QStringLiteral("transport factory made nothing")),
                 false);
        return;
    }
    if (transport->parent() != this)
        transport->setParent(this);
    m_transport = transport;
    connectTransport();

    // Bounded even when the transport never answers: its own connect timeout plus a margin.
    m_dialGuard.start(std::max(0, m_endpoint.connect.connectTimeoutMs) +
                      std::max(0, m_options.dialGuardMarginMs));
    try {
        m_transport->connectToProxy(m_endpoint.connect);
    } catch (const std::exception &e) {
        closeNow(Error(ErrorCode::DialCrashed,
                       QStringLiteral("transport connect threw: ") + QString::fromUtf8(e.what())),
                 true);
    } catch (...) {
        closeNow(Error(ErrorCode::DialCrashed, QStringLiteral("transport connect threw")), true);
    }
}

void UpstreamOwner::connectTransport()
{
    connect(m_transport, &HttpConnection::connected, this, &UpstreamOwner::handleConnected);
    connect(m_transport, &HttpConnection::closed, this, &UpstreamOwner::handleTransportClosed);
    connect(m_transport, &HttpConnection::settingsChanged, this,
            &UpstreamOwner::handleSettingsChanged);
    connect(m_transport, &HttpConnection::goawayReceived, this, &UpstreamOwner::handleGoaway);
    connect(m_transport, &HttpConnection::streamReset, this, &UpstreamOwner::handleStreamReset);
    connect(m_transport, &HttpConnection::datagramReceived, this, &UpstreamOwner::handleDatagram);
    connect(m_transport, &QObject::destroyed, this, &UpstreamOwner::handleTransportDestroyed);
}

void UpstreamOwner::postDialReport()
{
    if (m_dialReportPosted)
        return;
    m_dialReportPosted = true;
    // Reported from the event loop, never from inside dial() or a transport callback: the pool
    // answers waiters from this signal, and they may submit requests right away.
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_dialReported = true;
            if (m_phase == Phase::Closing) {
                qCInfo(lcPool, "owner#%llu dial failed: %s", m_id,
                       qPrintable(m_dialError.toString()));
                emit dialFinished(false, m_dialError);
                deleteLater();
                return;
            }
            emit dialFinished(true, Error());
        },
        Qt::QueuedConnection);
}

void UpstreamOwner::handleConnected()
{
    if (m_phase != Phase::Dialing)
        return;
    m_dialGuard.stop();
    m_phase = Phase::Ready;
    qCInfo(lcPool, "owner#%llu connected, stream limit %lld", m_id, streamLimit());
    armIdleTimer(); // an owner nobody uses closes after the idle window
    updateState();
    postDialReport();
    if (m_transport->state() == HttpConnection::State::Draining)
        enterDraining(QStringLiteral("GOAWAY during the handshake"));
}

void UpstreamOwner::handleDialGuardTimeout()
{
    if (m_phase != Phase::Dialing)
        return;
    closeNow(Error(ErrorCode::ConnectTimeout,
                   QStringLiteral("the transport did not answer within %1 ms")
                       .arg(m_endpoint.connect.connectTimeoutMs + m_options.dialGuardMarginMs)),
             true);
}

void UpstreamOwner::handleTransportClosed(const Error &reason)
{
    closeNow(reason, false);
}

void UpstreamOwner::handleTransportDestroyed()
{
    // Already inside the transport's destruction: never call into it again.
    m_transport = nullptr;
    if (m_phase == Phase::Dialing) {
        closeNow(Error(ErrorCode::DialCrashed,
                       QStringLiteral("transport destroyed before it connected")),
                 false);
        return;
    }
    closeNow(Error(ErrorCode::ConnectionLost, QStringLiteral("transport destroyed")), false);
}

void UpstreamOwner::handleSettingsChanged()
{
    // New SETTINGS (h2 SETTINGS_MAX_CONCURRENT_STREAMS, RFC 9113, 6.5.2) or new MAX_STREAMS
    // credit (RFC 9000, 19.11): the limit is read live from the transport, and a previous
    // stream_limit refusal may no longer hold.
    m_transportFull = false;
    updateState();
}

void UpstreamOwner::handleGoaway(StreamId id)
{
    Q_UNUSED(id) // the transport resets the streams the peer will not process
    enterDraining(QStringLiteral("peer sent GOAWAY"));
}

void UpstreamOwner::enterDraining(const QString &why)
{
    if (m_phase != Phase::Ready)
        return;
    // RFC 9113, 6.8 / RFC 9114, 5.2: no new streams; the ones below the GOAWAY id finish.
    m_phase = Phase::Draining;
    m_idleTimer.stop();
    qCInfo(lcPool, "owner#%llu draining (%s), %lld streams left", m_id, qPrintable(why),
           static_cast<qint64>(m_streams.size()));
    updateState();
    afterStreamGone();
}

void UpstreamOwner::handleStreamReset(StreamId id, const Error &reason)
{
    // The handler was told by the transport already; only the slot is freed.
    dropStream(id, false, reason);
}

void UpstreamOwner::handleDatagram(StreamId id, QByteArrayView payload)
{
    // Hot path: one hash lookup and one virtual call, no logging, no copy.
    const auto it = m_streams.find(id);
    if (it == m_streams.end()) {
        // RFC 9297, 2.1: datagrams for an unknown or closed stream are dropped (counted).
        ++m_datagramsUnknown;
        return;
    }
    ++it->datagramsRouted;
    ++m_datagramsRouted;
    StreamHandler *handler = it->handler; // the handler may release the stream while called
    handler->onDatagram(id, payload);
}

void UpstreamOwner::handleSessionDestroyed(StreamId id)
{
    dropStream(id, true, Error(ErrorCode::Cancelled, QStringLiteral("session destroyed")));
}

void UpstreamOwner::handleIdleTimeout()
{
    if (m_phase != Phase::Ready || !m_streams.isEmpty())
        return;
    closeNow(Error(ErrorCode::IdleTimeout,
                   QStringLiteral("no stream for %1 ms").arg(m_options.idleTimeoutMs)),
             true);
}

Result<AcquiredStream> UpstreamOwner::acquireStream(const Request &request, StreamHandler *handler,
                                                    QObject *session)
{
    if (!handler || !session)
        return Error(ErrorCode::InvalidArgument, QStringLiteral("a stream needs a handler"));
    switch (m_phase) {
    case Phase::Created:
    case Phase::Dialing:
        return Error(ErrorCode::NotReady, QStringLiteral("upstream connection still dialing"));
    case Phase::Closing:
        return Error(ErrorCode::OwnerGone, QStringLiteral("upstream connection closing"));
    case Phase::Draining:
        return Error(ErrorCode::Goaway, QStringLiteral("upstream connection draining"));
    case Phase::Ready:
        break;
    }
    if (!canOpenStream()) {
        return Error(ErrorCode::StreamLimit,
                     QStringLiteral("%1 of %2 streams in use")
                         .arg(m_streams.size())
                         .arg(m_transportFull ? m_streams.size() : streamLimit()));
    }

    Result<StreamId> submitted = m_transport->submitRequest(request);
    if (!submitted) {
        const Error &error = submitted.error();
        if (error.code == ErrorCode::StreamLimit) {
            // The peer's credit is lower than our limit (RFC 9000, 4.6): full until a stream
            // ends or new credit arrives.
            m_transportFull = true;
            updateState();
        } else if (error.code == ErrorCode::Goaway) {
            enterDraining(QStringLiteral("transport refused a stream: goaway"));
        } else if (error.code == ErrorCode::ConnectionClosed) {
            // The connection died and closed() is still on its way: the owner is gone now, so
            // the pool drops it and the caller's retry lands on another connection.
            closeNow(error, false);
            return Error(ErrorCode::OwnerGone, error.toString());
        }
        return error;
    }
    const StreamId id = submitted.value();

    StreamEntry entry;
    entry.handler = handler;
    entry.session = session;
    entry.acquiredAtMs = m_clock.elapsed();
    entry.protocol = protocolOf(request);
    entry.target = targetOf(request);
    entry.sessionWatch =
        connect(session, &QObject::destroyed, this, [this, id] { handleSessionDestroyed(id); });
    m_streams.insert(id, std::move(entry));
    m_idleTimer.stop();
    updateState();
    emit streamAcquired(id);

    // Registered before the handler is set: a reset replayed by setStreamHandler() must find the
    // entry, or the slot would leak.
    const Status registered =
        m_transport ? m_transport->setStreamHandler(id, handler) : Status(ErrorCode::OwnerGone);
    if (!registered) {
        dropStream(id, true, registered.error());
        return registered.error();
    }
    return AcquiredStream{id, m_transport, this};
}

void UpstreamOwner::releaseStream(StreamId id, ReleaseMode mode)
{
    const bool reset = mode == ReleaseMode::Reset;
    dropStream(id, reset,
               Error(ErrorCode::LocalClose,
                     reset ? QStringLiteral("released") : QStringLiteral("released after FIN")));
}

void UpstreamOwner::closeStream(StreamId id)
{
    const auto it = m_streams.constFind(id);
    if (it == m_streams.cend())
        return;
    StreamHandler *handler = it->handler;
    const QPointer<QObject> session = it->session;
    const Error reason(ErrorCode::LocalClose, QStringLiteral("closed by user"));
    dropStream(id, true, reason);
    if (session)
        handler->onStreamReset(id, reason);
}

void UpstreamOwner::stop(const Error &reason)
{
    closeNow(reason, true);
}

bool UpstreamOwner::dropStream(StreamId id, bool reset, const Error &reason)
{
    const auto it = m_streams.find(id);
    if (it == m_streams.end())
        return false;
    QObject::disconnect(it->sessionWatch);
    m_streams.erase(it);
    ++m_streamsReleased;
    if (m_transport) {
        m_transport->clearStreamHandler(id);
        if (reset)
            m_transport->resetStream(id, StreamResetReason::Cancel);
    }
    emit streamReleased(id, reason);
    afterStreamGone();
    return true;
}

void UpstreamOwner::afterStreamGone()
{
    m_transportFull = false; // a slot is free again: let the next acquire find out
    if (m_streams.isEmpty()) {
        if (m_phase == Phase::Ready) {
            armIdleTimer();
        } else if (m_phase == Phase::Draining) {
            // A draining connection can never be reused: close it once the last stream is gone.
            // Queued: we may be inside a transport callback or a session's release call.
            QMetaObject::invokeMethod(
                this,
                [this] {
                    if (m_phase == Phase::Draining && m_streams.isEmpty()) {
                        closeNow(Error(ErrorCode::Goaway, QStringLiteral("drained after GOAWAY")),
                                 true);
                    }
                },
                Qt::QueuedConnection);
        }
    }
    updateState();
}

void UpstreamOwner::closeNow(const Error &reason, bool closeTransport)
{
    if (m_phase == Phase::Closing)
        return;
    m_phase = Phase::Closing;
    m_idleTimer.stop();
    m_dialGuard.stop();

    // Mutate first, then notify: a session may call back into us (release, acquire) while told.
    const QHash<StreamId, StreamEntry> streams = std::exchange(m_streams, {});
    for (auto it = streams.cbegin(); it != streams.cend(); ++it) {
        QObject::disconnect(it->sessionWatch);
        if (m_transport)
            m_transport->clearStreamHandler(it.key());
    }
    detachTransport(closeTransport);
    updateState();
    if (m_dialReported) {
        qCInfo(lcPool, "owner#%llu closed (%s), %lld streams told", m_id,
               qPrintable(reason.toString()), static_cast<qint64>(streams.size()));
    }

    for (auto it = streams.cbegin(); it != streams.cend(); ++it) {
        if (it->session)
            it->handler->onConnectionClosed(it.key(), reason);
        emit streamReleased(it.key(), reason);
    }

    if (!m_dialReported) {
        // Still dialing (or the success report is not out yet): the dial report carries it.
        m_dialError = reason;
        postDialReport();
        return;
    }
    emit connectionClosed(reason);
    deleteLater();
}

void UpstreamOwner::detachTransport(bool close)
{
    Transport *transport = std::exchange(m_transport, nullptr);
    if (!transport)
        return;
    disconnect(transport, nullptr, this, nullptr);
    if (close)
        transport->close();
    transport->deleteLater();
}

void UpstreamOwner::armIdleTimer()
{
    if (m_options.idleTimeoutMs <= 0) {
        m_idleTimer.stop();
        return;
    }
    // Restarting the one timer cancels the previous expiry: only the current arm counts.
    m_idleTimer.start(m_options.idleTimeoutMs);
}

void UpstreamOwner::updateState()
{
    ConnectionState state = ConnectionState::Dialing;
    switch (m_phase) {
    case Phase::Created:
    case Phase::Dialing:
        state = ConnectionState::Dialing;
        break;
    case Phase::Ready:
        state = canOpenStream() ? ConnectionState::Ready : ConnectionState::Full;
        break;
    case Phase::Draining:
        state = ConnectionState::Draining;
        break;
    case Phase::Closing:
        state = ConnectionState::Closing;
        break;
    }
    if (state == m_state)
        return;
    qCDebug(lcPool, "owner#%llu %s -> %s", m_id, connectionStateName(m_state),
            connectionStateName(state));
    m_state = state;
    emit stateChanged(state);
}

qint64 UpstreamOwner::streamLimit() const
{
    if (m_options.maxStreams > 0)
        return m_options.maxStreams;
    if (m_transport) {
        if (const std::optional<qint64> peer = m_transport->peerStreamLimit())
            return std::max<qint64>(0, *peer);
    }
    return OwnerOptions::kDefaultStreamLimit;
}

bool UpstreamOwner::canOpenStream() const
{
    return m_phase == Phase::Ready && m_transport && !m_transportFull &&
           m_streams.size() < streamLimit();
}

qint64 UpstreamOwner::idleRemainingMs() const
{
    return m_idleTimer.isActive() ? m_idleTimer.remainingTime() : -1;
}

ConnectionSnapshot UpstreamOwner::info() const
{
    ConnectionSnapshot snapshot;
    snapshot.id = m_id;
    snapshot.transport = m_endpoint.transport;
    snapshot.proxyHost = m_fingerprint.host();
    snapshot.proxyPort = m_fingerprint.port();
    snapshot.fingerprint = m_fingerprint.toString();
    snapshot.state = m_state;
    snapshot.streamsInUse = m_streams.size();
    snapshot.streamLimit = streamLimit();
    if (m_options.maxStreams > 0)
        snapshot.streamLimitSource = StreamLimitSource::Fixed;
    else if (m_transport && m_transport->peerStreamLimit())
        snapshot.streamLimitSource = StreamLimitSource::Peer;
    else
        snapshot.streamLimitSource = StreamLimitSource::Default;
    snapshot.idleRemainingMs = idleRemainingMs();
    snapshot.ageMs = m_clock.elapsed();
    snapshot.datagramsRouted = m_datagramsRouted;
    snapshot.datagramsUnknownStream = m_datagramsUnknown;
    if (m_transport) {
        snapshot.stats = m_transport->stats();
    } else {
        snapshot.stats.kind = m_endpoint.transport;
    }

    const bool quic = m_endpoint.transport == TransportKind::H3;
    const qint64 now = snapshot.ageMs;
    snapshot.streams.reserve(m_streams.size());
    for (auto it = m_streams.cbegin(); it != m_streams.cend(); ++it) {
        const StreamEntry &entry = it.value();
        StreamSnapshot &row = snapshot.streams.emplace_back();
        row.streamId = it.key();
        row.protocol = entry.protocol;
        row.target = entry.target; // shared, not copied
        row.datagramPath = entry.protocol == TunnelProtocol::Tcp ? DatagramPath::None
                           : quic                                ? DatagramPath::QuicDatagram
                                                                 : DatagramPath::Capsule;
        row.datagramsReceived = entry.datagramsRouted;
        row.ageMs = now - entry.acquiredAtMs;
        entry.handler->describeStream(row);
    }
    std::sort(
        snapshot.streams.begin(), snapshot.streams.end(),
        [](const StreamSnapshot &a, const StreamSnapshot &b) { return a.streamId < b.streamId; });
    return snapshot;
}

} // namespace qmasque
