#include "transport/h1/H1ServerConnection.h"

#include "core/Log.h"
#include "transport/h1/H1Channel.h"
#include "transport/tls/HttpFieldChecks.h"
#include "transport/tls/TlsErrors.h"

#include <QtNetwork/QSslSocket>

namespace qmasque {

namespace {

constexpr qint64 kReadChunk = 64 * 1024;
constexpr int kLingerMs = 2000;

bool isHopByHop(const QByteArray &lowerName)
{
    return isConnectionSpecific(lowerName) || lowerName == "te" || lowerName == "host";
}

} // namespace

H1ServerConnection::H1ServerConnection(QSslSocket *socket, const ServerOptions &options,
                                       QObject *parent)
    : ServerConnection(parent)
    , m_options(options)
    , m_tls(TlsSessionInfo::read(*socket))
    , m_peerAddress(socket->peerAddress())
    , m_peerPort(socket->peerPort())
    , m_socket(socket)
{
    m_socket->setParent(this);
    m_channel = std::make_unique<H1Channel>(m_socket, options.streamSendBuffer,
                                            qint64(options.streamReceiveWindow));
    connect(m_channel.get(), &H1Channel::receiveRoomAvailable, this,
            &H1ServerConnection::handleReadyRead);
    // Queued: the socket may report disconnected() from inside disconnectFromHost(). A client
    // that stops reading is cut after kLingerMs.
    connect(
        m_channel.get(), &H1Channel::drained, this,
        [this] {
            m_socket->disconnectFromHost();
            QTimer::singleShot(kLingerMs, this, [this] {
                if (m_socket->state() != QAbstractSocket::UnconnectedState) {
                    m_socket->abort();
                    handleDisconnected();
                }
            });
        },
        Qt::QueuedConnection);
    connect(m_socket, &QSslSocket::readyRead, this, &H1ServerConnection::handleReadyRead);
    connect(m_socket, &QSslSocket::disconnected, this, &H1ServerConnection::handleDisconnected);
    connect(m_socket, &QSslSocket::errorOccurred, this, &H1ServerConnection::handleDisconnected);
    m_headTimer.setSingleShot(true);
    connect(&m_headTimer, &QTimer::timeout, this, [this] {
        if (m_phase == Phase::AwaitingHead) {
            finish(
                Error(ErrorCode::IdleTimeout,
                      QStringLiteral("no request head within %1 ms").arg(m_options.idleTimeoutMs)),
                true);
        }
    });
}

H1ServerConnection::~H1ServerConnection()
{
    m_socket->disconnect(this);
    m_channel.reset(); // before the socket child it refers to
}

void H1ServerConnection::start()
{
    if (m_started)
        return;
    m_started = true;
    if (m_options.idleTimeoutMs > 0)
        m_headTimer.start(m_options.idleTimeoutMs);
    handleReadyRead();
}

void H1ServerConnection::handleReadyRead()
{
    while (m_state != State::Closed && m_started) {
        if (m_phase == Phase::AwaitingHead) {
            const QByteArray bytes = m_socket->read(kReadChunk);
            if (bytes.isEmpty())
                return;
            m_channel->countReceived(bytes.size());
            m_headBuffer += bytes;
            if (!parseRequest())
                return;
            continue;
        }
        if (m_phase == Phase::Closing || m_channel->readFinished()) {
            // One request per connection: whatever follows is not read (no pipelining).
            m_socket->readAll();
            return;
        }
        const qint64 room = m_channel->receiveRoom();
        if (room == 0)
            return; // resumed by receiveRoomAvailable()
        const QByteArray bytes = m_socket->read(qMin(room, kReadChunk));
        if (bytes.isEmpty())
            return;
        m_channel->countReceived(bytes.size());
        deliverBody(bytes);
    }
}

bool H1ServerConnection::parseRequest()
{
    auto end = findHeadEnd(m_headBuffer, m_options.maxRequestHeadBytes);
    if (!end) {
        refuseHead(431, end.error()); // RFC 6585, 5
        return false;
    }
    if (*end == 0)
        return true;
    auto head = parseRequestHead(QByteArrayView(m_headBuffer).first(*end));
    if (!head) {
        refuseHead(400, head.error());
        return false;
    }
    const QByteArray rest = m_headBuffer.mid(*end);
    m_headBuffer.clear();
    m_headTimer.stop();

    IncomingRequest request;
    const QByteArray host = headerValue(head->headers, "host");
    const QByteArray upgrade = headerValue(head->headers, "upgrade").split(',').value(0).trimmed();
    if (head->method == "CONNECT") {
        // RFC 9112, 3.2.3: authority-form target.
        request.method = head->method;
        request.authority = head->target;
        m_tunnelRequest = true;
    } else if (!upgrade.isEmpty() && hasToken(head->headers, "connection", "upgrade")) {
        // RFC 9298, 3.2 / RFC 9484, 3: the HTTP/1.1 form of extended CONNECT.
        request.method = "CONNECT";
        request.protocol = upgrade.toLower();
        request.scheme = "https";
        request.authority = host;
        request.path = head->target;
        m_tunnelRequest = true;
        m_upgradeProtocol = request.protocol;
    } else {
        request.method = head->method;
        request.scheme = "https";
        request.authority = host;
        request.path = head->target;
        auto body = H1BodyDecoder::forHeaders(head->headers, false);
        if (!body) {
            refuseHead(400, body.error());
            return false;
        }
        m_body = *body;
    }
    for (const Header &header : head->headers) {
        if (!isHopByHop(header.name))
            request.headers.append(header);
    }
    m_phase = Phase::Request;
    m_channel->open();
    Q_EMIT requestReceived(H1Channel::kStreamId, request);
    if (m_state == State::Closed)
        return false;
    if (!m_tunnelRequest && m_body.finished())
        m_channel->deliverData({}, true); // no request body
    if (!rest.isEmpty())
        deliverBody(rest);
    return m_state != State::Closed;
}

void H1ServerConnection::deliverBody(QByteArrayView bytes)
{
    if (m_tunnelRequest) {
        if (!bytes.isEmpty())
            m_channel->deliverData(bytes, false);
        return;
    }
    if (m_body.finished())
        return;
    QByteArray out;
    auto used = m_body.feed(bytes, out);
    if (!used) {
        m_channel->deliverReset(used.error());
        Q_EMIT streamReset(H1Channel::kStreamId, used.error());
        finish(used.error(), true);
        return;
    }
    if (!out.isEmpty() || m_body.finished())
        m_channel->deliverData(out, m_body.finished());
}

void H1ServerConnection::refuseHead(int status, const Error &reason)
{
    qCDebug(lcH1).noquote() << "[" << this << "] refusing request head:" << reason.toString();
    m_phase = Phase::Closing;
    m_headTimer.stop();
    QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + ' ' +
                      reasonPhrase(status).toByteArray() + "\r\n";
    appendField(head, "connection", "close");
    appendField(head, "content-length", "0");
    head += "\r\n";
    m_channel->writeHead(head);
    m_channel->open();
    (void)m_channel->requestEnd(H1Channel::kStreamId); // the socket closes once the 4xx is out
    m_failReason = reason;
}

Status H1ServerConnection::submitResponse(StreamId id, const Response &response, bool endStream)
{
    if (id != H1Channel::kStreamId || m_phase == Phase::AwaitingHead)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no request %1").arg(id));
    if (m_state == State::Closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("the connection is closed"));
    if (m_responseSubmitted)
        return Error(ErrorCode::InvalidArgument, QStringLiteral("response already submitted"));
    if (response.status < 100 || response.status > 599)
        return Error(ErrorCode::InvalidArgument,
                     QStringLiteral("bad status %1").arg(response.status));
    if (Status fields = checkFields(response.headers); !fields)
        return fields; // refused before anything is written

    const bool success = response.status >= 200 && response.status <= 299;
    const bool upgrade = !m_upgradeProtocol.isEmpty() && (success || response.status == 101);
    const bool tunnel = upgrade || (m_tunnelRequest && m_upgradeProtocol.isEmpty() && success);
    QByteArray head;
    if (upgrade) {
        // RFC 9110, 15.2.2: 101 names the protocol in Upgrade; RFC 9298, 3.3.
        head = "HTTP/1.1 101 Switching Protocols\r\n";
        appendField(head, "connection", "Upgrade");
        appendField(head, "upgrade", m_upgradeProtocol);
    } else {
        head = "HTTP/1.1 " + QByteArray::number(response.status) + ' ' +
               reasonPhrase(response.status).toByteArray() + "\r\n";
    }
    for (const Header &header : response.headers)
        appendField(head, header.name.toLower(), header.value);
    if (!tunnel) {
        // Not a tunnel: the body is delimited by the close (RFC 9112, 6.3 (8)).
        appendField(head, "connection", "close");
        if (endStream && headerValue(response.headers, "content-length").isNull())
            appendField(head, "content-length", "0");
    }
    head += "\r\n";
    m_responseSubmitted = true;
    m_channel->writeHead(head);
    m_phase = tunnel ? Phase::Tunnel : Phase::Closing;
    if (endStream || !tunnel)
        m_headTimer.stop();
    if (endStream)
        return m_channel->requestEnd(id);
    return {};
}

void H1ServerConnection::handleDisconnected()
{
    if (m_state == State::Closed)
        return;
    while (m_phase == Phase::Request || m_phase == Phase::Tunnel) {
        if (m_channel->readFinished())
            break;
        const QByteArray bytes = m_socket->read(kReadChunk);
        if (bytes.isEmpty() || m_state == State::Closed)
            break;
        m_channel->countReceived(bytes.size());
        deliverBody(bytes);
    }
    if (m_state == State::Closed)
        return;
    const QAbstractSocket::SocketError failure = m_socket->error();
    const bool cleanEnd = failure == QAbstractSocket::RemoteHostClosedError ||
                          failure == QAbstractSocket::UnknownSocketError;
    if (m_channel->endRequested() || m_channel->isReset() || m_phase == Phase::Closing) {
        finish(m_failReason.value_or(
            Error(ErrorCode::LocalClose, QStringLiteral("response complete"))));
        return;
    }
    if (m_phase == Phase::AwaitingHead) {
        finish(Error(ErrorCode::ConnectionClosed, QStringLiteral("closed before a request")));
        return;
    }
    if (cleanEnd && (m_tunnelRequest || m_body.mode() == H1BodyDecoder::Mode::None)) {
        m_channel->deliverData({}, true); // the client ended its side (and with it the tunnel)
        finish(Error(ErrorCode::ConnectionClosed, QStringLiteral("peer closed")));
        return;
    }
    const Error reason = cleanEnd ? Error(ErrorCode::ConnectionLost,
                                          QStringLiteral("the request body was cut short"))
                                  : socketError(failure, m_socket->errorString());
    m_channel->deliverReset(reason);
    Q_EMIT streamReset(H1Channel::kStreamId, reason);
    finish(reason);
}

void H1ServerConnection::finish(const Error &reason, bool abort)
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_headTimer.stop();
    // Disconnected first: an abort reports disconnected() synchronously.
    m_socket->disconnect(this);
    if (abort)
        m_socket->abort();
    else if (m_socket->state() != QAbstractSocket::UnconnectedState)
        m_socket->disconnectFromHost();
    QMetaObject::invokeMethod(
        this,
        [this, reason] {
            if (m_closedEmitted)
                return;
            m_closedEmitted = true;
            qCDebug(lcH1).noquote()
                << "[" << this << "] server connection closed:" << reason.toString();
            Q_EMIT closed(reason);
        },
        Qt::QueuedConnection);
}

