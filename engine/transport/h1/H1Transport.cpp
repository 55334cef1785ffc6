#include "transport/h1/H1Transport.h"

#include "core/Log.h"
#include "transport/h1/H1Channel.h"
#include "transport/tls/HttpFieldChecks.h"
#include "transport/tls/TlsClientConnector.h"
#include "transport/tls/TlsErrors.h"
#include "wire/HttpToken.h"

#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslSocket>

namespace qmasque {

namespace {

constexpr qint64 kReadChunk = 64 * 1024;

// buildRequestHead: the request head for `request` (see H1Transport.h), or the reason it cannot
// be written. Every part is checked before anything is written: CR, LF or NUL anywhere would
// let a value inject header lines (header_injection).
Result<QByteArray> buildRequestHead(const Request &request, const QByteArray &proxyAuthority)
{
    if (Status fields = checkFields(request.headers); !fields)
        return fields.error();
    for (const auto &[what, value] :
         {std::pair{"method", &request.method}, std::pair{"protocol", &request.protocol},
          std::pair{"authority", &request.authority}, std::pair{"path", &request.path}}) {
        if (Status part = checkHeadPart(what, *value); !part)
            return part.error();
    }
    QByteArray head;
    if (request.isExtendedConnect()) {
        // RFC 9298, 3.2 and RFC 9484, 3: the HTTP/1.1 form of extended CONNECT is an Upgrade.
        if (!wire::isHttpToken(request.protocol) || !request.path.startsWith('/'))
            return Error(ErrorCode::InvalidArgument,
                         QStringLiteral("an Upgrade request needs a token protocol and a path"));
        head = "GET " + request.path + " HTTP/1.1\r\n";
        appendField(head, "host", request.authority.isEmpty() ? proxyAuthority : request.authority);
        appendField(head, "connection", "Upgrade");
        appendField(head, "upgrade", request.protocol);
    } else if (request.isClassicConnect()) {
        // RFC 9110, 9.3.6 / RFC 9112, 3.2.3: authority-form target, repeated in Host.
        if (request.authority.isEmpty())
            return Error(ErrorCode::InvalidArgument,
                         QStringLiteral("classic CONNECT needs a host:port authority"));
        head = "CONNECT " + request.authority + " HTTP/1.1\r\n";
        appendField(head, "host", request.authority);
    } else {
        if (!request.endStream)
            return Error(ErrorCode::NotSupported,
                         QStringLiteral("HTTP/1.1 requests with a body are not supported"));
        if (!wire::isHttpToken(request.method) || !request.path.startsWith('/'))
            return Error(ErrorCode::InvalidArgument, QStringLiteral("bad method or path"));
        head = request.method + ' ' + request.path + " HTTP/1.1\r\n";
        appendField(head, "host", request.authority.isEmpty() ? proxyAuthority : request.authority);
    }
    for (const Header &header : request.headers)
        appendField(head, header.name.toLower(), header.value);
    head += "\r\n";
    return head;
}

} // namespace

H1Transport::H1Transport(QObject *parent)
    : Transport(parent)
{
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, &H1Transport::handleDeadline);
}

H1Transport::~H1Transport()
{
    if (m_socket)
        m_socket->disconnect(this);
}

void H1Transport::connectToProxy(const ConnectOptions &options)
{
    if (m_state != State::Idle) {
        qCWarning(lcH1) << "connectToProxy called twice; ignored";
        return;
    }
    m_state = State::Connecting;
    m_options = options;
    m_socket = std::make_unique<QSslSocket>();
    m_connector = std::make_unique<TlsClientConnector>(m_socket.get());
    connect(m_connector.get(), &TlsClientConnector::established, this,
            &H1Transport::handleEstablished);
    connect(m_connector.get(), &TlsClientConnector::failed, this, &H1Transport::fail);
    m_deadline.start(qMax(1, options.connectTimeoutMs));
    m_connector->start(options,
                       options.alpn.isEmpty() ? QList<QByteArray>{"http/1.1"} : options.alpn);
}

