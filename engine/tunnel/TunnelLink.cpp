#include "tunnel/TunnelLink.h"

#include "pool/UpstreamOwner.h"
#include "transport/StreamHandler.h"

#include <QtCore/QTimer>

#include <atomic>
#include <exception>

namespace qmasque {

namespace {

std::atomic<quint64> g_nextDirectId{TunnelLink::kDirectConnectionIdBase};

// lingerAndDispose: a direct connection whose tunnel ended gracefully keeps running on its own
// until it has flushed (h1 closes the socket after the buffer drained; h2/h3 close once the last
// stream ended after goaway()), at most TunnelLink::kLingerMs; then it is closed and deleted.
void lingerAndDispose(Transport *transport)
{
    transport->setParent(nullptr);
    QObject::connect(transport, &HttpConnection::closed, transport, &QObject::deleteLater);
    QTimer::singleShot(TunnelLink::kLingerMs, transport, [transport] {
        transport->close();
        transport->deleteLater();
    });
    transport->goaway();
}

} // namespace

TunnelLink::TunnelLink(StreamHandler *handler, QObject *session)
    : QObject(session)
    , m_handler(handler)
{
    m_age.start();
}

TunnelLink::~TunnelLink()
{
    // The session is going away without having finished: leave nothing behind.
    if (!m_finished)
        finishReset(StreamResetReason::Cancel);
}

void TunnelLink::start(const UpstreamEndpoint &endpoint, const Request &request,
                       bool needsDatagrams, UpstreamPool *pool, const TransportFactory &factory,
                       QDeadlineTimer deadline)
{
    m_endpoint = endpoint;
    m_request = request;
    m_needsDatagrams = needsDatagrams;
    m_pool = pool;
    if (pool && endpoint.transport != TransportKind::H1) {
        m_pooled = true;
        auto *session = parent();
        m_ticket = pool->openStream(
            endpoint, request, m_handler, session,
            [this](const Result<AcquiredStream> &stream) { handlePooledStream(stream); }, deadline);
        return;
    }
    startDirect(factory);
}

void TunnelLink::startDirect(const TransportFactory &factory)
{
    m_connectionId = g_nextDirectId.fetch_add(1, std::memory_order_relaxed);
    m_fingerprint = Fingerprint::of(m_endpoint).toString();
    if (!factory) {
        failLater(Error(ErrorCode::InvalidConfig, QStringLiteral("no transport factory")));
        return;
    }
    // As the upstream owner does: a factory or connect that throws is a crashed dial, reported
    // like any other failure.
    Transport *transport = nullptr;
    try {
        transport = factory(m_endpoint.transport, this);
    } catch (const std::exception &e) {
        failLater(Error(ErrorCode::DialCrashed,
                        QStringLiteral("transport factory threw: ") + QString::fromUtf8(e.what())));
        return;
    } catch (...) {
        failLater(Error(ErrorCode::DialCrashed, QStringLiteral("transport factory threw")));
        return;
    }
    if (!transport) {
        failLater(Error(ErrorCode::DialCrashed, QStringLiteral("transport factory made nothing")));
        return;
    }
    if (transport->parent() != this)
        transport->setParent(this);
    m_transport = transport;
    connect(transport, &HttpConnection::connected, this, &TunnelLink::handleDirectConnected);
    connect(transport, &HttpConnection::closed, this, &TunnelLink::handleDirectClosed);
    connect(transport, &HttpConnection::datagramReceived, this,
            [this](StreamId id, QByteArrayView payload) {
                // Hot path: the one stream of this connection, no copy.
                if (m_attached && id == m_streamId)
                    m_handler->onDatagram(id, payload);
            });
    connect(transport, &QObject::destroyed, this, [this] {
        if (!m_finished && !m_attached)
            failLater(Error(ErrorCode::DialCrashed, QStringLiteral("transport destroyed")));
    });
    try {
        transport->connectToProxy(m_endpoint.connect);
    } catch (const std::exception &e) {
        dropDirect(true);
        failLater(Error(ErrorCode::DialCrashed,
                        QStringLiteral("connect threw: ") + QString::fromUtf8(e.what())));
    } catch (...) {
        dropDirect(true);
        failLater(Error(ErrorCode::DialCrashed, QStringLiteral("connect threw")));
    }
}

Status TunnelLink::checkPeer(const Transport &transport) const
{
    if (transport.kind() == TransportKind::H1)
        return {}; // no SETTINGS: the Upgrade response decides
    const PeerSettings settings = transport.peerSettings();
    // RFC 8441, 3 / RFC 9220, 3: extended CONNECT only after the peer enabled it.
    if (m_request.isExtendedConnect() && !settings.extendedConnect)
        return Error(ErrorCode::NoExtendedConnect,
                     QStringLiteral("the proxy did not send SETTINGS_ENABLE_CONNECT_PROTOCOL"));
    // RFC 9297, 2.1.1: HTTP datagrams over HTTP/3 need SETTINGS_H3_DATAGRAM = 1.
    if (m_needsDatagrams && transport.kind() == TransportKind::H3 && !settings.h3Datagram)
        return Error(ErrorCode::NoH3Datagram,
                     QStringLiteral("the proxy did not send SETTINGS_H3_DATAGRAM"));
    return {};
}

void TunnelLink::handleDirectConnected()
{
    if (m_finished || m_attached || !m_transport)
        return;
    m_reachedProxy = true;
    if (Status peer = checkPeer(*m_transport); !peer) {
        dropDirect(true);
        failLater(peer.error());
        return;
    }
    Result<StreamId> submitted = m_transport->submitRequest(m_request);
    if (!submitted) {
        dropDirect(true);
        failLater(submitted.error());
        return;
    }
    m_streamId = *submitted;
    m_attached = true;
    // The session learns its stream first, then becomes its handler (events may follow at once).
    emit attached();
    if (m_finished || !m_transport)
        return;
    if (Status registered = m_transport->setStreamHandler(m_streamId, m_handler); !registered)
        m_handler->onConnectionClosed(m_streamId, registered.error());
}

void TunnelLink::handleDirectClosed(const Error &reason)
{
    if (m_finished)
        return;
    if (!m_attached) {
        dropDirect(false);
        failLater(reason);
        return;
    }
    // Same path as a pooled connection's end (UpstreamOwner tells its sessions this way).
    m_handler->onConnectionClosed(m_streamId, reason);
}

void TunnelLink::handlePooledStream(const Result<AcquiredStream> &stream)
{
    m_ticket = 0;
    if (m_finished)
        return;
    if (!stream) {
        emit failed(stream.error());
        return;
    }
    m_reachedProxy = true;
    m_owner = stream->owner;
    m_transport = stream->transport;
    m_streamId = stream->id;
    m_connectionId = m_owner ? m_owner->id() : 0;
    if (!m_transport || !m_owner) {
        emit failed(Error(ErrorCode::OwnerGone, QStringLiteral("upstream connection gone")));
        return;
    }
    // The pool does not look at the peer's SETTINGS; a proxy that cannot carry this tunnel is
    // found out here, before the session uses the stream.
    if (Status peer = checkPeer(*m_transport); !peer) {
        m_finished = true;
        m_owner->releaseStream(m_streamId, ReleaseMode::Reset);
        emit failed(peer.error());
        return;
    }
    m_attached = true;
    emit attached();
}

void TunnelLink::failLater(const Error &error)
{
    // failed() never comes from inside start() or a transport callback.
    QMetaObject::invokeMethod(
        this,
        [this, error] {
            if (!m_finished && !m_attached)
                emit failed(error);
        },
        Qt::QueuedConnection);
}

void TunnelLink::dropDirect(bool close)
{
    Transport *transport = m_transport;
    m_transport = nullptr;
    if (!transport)
        return;
    disconnect(transport, nullptr, this, nullptr);
    if (close)
        transport->close();
    transport->deleteLater();
}

void TunnelLink::finishGraceful()
{
    if (std::exchange(m_finished, true))
        return;
    if (m_pooled) {
        if (m_ticket && m_pool)
            m_pool->cancel(m_ticket);
        m_ticket = 0;
        if (m_attached && m_owner)
            m_owner->releaseStream(m_streamId, ReleaseMode::Graceful);
        m_transport = nullptr;
        return;
    }
    Transport *transport = m_transport;
    m_transport = nullptr;
    if (!transport)
        return;
    disconnect(transport, nullptr, this, nullptr);
    if (m_attached)
        transport->clearStreamHandler(m_streamId);
    lingerAndDispose(transport);
}

void TunnelLink::finishReset(StreamResetReason reason)
{
    if (std::exchange(m_finished, true))
        return;
    if (m_pooled) {
        if (m_ticket && m_pool)
            m_pool->cancel(m_ticket);
        m_ticket = 0;
        if (m_attached) {
            // The session's reason goes on the wire (the owner's own reset would say CANCEL);
            // the release then only frees the slot.
            if (m_transport)
                m_transport->resetStream(m_streamId, reason);
            if (m_owner)
                m_owner->releaseStream(m_streamId, ReleaseMode::Graceful);
        }
        m_transport = nullptr;
        return;
    }
    if (m_attached && m_transport) {
        m_transport->clearStreamHandler(m_streamId);
        m_transport->resetStream(m_streamId, reason);
    }
    dropDirect(true);
}

void TunnelLink::finishGone()
{
    if (std::exchange(m_finished, true))
        return;
    if (m_pooled) {
        if (m_ticket && m_pool)
            m_pool->cancel(m_ticket);
        m_ticket = 0;
        if (m_attached && m_owner)
            m_owner->releaseStream(m_streamId, ReleaseMode::Graceful); // idempotent
        m_transport = nullptr;
        return;
    }
    if (m_attached && m_transport)
        m_transport->clearStreamHandler(m_streamId);
    dropDirect(true);
}

std::optional<ConnectionSnapshot> TunnelLink::directConnection() const
{
    if (m_pooled || m_connectionId == 0)
        return std::nullopt;
    ConnectionSnapshot row;
    row.id = m_connectionId;
    row.transport = m_endpoint.transport;
    row.proxyHost = Fingerprint::normalizeHost(m_endpoint.connect.host);
    row.proxyPort = m_endpoint.connect.port;
    row.fingerprint = m_fingerprint;
    const bool connected = m_transport && m_transport->state() == HttpConnection::State::Connected;
    row.state = m_finished    ? ConnectionState::Closing
                : connected   ? ConnectionState::Full
                : m_transport ? ConnectionState::Dialing
                              : ConnectionState::Closing;
    row.streamsInUse = m_attached && !m_finished ? 1 : 0;
    row.streamLimit = 1;
    row.streamLimitSource = StreamLimitSource::Fixed;
    row.ageMs = m_age.elapsed();
    if (m_transport)
        row.stats = m_transport->stats();
    return row;
}

} // namespace qmasque
