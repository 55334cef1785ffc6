#include "transport/h2/H2Transport.h"

#include "core/Log.h"
#include "transport/h2/H2Session.h"
#include "transport/tls/TlsClientConnector.h"
#include "transport/tls/TlsErrors.h"

#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslSocket>

namespace qmasque {

H2Transport::H2Transport(QObject *parent)
    : Transport(parent)
{
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, &H2Transport::handleDeadline);
}

H2Transport::~H2Transport()
{
    if (m_socket)
        m_socket->disconnect(this);
}

void H2Transport::connectToProxy(const ConnectOptions &options)
{
    if (m_state != State::Idle) {
        qCWarning(lcH2) << "connectToProxy called twice; ignored";
        return;
    }
    m_state = State::Connecting;
    m_options = options;
    m_socket = std::make_unique<QSslSocket>();
    m_connector = std::make_unique<TlsClientConnector>(m_socket.get());
    connect(m_connector.get(), &TlsClientConnector::established, this,
            &H2Transport::handleEstablished);
    connect(m_connector.get(), &TlsClientConnector::failed, this, &H2Transport::fail);
    m_deadline.start(qMax(1, options.connectTimeoutMs));
    m_connector->start(options, options.alpn.isEmpty() ? QList<QByteArray>{"h2"} : options.alpn);
}

void H2Transport::handleEstablished()
{
    const QByteArray alpn = m_socket->sslConfiguration().nextNegotiatedProtocol();
    if (alpn != "h2") {
        // RFC 9113, 3.3: h2 over TLS is only spoken after ALPN selected it.
        fail(Error(ErrorCode::AlpnMismatch, QStringLiteral("the proxy selected ALPN \"%1\", not h2")
                                                .arg(QString::fromLatin1(alpn))));
        return;
    }
    m_tls = TlsSessionInfo::read(*m_socket);
    connect(m_socket.get(), &QSslSocket::errorOccurred, this, &H2Transport::handleSocketFailure);
    connect(m_socket.get(), &QSslSocket::disconnected, this, &H2Transport::handleSocketFailure);

    H2Session::Config config;
    config.streamReceiveWindow = m_options.streamReceiveWindow;
    config.connectionReceiveWindow = m_options.connectionReceiveWindow;
    config.streamSendBuffer = m_options.streamSendBuffer;
    config.keepaliveMs = m_options.keepaliveMs;
    config.deadPeerMs = m_options.idleTimeoutMs;
    m_session = std::make_unique<H2Session>(H2Session::Role::Client, m_socket.get(), config);
    connect(m_session.get(), &H2Session::settingsReceived, this, &H2Transport::handleSettings);
    connect(m_session.get(), &H2Session::goawayReceived, this, [this](StreamId lastStreamId) {
        if (m_state == State::Connected)
            m_state = State::Draining;
        Q_EMIT goawayReceived(lastStreamId);
    });
    connect(m_session.get(), &H2Session::streamReset, this, &H2Transport::streamReset);
    // The stream capacity changed (HttpConnection::settingsChanged): an owner that was refused
    // with stream_limit may acquire again.
    connect(m_session.get(), &H2Session::outgoingSlotFreed, this, &H2Transport::settingsChanged);
    connect(m_session.get(), &H2Session::finished, this, &H2Transport::fail);
    if (Status started = m_session->start(); !started)
        fail(started.error());
}

void H2Transport::handleSettings(bool first)
{
    if (!first) {
        Q_EMIT settingsChanged();
        return;
    }
    if (m_state != State::Connecting)
        return;
    m_deadline.stop();
    m_state = State::Connected;
    qCDebug(lcH2).noquote() << "[" << this << "] connected to" << m_options.host << m_tls.version
                            << m_tls.cipher;
    Q_EMIT connected();
}

void H2Transport::handleSocketFailure()
{
    if (!m_session || !m_socket)
        return;
    const Error cause = socketError(m_socket->error(), m_socket->errorString());
    m_session->socketClosed(m_connector->errorAfterHandshake(cause));
}

