#include "transport/h3/H3Transport.h"

#include "core/Log.h"

#include <QtCore/QDeadlineTimer>
#include <QtNetwork/QHostInfo>

#include <nghttp3/nghttp3.h>

namespace qmasque {

using namespace h3;

namespace {

Error notConnected()
{
    return Error(ErrorCode::NotReady, QStringLiteral("not connected"));
}

} // namespace

H3Transport::H3Transport(QObject *parent)
    : Transport(parent)
{
    m_connectTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, &H3Transport::handleConnectTimeout);
}

H3Transport::~H3Transport()
{
    if (m_lookupId >= 0)
        QHostInfo::abortHostLookup(m_lookupId);
    if (m_quic)
        m_quic->abortNow(NGHTTP3_H3_NO_ERROR);
}

HttpConnection::State H3Transport::state() const
{
    if (m_closed)
        return State::Closed;
    return m_session && m_quic ? m_session->state() : m_state;
}

void H3Transport::connectToProxy(const ConnectOptions &options)
{
    if (m_state != State::Idle) {
        qCWarning(lcQuic, "[%p] connectToProxy() called twice; ignored", static_cast<void *>(this));
        return;
    }
    m_options = options;
    m_state = State::Connecting;
    m_connectTimer.start(std::max(1, options.connectTimeoutMs));
    const QHostAddress literal(options.host);
    if (!literal.isNull()) {
        // Never emit from inside this call: start on the next event loop turn.
        QMetaObject::invokeMethod(
            this, [this, literal] { start(literal); }, Qt::QueuedConnection);
        return;
    }
    m_lookupId = QHostInfo::lookupHost(options.host, this, &H3Transport::handleLookup);
}

void H3Transport::handleLookup(const QHostInfo &info)
{
    m_lookupId = -1;
    if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
        fail(Error(ErrorCode::DnsFailed,
                   QStringLiteral("%1: %2").arg(m_options.host, info.errorString())));
        return;
    }
    start(info.addresses().constFirst());
}

void H3Transport::start(const QHostAddress &address)
{
    if (m_closed || m_quic)
        return;
    const SocketAddress remote = SocketAddress::fromHostAddress(address, m_options.port);
    m_socket = std::make_unique<UdpSocket>(static_cast<UdpSocket::Receiver *>(this));
    if (Status opened = m_socket->connectTo(remote); !opened) {
        fail(opened.error());
        return;
    }
    auto tls = QuicTlsSession::createClient(m_options.tls, m_options.host, m_options.alpn);
    if (!tls) {
        fail(tls.error());
        return;
    }
    QuicConfig config;
    // The handshake gets what is left of the connect deadline.
    config.handshakeTimeoutMs = std::max(1, m_connectTimer.remainingTime());
    config.idleTimeoutMs = m_options.idleTimeoutMs;
    config.keepaliveMs = m_options.keepaliveMs;
    config.streamReceiveWindow = m_options.streamReceiveWindow;
    config.connectionReceiveWindow = m_options.connectionReceiveWindow;
    config.maxStreamsBidi = 0; // RFC 9114, 6.1: servers open no bidirectional streams
    config.maxDatagramFrameSize = m_options.maxDatagramFrameSize;
    config.maxUdpPayload = m_options.maxUdpPayload;

    m_session = std::make_unique<H3Session>(H3Session::Role::Client, m_options.streamSendBuffer,
                                            static_cast<H3SessionEvents *>(this));
    auto quic =
        QuicConnection::connectClient(config, std::move(tls.value()), m_socket->localAddress(),
                                      remote, m_session.get(), static_cast<QuicPacketSink *>(this));
    if (!quic) {
        fail(quic.error());
        return;
    }
    m_quic = std::move(quic.value());
    m_session->setConnection(m_quic.get());
    qCDebug(lcQuic, "[%p] connecting to %s port %u", static_cast<void *>(this),
            qPrintable(address.toString()), m_options.port);
    m_quic->flush();
}

void H3Transport::handleConnectTimeout()
{
    if (m_closed || (m_session && m_session->state() != State::Connecting))
        return;
    if (!m_quic) {
        fail(Error(ErrorCode::ConnectTimeout,
                   QStringLiteral("%1 not reached in time").arg(m_options.host)));
        return;
    }
    // The handshake completed but the server's SETTINGS never came, or ngtcp2's own handshake
    // timer has not fired yet: the deadline is the same.
    m_quic->abortNow(NGHTTP3_H3_NO_ERROR);
    fail(Error(
        ErrorCode::HandshakeTimeout,
        QStringLiteral("HTTP/3 handshake with %1 did not complete in time").arg(m_options.host)));
}

void H3Transport::fail(const Error &reason)
{
    if (m_closed)
        return;
    if (m_quic)
        m_quic->abortNow(NGHTTP3_H3_NO_ERROR);
    emitClosed(reason);
}

