#include "transport/h3/H3ServerConnection.h"

#include "core/Log.h"

#include <nghttp3/nghttp3.h>

namespace qmasque {

using namespace h3;

H3ServerConnection::H3ServerConnection(const ServerOptions &options, QObject *parent)
    : ServerConnection(parent)
    , m_options(options)
{}

H3ServerConnection::~H3ServerConnection()
{
    if (m_quic)
        m_quic->abortNow(NGHTTP3_H3_NO_ERROR);
}

Status H3ServerConnection::accept(std::unique_ptr<QuicTlsSession> tls, const QuicAccept &accept,
                                  QuicPacketSink *sink, QuicConnectionIdRegistry *registry)
{
    QuicConfig config;
    config.handshakeTimeoutMs = m_options.handshakeTimeoutMs;
    config.idleTimeoutMs = m_options.idleTimeoutMs;
    config.streamReceiveWindow = m_options.streamReceiveWindow;
    config.connectionReceiveWindow = m_options.connectionReceiveWindow;
    config.maxStreamsBidi = m_options.maxConcurrentStreams; // RFC 9114, 6.1 via MAX_STREAMS
    config.maxDatagramFrameSize = m_options.maxDatagramFrameSize;
    m_session = std::make_unique<H3Session>(H3Session::Role::Server, m_options.streamSendBuffer,
                                            static_cast<H3SessionEvents *>(this));
    auto quic = QuicConnection::acceptServer(config, std::move(tls), accept, m_session.get(), sink,
                                             registry);
    if (!quic)
        return quic.error();
    m_quic = std::move(quic.value());
    m_session->setConnection(m_quic.get());
    return {};
}

HttpConnection::State H3ServerConnection::state() const
{
    if (m_closed || !m_session)
        return State::Closed;
    return m_session->state();
}

Status H3ServerConnection::submitResponse(StreamId id, const Response &response, bool endStream)
{
    if (m_closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("connection closed"));
    return m_session->submitResponse(id, response, endStream);
}

QHostAddress H3ServerConnection::peerAddress() const
{
    return m_quic ? m_quic->remoteAddress().hostAddress() : QHostAddress();
}

quint16 H3ServerConnection::peerPort() const
{
    return m_quic ? m_quic->remoteAddress().port() : 0;
}

Status H3ServerConnection::setStreamHandler(StreamId id, StreamHandler *handler)
{
    return m_session->setStreamHandler(id, handler);
}

void H3ServerConnection::clearStreamHandler(StreamId id)
{
    m_session->clearStreamHandler(id);
}

Result<qint64> H3ServerConnection::sendStreamData(StreamId id, QByteArrayView data)
{
    if (m_closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("connection closed"));
    return m_session->sendStreamData(id, data);
}

Status H3ServerConnection::endStream(StreamId id)
{
    return m_session->endStream(id);
}

void H3ServerConnection::resetStream(StreamId id, StreamResetReason reason)
{
    m_session->resetStream(id, reason);
}

void H3ServerConnection::consumeStreamData(StreamId id, qint64 bytes)
{
    m_session->consumeStreamData(id, bytes);
}

Status H3ServerConnection::sendDatagram(StreamId id, QByteArrayView payload)
{
    if (m_closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("connection closed"));
    return m_session->sendDatagram(id, payload);
}

qint64 H3ServerConnection::maxDatagramPayload(StreamId id) const
{
    return m_closed ? 0 : m_session->maxDatagramPayload(id);
}

PeerSettings H3ServerConnection::peerSettings() const
{
    return m_session->peerSettings();
}

qint64 H3ServerConnection::openStreamCount() const
{
    return m_session->openStreamCount();
}

void H3ServerConnection::goaway()
{
    m_session->goaway();
}

void H3ServerConnection::close()
{
    if (!m_closed)
        m_session->close(Error(ErrorCode::LocalClose, QStringLiteral("closed locally")));
}

TransportStats H3ServerConnection::stats() const
{
    TransportStats stats;
    stats.kind = TransportKind::H3;
    m_session->fillStats(stats);
    return stats;
}

void H3ServerConnection::sessionConnected()
{
    // Synchronous: the listener hands the connection out (newConnection) before the first
    // request, which may be processed right after the handshake in the same read.
    Q_EMIT connected();
}

void H3ServerConnection::sessionSettingsChanged()
{
    Q_EMIT settingsChanged();
}

void H3ServerConnection::sessionGoawayReceived(StreamId id)
{
    Q_EMIT goawayReceived(id);
}

void H3ServerConnection::sessionStreamReset(StreamId id, const Error &reason)
{
    Q_EMIT streamReset(id, reason);
}

void H3ServerConnection::sessionDatagramReceived(StreamId id, QByteArrayView payload)
{
    Q_EMIT datagramReceived(id, payload);
}

void H3ServerConnection::sessionRequestReceived(StreamId id, const IncomingRequest &request)
{
    Q_EMIT requestReceived(id, request);
}

void H3ServerConnection::sessionClosed(const Error &reason)
{
    if (m_closed)
        return;
    m_closed = true;
    QMetaObject::invokeMethod(
        this, [this, reason] { Q_EMIT closed(reason); }, Qt::QueuedConnection);
}

} // namespace qmasque