void H2Transport::handleDeadline()
{
    if (m_state != State::Connecting)
        return;
    const bool tcpUp = m_connector && m_connector->tcpConnected();
    fail(Error(tcpUp ? ErrorCode::HandshakeTimeout : ErrorCode::ConnectTimeout,
               QStringLiteral("%1 to %2:%3 took more than %4 ms")
                   .arg(tcpUp ? QStringLiteral("TLS/HTTP2 handshake") : QStringLiteral("connect"))
                   .arg(m_options.host)
                   .arg(m_options.port)
                   .arg(m_options.connectTimeoutMs)));
}

void H2Transport::fail(const Error &reason)
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_deadline.stop();
    if (m_session && !m_session->isFinished()) {
        m_session->close(); // its finished() is ignored now: closed() is ours to emit
        m_session->disconnect(this);
    } else if (m_socket && !m_session) {
        m_socket->abort();
    }
    emitClosed(reason);
}

void H2Transport::emitClosed(const Error &reason)
{
    if (m_closedEmitted || m_closeQueued)
        return;
    m_closeQueued = true;
    // Queued: closed() never comes from inside a caller's close() or a stream operation.
    QMetaObject::invokeMethod(
        this,
        [this, reason] {
            m_closedEmitted = true;
            qCDebug(lcH2).noquote() << "[" << this << "] closed:" << reason.toString();
            Q_EMIT closed(reason);
        },
        Qt::QueuedConnection);
}

Error H2Transport::notConnected() const
{
    if (m_state == State::Closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("the connection is closed"));
    return Error(ErrorCode::NotReady, QStringLiteral("not connected yet"));
}

Result<StreamId> H2Transport::submitRequest(const Request &request)
{
    if (m_state == State::Draining)
        return Error(ErrorCode::Goaway, QStringLiteral("the connection is draining (GOAWAY)"));
    if (m_state != State::Connected || !m_session)
        return notConnected();
    return m_session->submitRequest(request);
}

std::optional<qint64> H2Transport::peerStreamLimit() const
{
    return m_session ? m_session->peerStreamLimit() : std::nullopt;
}

Status H2Transport::setStreamHandler(StreamId id, StreamHandler *handler)
{
    if (!m_session)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    return m_session->setStreamHandler(id, handler);
}

void H2Transport::clearStreamHandler(StreamId id)
{
    if (m_session)
        m_session->clearStreamHandler(id);
}

Result<qint64> H2Transport::sendStreamData(StreamId id, QByteArrayView data)
{
    if (!m_session || m_state == State::Closed)
        return notConnected();
    return m_session->sendStreamData(id, data);
}

Status H2Transport::endStream(StreamId id)
{
    if (!m_session || m_state == State::Closed)
        return notConnected();
    return m_session->endStream(id);
}

void H2Transport::resetStream(StreamId id, StreamResetReason reason)
{
    if (m_session)
        m_session->resetStream(id, reason);
}

void H2Transport::consumeStreamData(StreamId id, qint64 bytes)
{
    if (m_session)
        m_session->consumeStreamData(id, bytes);
}

Status H2Transport::sendDatagram(StreamId id, QByteArrayView payload)
{
    if (!m_session || m_state == State::Closed)
        return notConnected();
    return m_session->sendDatagram(id, payload);
}

qint64 H2Transport::maxDatagramPayload(StreamId id) const
{
    return m_session && m_state != State::Closed ? m_session->maxDatagramPayload(id) : 0;
}

PeerSettings H2Transport::peerSettings() const
{
    return m_session ? m_session->peerSettings() : PeerSettings();
}

qint64 H2Transport::openStreamCount() const
{
    return m_session && m_state != State::Closed ? m_session->openStreamCount() : 0;
}

void H2Transport::goaway()
{
    if (m_state == State::Connected && m_session) {
        m_state = State::Draining;
        m_session->goaway();
    } else if (m_state == State::Connecting || m_state == State::Idle) {
        close();
    }
}

void H2Transport::close()
{
    if (m_state == State::Idle) {
        m_state = State::Closed;
        emitClosed(Error(ErrorCode::LocalClose, QStringLiteral("closed before connecting")));
        return;
    }
    fail(Error(ErrorCode::LocalClose, QStringLiteral("closed locally")));
}

TransportStats H2Transport::stats() const
{
    TransportStats stats;
    stats.kind = TransportKind::H2;
    m_tls.fill(stats);
    if (m_session)
        m_session->fillStats(stats);
    if (m_state == State::Closed)
        stats.streamsOpen = 0;
    return stats;
}

} // namespace qmasque
