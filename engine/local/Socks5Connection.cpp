#include "local/Socks5Connection.h"

#include "local/Socks5ErrorReply.h"
#include "local/Socks5UdpRelay.h"
#include "proxy/ProxyLog.h"
#include "tunnel/TunnelClient.h"

#include <QtNetwork/QTcpSocket>

#include <sys/socket.h>

namespace qmasque {

namespace {

// The local socket reads at most this much ahead of the tunnel (the kernel buffers the rest and
// TCP flow control slows the client down).
constexpr qint64 kSocketReadBuffer = 256 * 1024;
// One read from the socket into the tunnel.
constexpr qint64 kChunk = 64 * 1024;
// A greeting is at most 257 bytes, credentials 513, a request 262: more without a complete
// message is not SOCKS5.
constexpr qsizetype kMaxHandshake = 1024;
// After a graceful close, how long the client gets to read what is left before the socket is
// aborted.
constexpr int kLingerMs = 10000;

// constantTimeEquals: no early exit on the first differing byte (RFC 1929 credentials).
bool constantTimeEquals(QByteArrayView a, QByteArrayView b)
{
    quint8 diff = a.size() == b.size() ? 0 : 1;
    const qsizetype n = qMin(a.size(), b.size());
    for (qsizetype i = 0; i < n; ++i)
        diff |= quint8(a[i] ^ b[i]);
    return diff == 0;
}

socks5::Address boundAddress(const QHostAddress &address, quint16 port)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    if (isV4) {
        const char raw[4] = {char(v4 >> 24), char(v4 >> 16), char(v4 >> 8), char(v4)};
        return socks5::addressFromIp(QByteArrayView(raw, 4), port);
    }
    const Q_IPV6ADDR v6 = address.toIPv6Address();
    return socks5::addressFromIp(QByteArrayView(reinterpret_cast<const char *>(v6.c), 16), port);
}

} // namespace

Socks5Connection::Socks5Connection(QTcpSocket *socket, TunnelClient *client,
                                   const Socks5Config &config, Socks5Stats *stats, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_client(client)
    , m_config(config)
    , m_stats(stats)
    , m_peer(formatEndpoint(socket->peerAddress(), socket->peerPort()))
    , m_localClient(QStringLiteral("socks5 ") + m_peer)
{
    m_socket->setParent(this);
    m_socket->setReadBufferSize(kSocketReadBuffer);
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    connect(m_socket, &QTcpSocket::readyRead, this, &Socks5Connection::handleReadyRead);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &Socks5Connection::handleBytesWritten);
    connect(m_socket, &QTcpSocket::disconnected, this, &Socks5Connection::handleDisconnected);
    m_handshakeTimer.setSingleShot(true);
    connect(&m_handshakeTimer, &QTimer::timeout, this, &Socks5Connection::handleHandshakeTimeout);
    m_handshakeTimer.start(m_config.handshakeTimeoutMs);
    // Bytes that arrived with the connection do not signal readyRead again.
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &Socks5Connection::handleReadyRead, Qt::QueuedConnection);
}

Socks5Connection::~Socks5Connection()
{
    if (m_tunnel) {
        m_tunnel->setReceiver({});
        m_tunnel->disconnect(this);
        m_tunnel->close();
    }
}

void Socks5Connection::stop()
{
    finish(false);
}

void Socks5Connection::handleReadyRead()
{
    switch (m_phase) {
    case Phase::Greeting:
    case Phase::Authentication:
    case Phase::Request:
        break;
    case Phase::Relaying:
        pumpUp();
        return;
    case Phase::Associated:
        // RFC 1928, 7: the control connection carries nothing after the reply; it only keeps
        // the association alive. Whatever arrives is read and ignored.
        m_socket->skip(m_socket->bytesAvailable());
        return;
    case Phase::Opening: // read later, once the tunnel takes bytes
    case Phase::Done:
        return;
    }

    m_handshake += m_socket->read(kMaxHandshake);
    bool progressed = true;
    while (progressed && m_phase != Phase::Done) {
        switch (m_phase) {
        case Phase::Greeting:
            progressed = handleGreeting();
            break;
        case Phase::Authentication:
            progressed = handleCredentials();
            break;
        case Phase::Request:
            progressed = handleRequest();
            break;
        default:
            progressed = false;
            break;
        }
    }
    if (m_phase != Phase::Done && m_phase <= Phase::Request && m_handshake.size() >= kMaxHandshake)
        fail(socks5::Reply::GeneralFailure,
             Error(ErrorCode::SocksProtocolError, QStringLiteral("handshake too long")), false);
}