void H1Transport::handleEstablished()
{
    const QByteArray alpn = m_socket->sslConfiguration().nextNegotiatedProtocol();
    if (!alpn.isEmpty() && alpn != "http/1.1") {
        fail(Error(ErrorCode::AlpnMismatch,
                   QStringLiteral("the proxy selected ALPN \"%1\", not http/1.1")
                       .arg(QString::fromLatin1(alpn))));
        return;
    }
    m_deadline.stop();
    m_tls = TlsSessionInfo::read(*m_socket);
    m_channel = std::make_unique<H1Channel>(m_socket.get(), m_options.streamSendBuffer,
                                            qint64(m_options.streamReceiveWindow));
    connect(m_channel.get(), &H1Channel::receiveRoomAvailable, this, &H1Transport::handleReadyRead);
    // Queued: the socket may report disconnected() from inside disconnectFromHost().
    connect(
        m_channel.get(), &H1Channel::drained, this,
        [this] {
            if (m_socket)
                m_socket->disconnectFromHost();
        },
        Qt::QueuedConnection);
    connect(m_socket.get(), &QSslSocket::readyRead, this, &H1Transport::handleReadyRead);
    connect(m_socket.get(), &QSslSocket::disconnected, this, &H1Transport::handleDisconnected);
    connect(m_socket.get(), &QSslSocket::errorOccurred, this, &H1Transport::handleDisconnected);
    m_state = State::Connected;
    qCDebug(lcH1).noquote() << "[" << this << "] connected to" << m_options.host << m_tls.version;
    Q_EMIT connected();
}

void H1Transport::handleDeadline()
{
    if (m_state != State::Connecting)
        return;
    const bool tcpUp = m_connector && m_connector->tcpConnected();
    fail(Error(tcpUp ? ErrorCode::HandshakeTimeout : ErrorCode::ConnectTimeout,
               QStringLiteral("connecting to %1:%2 took more than %3 ms")
                   .arg(m_options.host)
                   .arg(m_options.port)
                   .arg(m_options.connectTimeoutMs)));
}

Result<StreamId> H1Transport::submitRequest(const Request &request)
{
    if (m_state == State::Draining || m_goaway)
        return Error(ErrorCode::Goaway, QStringLiteral("the connection is closing"));
    if (m_state != State::Connected || !m_channel)
        return notConnected();
    if (m_phase != Phase::NoRequest)
        return Error(ErrorCode::StreamLimit,
                     QStringLiteral("HTTP/1.1 carries one tunnel per connection"));
    const QByteArray proxyAuthority = (m_options.host.contains(QLatin1Char(':'))
                                           ? QLatin1Char('[') + m_options.host + QLatin1Char(']')
                                           : m_options.host)
                                          .toUtf8() +
                                      ':' + QByteArray::number(m_options.port);
    auto head = buildRequestHead(request, proxyAuthority);
    if (!head)
        return head.error();
    m_upgradeProtocol = request.isExtendedConnect() ? request.protocol : QByteArray();
    m_classicConnect = request.isClassicConnect();
    m_phase = Phase::AwaitingHead;
    m_channel->open();
    m_channel->writeHead(*head);
    return H1Channel::kStreamId;
}

