#include "transport/h2/H2ServerConnection.h"

#include "core/Log.h"
#include "transport/h2/H2Session.h"
#include "transport/tls/TlsErrors.h"

#include <QtNetwork/QSslSocket>

namespace qmasque {

namespace {

Error notStarted()
{
    return Error(ErrorCode::NotReady, QStringLiteral("the connection was not started"));
}

} // namespace

H2ServerConnection::H2ServerConnection(QSslSocket *socket, const ServerOptions &options,
                                       QObject *parent)
    : ServerConnection(parent)
    , m_tls(TlsSessionInfo::read(*socket))
    , m_peerAddress(socket->peerAddress())
    , m_peerPort(socket->peerPort())
    , m_socket(socket)
    , m_options(options)
{
    m_socket->setParent(this);
}

H2ServerConnection::~H2ServerConnection()
{
    m_socket->disconnect(this);
    m_session.reset(); // before the socket child it refers to
}

void H2ServerConnection::setExtendedConnectEnabled(bool enabled)
{
    m_extendedConnect = enabled;
}

void H2ServerConnection::start()
{
    if (m_started)
        return;
    m_started = true;
    H2Session::Config config;
    config.streamReceiveWindow = m_options.streamReceiveWindow;
    config.connectionReceiveWindow = m_options.connectionReceiveWindow;
    config.streamSendBuffer = m_options.streamSendBuffer;
    config.maxConcurrentStreams = m_options.maxConcurrentStreams;
    config.enableConnectProtocol = m_extendedConnect;
    config.closeWhenIdleMs = m_options.idleTimeoutMs;
    m_session = std::make_unique<H2Session>(H2Session::Role::Server, m_socket, config);
    connect(m_session.get(), &H2Session::requestReceived, this,
            &H2ServerConnection::requestReceived);
    connect(m_session.get(), &H2Session::streamReset, this, &H2ServerConnection::streamReset);
    connect(m_session.get(), &H2Session::settingsReceived, this, [this](bool first) {
        if (!first)
            Q_EMIT settingsChanged();
    });
    connect(m_session.get(), &H2Session::goawayReceived, this, [this](StreamId lastStreamId) {
        if (m_state == State::Connected)
            m_state = State::Draining;
        Q_EMIT goawayReceived(lastStreamId);
    });
    connect(m_session.get(), &H2Session::finished, this, &H2ServerConnection::handleFinished);
    connect(m_socket, &QSslSocket::errorOccurred, this, &H2ServerConnection::handleSocketFailure);
    connect(m_socket, &QSslSocket::disconnected, this, &H2ServerConnection::handleSocketFailure);
    if (Status started = m_session->start(); !started) {
        m_session->close();
        handleFinished(started.error());
    }
}

void H2ServerConnection::handleSocketFailure()
{
    if (m_session)
        m_session->socketClosed(socketError(m_socket->error(), m_socket->errorString()));
}

void H2ServerConnection::handleFinished(const Error &reason)
{
    if (m_closedEmitted)
        return;
    m_closedEmitted = true;
    m_state = State::Closed;
    qCDebug(lcH2).noquote() << "[" << this << "] server connection closed:" << reason.toString();
    // Queued: closed() never comes from inside a caller's close() or start().
    QMetaObject::invokeMethod(
        this, [this, reason] { Q_EMIT closed(reason); }, Qt::QueuedConnection);
}

void H2ServerConnection::setMaxConcurrentStreams(quint32 limit)
{
    if (m_session)
        m_session->setMaxConcurrentStreams(limit);
}

void H2ServerConnection::shedStreamsAbove(StreamId lastStreamId)
{
    if (m_state == State::Connected)
        m_state = State::Draining;
    if (m_session)
        m_session->goaway(lastStreamId);
}

Status H2ServerConnection::submitResponse(StreamId id, const Response &response, bool endStream)
{
    if (!m_session)
        return notStarted();
    return m_session->submitResponse(id, response, endStream);
}

Status H2ServerConnection::setStreamHandler(StreamId id, StreamHandler *handler)
{
    if (!m_session)
        return notStarted();
    return m_session->setStreamHandler(id, handler);
}

void H2ServerConnection::clearStreamHandler(StreamId id)
{
    if (m_session)
        m_session->clearStreamHandler(id);
}

Result<qint64> H2ServerConnection::sendStreamData(StreamId id, QByteArrayView data)
{
    if (!m_session)
        return notStarted();
    return m_session->sendStreamData(id, data);
}

Status H2ServerConnection::endStream(StreamId id)
{
    if (!m_session)
        return notStarted();
    return m_session->endStream(id);
}

void H2ServerConnection::resetStream(StreamId id, StreamResetReason reason)
{
    if (m_session)
        m_session->resetStream(id, reason);
}

void H2ServerConnection::consumeStreamData(StreamId id, qint64 bytes)
{
    if (m_session)
        m_session->consumeStreamData(id, bytes);
}

Status H2ServerConnection::sendDatagram(StreamId id, QByteArrayView payload)
{
    if (!m_session)
        return notStarted();
    return m_session->sendDatagram(id, payload);
}

qint64 H2ServerConnection::maxDatagramPayload(StreamId id) const
{
    return m_session ? m_session->maxDatagramPayload(id) : 0;
}

PeerSettings H2ServerConnection::peerSettings() const
{
    return m_session ? m_session->peerSettings() : PeerSettings();
}

qint64 H2ServerConnection::openStreamCount() const
{
    return m_session ? m_session->openStreamCount() : 0;
}

void H2ServerConnection::goaway()
{
    if (m_state == State::Connected)
        m_state = State::Draining;
    if (m_session)
        m_session->goaway();
}

void H2ServerConnection::close()
{
    if (m_session)
        m_session->close();
    else
        handleFinished(Error(ErrorCode::LocalClose, QStringLiteral("closed before start()")));
}

TransportStats H2ServerConnection::stats() const
{
    TransportStats stats;
    stats.kind = TransportKind::H2;
    m_tls.fill(stats);
    if (m_session)
        m_session->fillStats(stats);
    return stats;
}

} // namespace qmasque