bool Socks5Connection::handleGreeting()
{
    const auto parsed = socks5::parseGreeting(m_handshake);
    if (std::holds_alternative<std::monostate>(parsed))
        return false;
    if (const auto *failure = std::get_if<socks5::Failure>(&parsed)) {
        // RFC 1928, 3: a SOCKS5 greeting without a usable method gets X'FF'; anything that is
        // not SOCKS5 at all gets no answer.
        const bool isSocks5 = !m_handshake.isEmpty() && quint8(m_handshake[0]) == socks5::kVersion;
        if (isSocks5)
            sendControl(socks5::methodSelection(socks5::Method::NoAcceptable));
        fail(failure->reply, failure->error, false);
        return false;
    }
    const auto &greeting = std::get<socks5::Parsed<socks5::Greeting>>(parsed);
    m_handshake.remove(0, greeting.length);
    const bool needAuth = !m_config.username.isEmpty();
    const socks5::Method wanted =
        needAuth ? socks5::Method::UsernamePassword : socks5::Method::NoAuth;
    if (!greeting.message.methods.contains(wanted)) {
        sendControl(socks5::methodSelection(socks5::Method::NoAcceptable));
        ++m_stats->authFailures;
        fail(socks5::Reply::NotAllowed,
             Error(ErrorCode::SocksProtocolError,
                   needAuth ? QStringLiteral("client does not offer username/password")
                            : QStringLiteral("client does not offer 'no authentication'")),
             false);
        return false;
    }
    sendControl(socks5::methodSelection(wanted));
    m_phase = needAuth ? Phase::Authentication : Phase::Request;
    return true;
}

bool Socks5Connection::handleCredentials()
{
    const auto parsed = socks5::parseCredentials(m_handshake);
    if (std::holds_alternative<std::monostate>(parsed))
        return false;
    if (const auto *failure = std::get_if<socks5::Failure>(&parsed)) {
        sendControl(socks5::credentialsReply(false));
        fail(failure->reply, failure->error, false);
        return false;
    }
    const auto &credentials = std::get<socks5::Parsed<socks5::Credentials>>(parsed);
    m_handshake.remove(0, credentials.length);
    // Both compared in full, whatever the first says (no timing hint about which was wrong).
    const bool userOk = constantTimeEquals(credentials.message.username, m_config.username);
    const bool passwordOk = constantTimeEquals(credentials.message.password, m_config.password);
    sendControl(socks5::credentialsReply(userOk && passwordOk));
    if (!(userOk && passwordOk)) {
        // RFC 1929, 2: a failure status means the server closes the connection.
        ++m_stats->authFailures;
        finish(false);
        return false;
    }
    m_phase = Phase::Request;
    return true;
}

bool Socks5Connection::handleRequest()
{
    const auto parsed = socks5::parseRequest(m_handshake);
    if (std::holds_alternative<std::monostate>(parsed))
        return false;
    if (const auto *failure = std::get_if<socks5::Failure>(&parsed)) {
        ++m_stats->protocolErrors;
        fail(failure->reply, failure->error, true);
        return false;
    }
    const auto &request = std::get<socks5::Parsed<socks5::Request>>(parsed);
    m_handshake.remove(0, request.length);
    m_handshakeTimer.stop();
    if (request.message.command == socks5::Command::Connect) {
        // Bytes the client sent right after the request (optimistic data) go first.
        m_up = std::exchange(m_handshake, {});
        m_upOffset = 0;
        openConnect(request.message.destination);
    } else {
        m_handshake.clear();
        openAssociate(request.message.destination);
    }
    return false;
}

