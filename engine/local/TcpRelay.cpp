#include "local/TcpRelay.h"

namespace qmasque {

namespace {

// kMaxReadsPerWake: chunks read per readable() before yielding to the event loop, so one fast
// application cannot starve the others (the notifier fires again: it is level-triggered).
constexpr int kMaxReadsPerWake = 16;

bool isGracefulEnd(const Error &reason)
{
    return reason.code == ErrorCode::PeerFin || reason.code == ErrorCode::LocalClose;
}

} // namespace

TcpRelay::TcpRelay(LocalStreamSocket *socket, TcpTunnel *tunnel, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_tunnel(tunnel)
    , m_down(socket)
{
    m_h1FinGrace.setSingleShot(true);
    connect(&m_h1FinGrace, &QTimer::timeout, this, [this] {
        if (!m_tunnel || m_finished)
            return;
        // Bytes still on their way to the application: not quiet, only slow. Wait again.
        if (pendingDown() > 0 || m_tunnel->unconsumed() > 0) {
            m_h1FinGrace.start();
            return;
        }
        m_tunnel->close(); // closed(local_close) ends the relay gracefully
    });
}

TcpRelay::~TcpRelay()
{
    if (m_tunnel) {
        // Not inside a tunnel callback (owners use deleteLater()), so the receiver may go.
        m_tunnel->setReceiver({});
        disconnect(m_tunnel, nullptr, this, nullptr);
        if (!m_finished)
            m_tunnel->close();
    }
    if (m_socket)
        disconnect(m_socket, nullptr, this, nullptr);
}

void TcpRelay::start(QByteArray initialUp, QByteArrayView initialDown)
{
    if (std::exchange(m_started, true))
        return;
    if (!m_tunnel || !m_tunnel->isOpen()) {
        fail(m_tunnel ? m_tunnel->closeReason()
                      : Error(ErrorCode::StreamClosed, QStringLiteral("the tunnel is gone")));
        return;
    }
    m_up = std::move(initialUp);
    m_up.reserve(kReadChunk);
    connect(m_socket, &LocalStreamSocket::readable, this, &TcpRelay::pumpUp);
    connect(m_socket, &LocalStreamSocket::writable, this, &TcpRelay::handleSocketWritable);
    connect(m_tunnel, &TcpTunnel::writable, this, &TcpRelay::handleTunnelWritable);
    connect(m_tunnel, &TcpTunnel::readFinished, this, &TcpRelay::handleTunnelReadFinished);
    connect(m_tunnel, &TunnelSession::closed, this, &TcpRelay::handleTunnelClosed);
    queueDown(initialDown, true);
    if (m_finished)
        return;
    // The receiver may outlive the relay by a moment (deleteLater): it checks the guard.
    QPointer<TcpRelay> self(this);
    m_tunnel->setReceiver([self](QByteArrayView data) {
        if (self)
            self->receive(data);
    });
    if (!m_finished)
        pumpUp();
}

void TcpRelay::pumpUp()
{
    if (m_finished || !m_tunnel)
        return;
    for (int reads = 0;;) {
        if (m_upOffset < m_up.size()) {
            const Result<qint64> accepted =
                m_tunnel->write(QByteArrayView(m_up).sliced(m_upOffset));
            if (!accepted) {
                // stream_closed / write_closed: the tunnel is ending; closed() tells why.
                m_socket->setReadEnabled(false);
                return;
            }
            m_upOffset += qsizetype(*accepted);
            m_bytesUp += *accepted;
            if (m_upOffset < m_up.size()) {
                // The tunnel is full: stop reading until writable() (the backpressure).
                m_socket->setReadEnabled(false);
                return;
            }
        }
        m_up.resize(0);
        m_upOffset = 0;
        if (m_upEof) {
            shutdownTunnelWrite();
            return;
        }
        if (reads++ == kMaxReadsPerWake) {
            m_socket->setReadEnabled(true);
            return;
        }
        m_up.resize(kReadChunk);
        const qint64 n = m_socket->read(m_up.data(), kReadChunk);
        if (n > 0) {
            m_up.resize(qsizetype(n));
            continue;
        }
        m_up.resize(0);
        if (n == -1) {
            m_socket->setReadEnabled(true);
            return;
        }
        if (n == -2) {
            fail(m_socket->error());
            return;
        }
        // The application's FIN.
        m_upEof = true;
        m_socket->setReadEnabled(false);
        shutdownTunnelWrite();
        return;
    }
}

void TcpRelay::shutdownTunnelWrite()
{
    if (!m_tunnel || m_tunnel->isWriteShut() || !m_tunnel->isOpen())
        return;
    if (!m_tunnel->canHalfClose()) {
        // HTTP/1.1: no FIN of our own; the answer may still come (see the class comment).
        m_h1FinGrace.start(m_h1FinGraceMs);
        return;
    }
    (void)m_tunnel->shutdownWrite(); // an error means the tunnel is ending: closed() follows
}

void TcpRelay::handleTunnelWritable()
{
    if (m_upOffset < m_up.size() || !m_upEof)
        pumpUp();
}

void TcpRelay::receive(QByteArrayView data)
{
    if (m_finished)
        return;
    if (m_h1FinGrace.isActive())
        m_h1FinGrace.start(); // still answering: the quiet time starts again
    queueDown(data, false);
}

void TcpRelay::queueDown(QByteArrayView data, bool ownBytes)
{
    if (!m_down.write(data, ownBytes, m_tunnel))
        fail(m_socket->error());
}

void TcpRelay::handleSocketWritable()
{
    if (m_finished)
        return;
    switch (m_down.flush(m_tunnel)) {
    case SocketWriteQueue::Flush::Failed:
        fail(m_socket->error());
        return;
    case SocketWriteQueue::Flush::Pending:
        return; // still full: the notifier stays on
    case SocketWriteQueue::Flush::Drained:
        maybeFinishGracefully();
        return;
    }
}

void TcpRelay::handleTunnelReadFinished()
{
    m_tunnelFin = true;
    maybeFinishGracefully();
}

void TcpRelay::handleTunnelClosed(const Error &reason)
{
    if (m_finished)
        return;
    m_socket->setReadEnabled(false);
    if (!isGracefulEnd(reason)) {
        // The target reset, the proxy refused mid-way or the connection died: the application
        // must see a reset too (RFC 9113, 8.5 and RFC 9114, 4.4 map a TCP RST to a stream
        // error; here the stream error maps back to an RST).
        m_socket->abortOnClose();
        finish(reason);
        return;
    }
    m_tunnelClosed = true;
    m_closeReason = reason;
    maybeFinishGracefully();
}

void TcpRelay::maybeFinishGracefully()
{
    if (m_finished || !m_down.isEmpty())
        return;
    if (m_tunnelFin || m_tunnelClosed)
        m_socket->shutdownWrite(); // every byte before the FIN was written
    if (m_tunnelClosed)
        finish(m_closeReason);
}

void TcpRelay::closeGracefully()
{
    if (m_finished)
        return;
    m_socket->setReadEnabled(false);
    if (!m_started || !m_tunnel) {
        m_socket->shutdownWrite();
        finish(Error(ErrorCode::LocalClose, QStringLiteral("the front end stopped")));
        return;
    }
    m_tunnel->close(); // closed() follows, then the FIN to the application
}

void TcpRelay::fail(const Error &reason)
{
    if (m_finished)
        return;
    m_socket->setReadEnabled(false);
    m_socket->setWriteNotification(false);
    if (m_tunnel && m_tunnel->state() != TunnelState::Closed)
        m_tunnel->abort(reason); // RST to the target through the proxy
    finish(reason);
}

void TcpRelay::finish(const Error &reason)
{
    if (std::exchange(m_finished, true))
        return;
    m_h1FinGrace.stop();
    m_socket->setReadEnabled(false);
    m_socket->setWriteNotification(false);
    m_up.clear();
    m_down.clear();
    emit finished(reason);
}

} // namespace qmasque
