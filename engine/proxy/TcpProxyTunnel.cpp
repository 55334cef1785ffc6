#include "proxy/TcpProxyTunnel.h"

#include "proxy/HostResolver.h"
#include "proxy/ProxyContext.h"
#include "proxy/ProxyLog.h"
#include "proxy/TcpDialer.h"
#include "proxy/TcpTargetSocket.h"

#include <cstring>

namespace qmasque {

namespace {

constexpr qint64 kReadChunk = 256 * 1024;
constexpr int kReadBudget = 16; // chunks per wake-up (4 MiB), then other events get a turn

} // namespace

TcpProxyTunnel::TcpProxyTunnel(ProxyContext &context, ServerConnection *connection, StreamId id,
                               const TunnelRequest &request, const QString &logId, QObject *parent)
    : ProxyTunnel(context, connection, id, request, logId, parent)
{}

TcpProxyTunnel::~TcpProxyTunnel() = default;

void TcpProxyTunnel::startSetup()
{
    m_resolver = std::make_unique<HostResolver>();
    connect(m_resolver.get(), &HostResolver::resolved, this, &TcpProxyTunnel::handleResolved);
    connect(m_resolver.get(), &HostResolver::failed, this,
            [this](const Error &reason) { refuse(reason); });
    m_resolver->resolve(request().host.host, m_context.config.dnsTimeoutMs);
}

void TcpProxyTunnel::handleResolved(const QList<QHostAddress> &addresses)
{
    QList<QHostAddress> permitted;
    for (const QHostAddress &address : addresses) {
        if (m_context.acl.permits(address))
            permitted.append(address);
    }
    if (permitted.isEmpty()) {
        refuse(Error(ErrorCode::Forbidden, deniedTargetDetail(request().host.host, addresses)));
        return;
    }
    m_dialer = std::make_unique<TcpDialer>();
    connect(m_dialer.get(), &TcpDialer::succeeded, this, &TcpProxyTunnel::handleConnected);
    connect(m_dialer.get(), &TcpDialer::failed, this,
            [this](const Error &reason) { refuse(reason); });
    m_dialer->dial(permitted, request().host.port, m_context.config.connectTimeoutMs);
}

void TcpProxyTunnel::handleConnected(TcpTargetSocket *socket)
{
    m_socket.reset(socket);
    if (isClosed())
        return;
    connect(socket, &TcpTargetSocket::readable, this, &TcpProxyTunnel::handleTargetReadable);
    connect(socket, &TcpTargetSocket::writable, this, &TcpProxyTunnel::handleTargetWritable);
    if (!accept(false, formatEndpoint(socket->address(), socket->port())))
        return;
    m_readBuffer.resize(kReadChunk);
    // Bytes the client sent before the 200 (kept, not yet credited) go first.
    if (m_toTarget.size() > m_toTargetOffset) {
        handleTargetWritable();
        if (isClosed())
            return;
    } else if (m_clientFin) {
        m_targetShut = true;
        m_socket->shutdownWrite();
    }
    m_socket->setReadEnabled(true);
}

void TcpProxyTunnel::onStreamData(StreamId, QByteArrayView data, bool fin)
{
    if (isClosed())
        return;
    if (!data.isEmpty()) {
        qint64 written = 0;
        const bool queued = m_toTarget.size() > m_toTargetOffset;
        if (!queued && state() == State::Open) {
            written = writeToTarget(data);
            if (written < 0)
                return;
        }
        if (written < data.size()) {
            m_toTarget.append(data.data() + written, data.size() - written);
            if (state() == State::Open)
                m_socket->setWriteNotification(true);
        }
    }
    if (fin) {
        m_clientFin = true;
        if (state() == State::Open && m_toTarget.size() == m_toTargetOffset && !m_targetShut) {
            // RFC 9293, 3.6: the client's FIN becomes ours towards the target; reading goes on.
            m_targetShut = true;
            m_socket->shutdownWrite();
        }
        maybeFinish();
    }
}

qint64 TcpProxyTunnel::writeToTarget(QByteArrayView data)
{
    const qint64 written = m_socket->write(data.data(), data.size());
    if (written < 0) {
        targetFailed(m_socket->error());
        return -1;
    }
    if (written > 0) {
        m_counters.bytesUp += quint64(written);
        // Credit only for bytes the target took: the stream window is the only buffer.
        if (stream())
            stream()->consumeStreamData(m_streamId, written);
    }
    return written;
}

void TcpProxyTunnel::handleTargetWritable()
{
    if (isClosed() || !m_socket)
        return;
    const qint64 queued = m_toTarget.size() - m_toTargetOffset;
    if (queued > 0) {
        const qint64 written =
            writeToTarget(QByteArrayView(m_toTarget.constData() + m_toTargetOffset, queued));
        if (written < 0)
            return;
        m_toTargetOffset += written;
        if (written < queued) {
            m_socket->setWriteNotification(true);
            return;
        }
    }
    m_toTarget.clear();
    m_toTargetOffset = 0;
    m_socket->setWriteNotification(false);
    if (m_clientFin && !m_targetShut) {
        m_targetShut = true;
        m_socket->shutdownWrite();
    }
    maybeFinish();
}

bool TcpProxyTunnel::flushToClient()
{
    if (m_pendingLength == 0)
        return true;
    ServerConnection *connection = stream();
    if (!connection)
        return false;
    auto accepted = connection->sendStreamData(
        m_streamId, QByteArrayView(m_readBuffer.constData() + m_pendingOffset, m_pendingLength));
    if (!accepted) {
        abort(StreamResetReason::ConnectError, accepted.error());
        return false;
    }
    m_counters.bytesDown += quint64(*accepted);
    m_pendingOffset += *accepted;
    m_pendingLength -= *accepted;
    return m_pendingLength == 0;
}

void TcpProxyTunnel::handleTargetReadable()
{
    if (isClosed() || !m_socket)
        return;
    for (int i = 0; i < kReadBudget; ++i) {
        if (!flushToClient()) {
            if (!isClosed())
                m_socket->setReadEnabled(false); // resumed by onStreamWritable()
            return;
        }
        const qint64 n = m_socket->read(m_readBuffer.data(), m_readBuffer.size());
        if (n == -1)
            return;
        if (n == -2) {
            targetFailed(m_socket->error());
            return;
        }
        if (n == 0) {
            // The target's FIN: ours follows on the stream; the client may go on sending.
            m_targetEof = true;
            m_socket->setReadEnabled(false);
            if (!m_streamEnded && stream()) {
                m_streamEnded = true;
                (void)stream()->endStream(m_streamId);
            }
            maybeFinish();
            return;
        }
        m_pendingOffset = 0;
        m_pendingLength = n;
    }
    // Budget used: what was read last goes out now; the notifier calls again for the rest.
    if (!flushToClient() && !isClosed())
        m_socket->setReadEnabled(false);
}

void TcpProxyTunnel::onStreamWritable(StreamId)
{
    if (isClosed() || !m_socket || state() != State::Open)
        return;
    if (!flushToClient())
        return;
    if (!m_targetEof)
        m_socket->setReadEnabled(true);
}

void TcpProxyTunnel::targetFailed(const Error &reason)
{
    // RFC 9114, 4.4 / RFC 9113, 8.5: a TCP connection error resets the stream with
    // H3_CONNECT_ERROR / CONNECT_ERROR.
    abort(StreamResetReason::ConnectError,
          Error(ErrorCode::ConnectionLost, QStringLiteral("target: ") + reason.detail));
}

void TcpProxyTunnel::maybeFinish()
{
    if (isClosed() || !m_targetShut || !m_streamEnded)
        return;
    finish(Error(ErrorCode::PeerFin, QStringLiteral("both sides ended")));
}

void TcpProxyTunnel::releaseResources()
{
    disposeLater(m_resolver);
    disposeLater(m_dialer);
    if (m_socket && !(m_targetShut && m_streamEnded))
        m_socket->abortOnClose(); // the tunnel did not end cleanly: the target sees an RST
    disposeLater(m_socket);
    m_toTarget.clear();
}

} // namespace qmasque