void H1Transport::handleReadyRead()
{
    while (m_channel && m_state != State::Closed) {
        if (m_phase == Phase::NoRequest)
            return; // nothing was asked; leave the bytes (bounded by the read buffer)
        if (m_phase == Phase::Done) {
            m_socket->readAll(); // after the response: nothing more is expected
            return;
        }
        if (m_phase == Phase::AwaitingHead) {
            const QByteArray bytes = m_socket->read(kReadChunk);
            if (bytes.isEmpty())
                return;
            m_channel->countReceived(bytes.size());
            m_headBuffer += bytes;
            if (!parseResponseHead())
                return;
            continue;
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

bool H1Transport::parseResponseHead()
{
    for (;;) {
        auto end = findHeadEnd(m_headBuffer, kMaxHeadBytes);
        if (!end) {
            failStream(end.error());
            return false;
        }
        if (*end == 0)
            return true; // need more bytes
        auto head = qmasque::parseResponseHead(QByteArrayView(m_headBuffer).first(*end));
        if (!head) {
            failStream(head.error());
            return false;
        }
        const QByteArray rest = m_headBuffer.mid(*end);
        m_headBuffer.clear();
        const int status = head->status;
        if (status >= 100 && status < 200 && status != 101) {
            m_headBuffer = rest; // RFC 9112, 4: interim responses precede the final one
            continue;
        }
        const bool success = status >= 200 && status <= 299;
        if (!m_upgradeProtocol.isEmpty()) {
            if (status == 101) {
                // RFC 9110, 7.8: the 101 names the protocol switched to.
                if (!hasToken(head->headers, "upgrade", m_upgradeProtocol) ||
                    !hasToken(head->headers, "connection", "upgrade")) {
                    failStream(Error(ErrorCode::BadUpgradeResponse,
                                     QStringLiteral("101 without Upgrade: %1 and Connection: "
                                                    "upgrade")
                                         .arg(QString::fromLatin1(m_upgradeProtocol))));
                    return false;
                }
                m_phase = Phase::Tunnel;
            } else if (success) {
                failStream(
                    Error(ErrorCode::BadUpgradeResponse,
                          QStringLiteral("HTTP %1 without switching protocols").arg(status)));
                return false;
            }
        } else if (status == 101) {
            failStream(Error(ErrorCode::BadUpgradeResponse,
                             QStringLiteral("101 to a request that asked for no upgrade")));
            return false;
        } else if (m_classicConnect && success) {
            m_phase = Phase::Tunnel; // RFC 9110, 9.3.6: any 2xx starts the tunnel
        }
        if (m_phase != Phase::Tunnel) {
            m_refusal = !success;
            auto body = H1BodyDecoder::forHeaders(head->headers, true);
            if (!body) {
                failStream(body.error());
                return false;
            }
            m_body = (status == 204 || status == 304) ? H1BodyDecoder::none() : *body;
            m_phase = Phase::Body;
        }
        m_channel->deliverResponse(Response{status, head->headers});
        if (m_state == State::Closed)
            return false;
        if (m_phase == Phase::Body || !rest.isEmpty())
            deliverBody(rest); // bytes that came with the head belong to the stream
        return m_state != State::Closed;
    }
}

void H1Transport::deliverBody(QByteArrayView bytes)
{
    if (m_phase == Phase::Tunnel) {
        if (!bytes.isEmpty())
            m_channel->deliverData(bytes, false);
        return;
    }
    if (m_phase != Phase::Body)
        return;
    QByteArray out;
    auto used = m_body.feed(bytes, out);
    if (!used) {
        failStream(used.error());
        return;
    }
    bool truncated = false;
    if (m_refusal && m_bodyBytes + out.size() > kMaxRefusalBody) {
        out.truncate(qsizetype(kMaxRefusalBody - m_bodyBytes));
        truncated = true;
    }
    m_bodyBytes += out.size();
    const bool fin = m_body.finished() || truncated;
    if (!out.isEmpty() || fin)
        m_channel->deliverData(out, fin);
    if (fin && m_state != State::Closed) {
        m_phase = Phase::Done;
        finishConnection(Error(ErrorCode::ConnectionClosed,
                               QStringLiteral("closed after the complete response")));
    }
}

void H1Transport::handleDisconnected()
{
    if (m_state == State::Closed || !m_channel)
        return;
    // What the socket still holds belongs before the end of the stream, window or not.
    while (m_phase == Phase::Tunnel || m_phase == Phase::Body || m_phase == Phase::AwaitingHead) {
        const QByteArray bytes = m_socket->read(kReadChunk);
        if (bytes.isEmpty() || m_state == State::Closed)
            break;
        m_channel->countReceived(bytes.size());
        if (m_phase == Phase::AwaitingHead) {
            m_headBuffer += bytes;
            parseResponseHead();
        } else {
            deliverBody(bytes);
        }
    }
    if (m_state == State::Closed)
        return;
    const QAbstractSocket::SocketError socketFailure = m_socket->error();
    const Error cause =
        m_connector->errorAfterHandshake(socketError(socketFailure, m_socket->errorString()));
    const bool cleanEnd = socketFailure == QAbstractSocket::RemoteHostClosedError ||
                          socketFailure == QAbstractSocket::UnknownSocketError;
    if (m_channel->endRequested() || m_channel->isReset()) {
        finishConnection(Error(ErrorCode::LocalClose, QStringLiteral("stream ended locally")));
        return;
    }
    switch (m_phase) {
    case Phase::AwaitingHead:
        failStream(cleanEnd ? Error(ErrorCode::ConnectionLost,
                                    QStringLiteral("the proxy closed before the response head"))
                            : cause);
        return;
    case Phase::Tunnel:
        if (cleanEnd) {
            m_channel->deliverData({}, true); // the peer ended the tunnel
            finishConnection(Error(ErrorCode::ConnectionClosed, QStringLiteral("peer closed")));
        } else {
            failStream(cause);
        }
        return;
    case Phase::Body:
        if (cleanEnd && m_body.mode() == H1BodyDecoder::Mode::UntilClose) {
            m_channel->deliverData({}, true);
            finishConnection(Error(ErrorCode::ConnectionClosed, QStringLiteral("peer closed")));
        } else {
            failStream(Error(ErrorCode::ConnectionLost,
                             QStringLiteral("the response body was cut short")));
        }
        return;
    case Phase::NoRequest:
    case Phase::Done:
        finishConnection(
            cleanEnd ? Error(ErrorCode::ConnectionClosed, QStringLiteral("peer closed")) : cause);
        return;
    }
}

void H1Transport::failStream(const Error &reason)
{
    if (m_state == State::Closed)
        return;
    qCDebug(lcH1).noquote() << "[" << this << "] stream failed:" << reason.toString();
    m_phase = Phase::Done;
    if (m_channel) {
        m_channel->deliverReset(reason);
        Q_EMIT streamReset(H1Channel::kStreamId, reason);
    }
    fail(reason);
}

void H1Transport::fail(const Error &reason)
{
    finishConnection(reason, true);
}

void H1Transport::finishConnection(const Error &reason, bool abort)
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_deadline.stop();
    if (m_socket) {
        // Disconnected first: an abort reports disconnected() synchronously.
        m_socket->disconnect(this);
        if (abort)
            m_socket->abort();
        else if (m_socket->state() != QAbstractSocket::UnconnectedState)
            m_socket->disconnectFromHost();
    }
    QMetaObject::invokeMethod(
        this,
        [this, reason] {
            if (m_closedEmitted)
                return;
            m_closedEmitted = true;
            qCDebug(lcH1).noquote() << "[" << this << "] closed:" << reason.toString();
            Q_EMIT closed(reason);
        },
        Qt::QueuedConnection);
}

Error H1Transport::notConnected() const
{
    if (m_state == State::Closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("the connection is closed"));
    return Error(ErrorCode::NotReady, QStringLiteral("not connected yet"));
}

Status H1Transport::setStreamHandler(StreamId id, StreamHandler *handler)
{
    if (!m_channel)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    return m_channel->setHandler(id, handler);
}

void H1Transport::clearStreamHandler(StreamId id)
{
    if (m_channel)
        m_channel->clearHandler(id);
}

Result<qint64> H1Transport::sendStreamData(StreamId id, QByteArrayView data)
{
    if (!m_channel || m_state == State::Closed)
        return notConnected();
    return m_channel->send(id, data);
}

Status H1Transport::endStream(StreamId id)
{
    if (!m_channel || m_state == State::Closed)
        return notConnected();
    return m_channel->requestEnd(id);
}

void H1Transport::resetStream(StreamId id, StreamResetReason reason)
{
    Q_UNUSED(reason) // HTTP/1.1 has no stream reset: the connection is the stream
    if (!m_channel || id != H1Channel::kStreamId || m_state == State::Closed ||
        !m_channel->isOpen())
        return;
    m_channel->reset();
    fail(Error(ErrorCode::LocalClose, QStringLiteral("stream reset: connection aborted")));
}

void H1Transport::consumeStreamData(StreamId id, qint64 bytes)
{
    if (m_channel)
        m_channel->consume(id, bytes);
}

Status H1Transport::sendDatagram(StreamId id, QByteArrayView payload)
{
    if (!m_channel || m_state == State::Closed)
        return notConnected();
    return m_channel->sendDatagram(id, payload);
}

qint64 H1Transport::maxDatagramPayload(StreamId id) const
{
    return m_channel && m_state != State::Closed ? m_channel->maxDatagramPayload(id) : 0;
}

qint64 H1Transport::openStreamCount() const
{
    const bool open =
        m_channel && m_channel->isOpen() && m_state != State::Closed && m_phase != Phase::Done;
    return open ? 1 : 0;
}

void H1Transport::goaway()
{
    m_goaway = true;
    if (m_state == State::Connected && m_phase != Phase::NoRequest) {
        m_state = State::Draining; // the one stream finishes, then the socket closes
        return;
    }
    close();
}

void H1Transport::close()
{
    if (m_state == State::Closed)
        return;
    if (m_state == State::Idle) {
        finishConnection(Error(ErrorCode::LocalClose, QStringLiteral("closed before connecting")));
        return;
    }
    finishConnection(Error(ErrorCode::LocalClose, QStringLiteral("closed locally")),
                     m_state == State::Connecting);
}

TransportStats H1Transport::stats() const
{
    TransportStats stats;
    stats.kind = TransportKind::H1;
    m_tls.fill(stats);
    if (m_channel)
        m_channel->fillStats(stats);
    if (m_state == State::Closed)
        stats.streamsOpen = 0;
    return stats;
}

} // namespace qmasque