void Socks5Connection::openConnect(const socks5::Address &destination)
{
    m_phase = Phase::Opening;
    // Domain names stay names: the proxy resolves them (RFC 1928, 5 leaves it to the server).
    m_tunnelId = m_client->openTcp(
        destination.hostString(), destination.port, this,
        [this](const Result<TcpTunnel *> &result) { handleTunnel(result); }, m_localClient);
}

void Socks5Connection::handleTunnel(const Result<TcpTunnel *> &result)
{
    if (m_phase != Phase::Opening) {
        if (result)
            (*result)->close(); // the client went away meanwhile
        return;
    }
    if (!result) {
        ++m_stats->connectsFailed;
        fail(socks5::replyForError(result.error()), result.error(), true);
        return;
    }
    ++m_stats->connectsOpened;
    m_tunnel = *result;
    m_phase = Phase::Relaying;
    // BND.ADDR/BND.PORT name the address the server uses towards the target (RFC 1928, 6); the
    // proxy's is unknown here, so the unspecified address goes out, as most relays do.
    sendControl(socks5::reply(socks5::Reply::Succeeded));
    m_tunnel->setReceiver([this](QByteArrayView data) { deliverDown(data); });
    connect(m_tunnel, &TcpTunnel::writable, this, [this] {
        m_upBlocked = false;
        pumpUp();
    });
    connect(m_tunnel, &TcpTunnel::readFinished, this, [this] {
        m_tunnelReadDone = true;
        maybeShutdownLocalWrite();
    });
    connect(m_tunnel, &TunnelSession::closed, this, &Socks5Connection::handleTunnelClosed);
    pumpUp();
}

void Socks5Connection::openAssociate(const socks5::Address &clientHint)
{
    // RFC 1928, 7: DST.ADDR/DST.PORT name where the client will send from; zeros mean "not
    // known yet". Only the client's own address is ever accepted; a given port is enforced.
    const quint16 hintPort =
        clientHint.type == socks5::AddressType::DomainName ? 0 : clientHint.port;
    m_relay = new Socks5UdpRelay(m_client, m_config, m_stats, m_socket->peerAddress(), hintPort,
                                 m_localClient, this);
    if (Status bound = m_relay->bind(m_socket->localAddress()); !bound) {
        fail(socks5::Reply::GeneralFailure, bound.error(), true);
        return;
    }
    ++m_stats->associations;
    m_phase = Phase::Associated;
    sendControl(socks5::reply(socks5::Reply::Succeeded,
                              boundAddress(m_socket->localAddress(), m_relay->port())));
    if (m_socket->bytesAvailable() > 0)
        m_socket->skip(m_socket->bytesAvailable());
}

void Socks5Connection::pumpUp()
{
    if (!m_tunnel || m_upBlocked)
        return;
    for (;;) {
        if (m_upOffset >= m_up.size()) {
            const qint64 available = qMin(m_socket->bytesAvailable(), kChunk);
            if (available <= 0)
                break;
            m_up.resize(available); // keeps the capacity: one buffer for the connection's life
            const qint64 got = m_socket->read(m_up.data(), available);
            m_up.resize(qMax<qint64>(got, 0));
            m_upOffset = 0;
            if (got <= 0)
                break;
        }
        const Result<qint64> written = m_tunnel->write(QByteArrayView(m_up).sliced(m_upOffset));
        if (!written) {
            finish(true);
            return;
        }
        m_upOffset += *written;
        if (m_upOffset < m_up.size()) {
            m_upBlocked = true; // writable() resumes
            return;
        }
    }
    if (m_localEof && m_tunnel) {
        // Everything the client sent went into the tunnel: end it gracefully (FIN after the
        // queued bytes). The local socket is closed, so nothing more can be delivered.
        m_tunnel->setReceiver({});
        m_tunnel->close();
    }
}

void Socks5Connection::deliverDown(QByteArrayView data)
{
    if (m_socket->state() != QAbstractSocket::ConnectedState)
        return; // closing: the tunnel is being closed too; the bytes have nowhere to go
    m_socket->write(data.data(), data.size());
}