Status H1ServerConnection::setStreamHandler(StreamId id, StreamHandler *handler)
{
    return m_channel->setHandler(id, handler);
}

void H1ServerConnection::clearStreamHandler(StreamId id)
{
    m_channel->clearHandler(id);
}

Result<qint64> H1ServerConnection::sendStreamData(StreamId id, QByteArrayView data)
{
    if (m_state == State::Closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("the connection is closed"));
    return m_channel->send(id, data);
}

Status H1ServerConnection::endStream(StreamId id)
{
    if (m_state == State::Closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("the connection is closed"));
    return m_channel->requestEnd(id);
}

void H1ServerConnection::resetStream(StreamId id, StreamResetReason reason)
{
    Q_UNUSED(reason) // HTTP/1.1 has no stream reset: the connection is the stream
    if (id != H1Channel::kStreamId || m_state == State::Closed || !m_channel->isOpen())
        return;
    m_channel->reset();
    finish(Error(ErrorCode::LocalClose, QStringLiteral("stream reset: connection aborted")), true);
}

void H1ServerConnection::consumeStreamData(StreamId id, qint64 bytes)
{
    m_channel->consume(id, bytes);
}

Status H1ServerConnection::sendDatagram(StreamId id, QByteArrayView payload)
{
    if (m_state == State::Closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("the connection is closed"));
    return m_channel->sendDatagram(id, payload);
}

qint64 H1ServerConnection::maxDatagramPayload(StreamId id) const
{
    return m_state == State::Closed ? 0 : m_channel->maxDatagramPayload(id);
}

qint64 H1ServerConnection::openStreamCount() const
{
    const bool open =
        m_state != State::Closed && (m_phase == Phase::Request || m_phase == Phase::Tunnel);
    return open ? 1 : 0;
}

void H1ServerConnection::goaway()
{
    if (m_phase == Phase::AwaitingHead) {
        close();
        return;
    }
    if (m_state == State::Connected)
        m_state = State::Draining; // the one request finishes, then the socket closes
}

void H1ServerConnection::close()
{
    finish(Error(ErrorCode::LocalClose, QStringLiteral("closed locally")));
}

TransportStats H1ServerConnection::stats() const
{
    TransportStats stats;
    stats.kind = TransportKind::H1;
    m_tls.fill(stats);
    m_channel->fillStats(stats);
    stats.streamsOpen = quint32(openStreamCount());
    return stats;
}

} // namespace qmasque