void H3Transport::emitClosed(const Error &reason)
{
    if (m_closed)
        return;
    m_closed = true;
    m_state = State::Closed;
    m_connectTimer.stop();
    qCDebug(lcQuic, "[%p] closed: %s", static_cast<void *>(this), qPrintable(reason.toString()));
    QMetaObject::invokeMethod(
        this, [this, reason] { Q_EMIT closed(reason); }, Qt::QueuedConnection);
}

Result<StreamId> H3Transport::submitRequest(const Request &request)
{
    if (m_closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("connection closed"));
    if (!m_session || !m_quic)
        return notConnected();
    return m_session->submitRequest(request);
}

std::optional<qint64> H3Transport::peerStreamLimit() const
{
    return m_session && m_quic && !m_closed ? m_session->peerStreamLimit() : std::nullopt;
}

Status H3Transport::setStreamHandler(StreamId id, StreamHandler *handler)
{
    if (!m_session)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    return m_session->setStreamHandler(id, handler);
}

void H3Transport::clearStreamHandler(StreamId id)
{
    if (m_session)
        m_session->clearStreamHandler(id);
}

Result<qint64> H3Transport::sendStreamData(StreamId id, QByteArrayView data)
{
    if (m_closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("connection closed"));
    if (!m_session)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    return m_session->sendStreamData(id, data);
}

Status H3Transport::endStream(StreamId id)
{
    if (!m_session)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    return m_session->endStream(id);
}

void H3Transport::resetStream(StreamId id, StreamResetReason reason)
{
    if (m_session)
        m_session->resetStream(id, reason);
}

void H3Transport::consumeStreamData(StreamId id, qint64 bytes)
{
    if (m_session)
        m_session->consumeStreamData(id, bytes);
}

Status H3Transport::sendDatagram(StreamId id, QByteArrayView payload)
{
    if (m_closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("connection closed"));
    if (!m_session || !m_quic)
        return notConnected();
    return m_session->sendDatagram(id, payload);
}

qint64 H3Transport::maxDatagramPayload(StreamId id) const
{
    return m_session && !m_closed ? m_session->maxDatagramPayload(id) : 0;
}

PeerSettings H3Transport::peerSettings() const
{
    return m_session ? m_session->peerSettings() : PeerSettings();
}

qint64 H3Transport::openStreamCount() const
{
    return m_session ? m_session->openStreamCount() : 0;
}

void H3Transport::goaway()
{
    if (m_session && m_quic)
        m_session->goaway();
    else
        close();
}

void H3Transport::close()
{
    if (m_closed)
        return;
    if (m_session && m_quic && m_quic->isOpen()) {
        // CONNECTION_CLOSE from the next write; sessionClosed() then reports it (queued).
        m_session->close(Error(ErrorCode::LocalClose, QStringLiteral("closed locally")));
        return;
    }
    fail(Error(ErrorCode::LocalClose, QStringLiteral("closed locally")));
}

TransportStats H3Transport::stats() const
{
    TransportStats stats;
    stats.kind = TransportKind::H3;
    if (m_session)
        m_session->fillStats(stats);
    return stats;
}

void H3Transport::sessionConnected()
{
    m_connectTimer.stop();
    qCDebug(lcQuic, "[%p] connected to %s", static_cast<void *>(this), qPrintable(m_options.host));
    // Queued: this runs inside nghttp3's SETTINGS callback; requests start from a clean stack.
    QMetaObject::invokeMethod(
        this,
        [this] {
            if (!m_closed)
                Q_EMIT connected();
        },
        Qt::QueuedConnection);
}

void H3Transport::sessionSettingsChanged()
{
    Q_EMIT settingsChanged();
}

void H3Transport::sessionGoawayReceived(StreamId id)
{
    Q_EMIT goawayReceived(id);
}

void H3Transport::sessionStreamReset(StreamId id, const Error &reason)
{
    Q_EMIT streamReset(id, reason);
}

void H3Transport::sessionDatagramReceived(StreamId id, QByteArrayView payload)
{
    Q_EMIT datagramReceived(id, payload);
}

void H3Transport::sessionClosed(const Error &reason)
{
    emitClosed(reason);
}

void H3Transport::handleDatagram(const SocketAddress &from, const quint8 *data, qsizetype size)
{
    if (m_quic)
        m_quic->receivePacket(from, data, size);
}

void H3Transport::handleReadFinished()
{
    if (m_quic)
        m_quic->flush();
}

void H3Transport::handleWritable()
{
    if (m_quic)
        m_quic->handleWritable();
}

void H3Transport::handleSocketError(int error)
{
    if (m_quic)
        m_quic->handleSocketError(error);
}

UdpSocket::SendResult H3Transport::sendPackets(const ngtcp2_addr &, const quint8 *data,
                                               qsizetype size, qsizetype segmentSize)
{
    // The socket is connected to the proxy: the path's remote address is implied.
    return m_socket->send(nullptr, data, size, segmentSize);
}

void H3Transport::waitForWritable(QuicConnection *)
{
    m_socket->waitForWritable();
}

} // namespace qmasque