void Socks5Connection::handleBytesWritten(qint64 bytes)
{
    // The first bytes on the wire are SOCKS replies; only tunnel bytes are consumed, so the
    // proxy's window reopens exactly as fast as the local client reads.
    const qint64 control = qMin(bytes, m_controlUnflushed);
    m_controlUnflushed -= control;
    bytes -= control;
    if (bytes > 0 && m_tunnel)
        m_tunnel->consume(bytes);
    maybeShutdownLocalWrite();
}

void Socks5Connection::maybeShutdownLocalWrite()
{
    if (!m_tunnelReadDone || m_localWriteShut || m_phase != Phase::Relaying ||
        m_socket->bytesToWrite() > 0 || m_socket->state() != QAbstractSocket::ConnectedState)
        return;
    // The target finished sending: pass its FIN on and keep reading from the client (TCP
    // half-close, RFC 9293, 3.6). QTcpSocket has no half-close of its own.
    m_localWriteShut = true;
    ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
}

void Socks5Connection::handleTunnelClosed(const Error &reason)
{
    m_tunnel = nullptr;
    if (m_phase == Phase::Done)
        return;
    // A clean end (both FINs, or our own close) closes the local socket after its buffer is
    // written; a reset or a lost connection resets it, as a TCP relay would.
    const bool clean = reason.code == ErrorCode::PeerFin || reason.code == ErrorCode::LocalClose;
    finish(!clean);
}

void Socks5Connection::handleDisconnected()
{
    if (m_phase == Phase::Relaying) {
        // The client closed (QTcpSocket treats end of file as a full close): what it sent is
        // still readable and goes into the tunnel first; then the tunnel closes gracefully and
        // handleTunnelClosed() finishes.
        m_localEof = true;
        pumpUp();
        return;
    }
    if (m_phase != Phase::Done) {
        finish(false);
        return;
    }
    emitFinished();
}

void Socks5Connection::handleHandshakeTimeout()
{
    if (m_phase == Phase::Done) {
        // The linger after a graceful close ran out: the client did not read the rest.
        m_socket->abort();
        return;
    }
    ++m_stats->handshakeTimeouts;
    finish(false);
}

void Socks5Connection::sendControl(const QByteArray &bytes)
{
    m_controlUnflushed += bytes.size();
    m_socket->write(bytes);
    // To the kernel now: a client that half-closes right after its request makes QTcpSocket
    // drop the socket on the end of file it reads next, and with it any reply still buffered.
    m_socket->flush();
}

void Socks5Connection::fail(socks5::Reply reply, const Error &error, bool sendReply)
{
    Q_UNUSED(error)
    if (sendReply)
        sendControl(socks5::reply(reply));
    finish(false);
}

void Socks5Connection::finish(bool reset)
{
    if (m_phase == Phase::Done)
        return;
    m_phase = Phase::Done;
    m_handshakeTimer.stop();
    if (m_tunnelId != 0 && !m_tunnel)
        m_client->cancel(m_tunnelId); // ignored once the tunnel is open or gone
    if (m_tunnel) {
        QPointer<TcpTunnel> tunnel = std::exchange(m_tunnel, nullptr);
        tunnel->setReceiver({});
        tunnel->disconnect(this);
        if (reset)
            tunnel->abort();
        else
            tunnel->close();
    }
    if (m_relay)
        m_relay->stop();
    if (m_socket->state() != QAbstractSocket::UnconnectedState) {
        if (reset) {
            // SO_LINGER 0: close() sends RST instead of FIN (RFC 9293, 3.10.7.1 ABORT).
            const linger hard = {1, 0};
            ::setsockopt(int(m_socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &hard,
                         sizeof hard);
            m_socket->abort();
        } else {
            m_socket->disconnectFromHost(); // after the write buffer is flushed
            m_handshakeTimer.start(kLingerMs);
        }
    }
    if (m_socket->state() == QAbstractSocket::UnconnectedState)
        emitFinished();
}

void Socks5Connection::emitFinished()
{
    if (m_finishedEmitted)
        return;
    m_finishedEmitted = true;
    m_handshakeTimer.stop();
    emit finished(this);
}

} // namespace qmasque
