#include "tunnel/TcpTunnel.h"

#include "transport/HttpConnection.h"

namespace qmasque {

TcpTunnel::TcpTunnel(TunnelConfig config, QObject *parent)
    : TunnelSession(std::move(config), parent)
{
    // RFC 9113, 8.5 / RFC 9114, 4.4: a TCP tunnel that fails is reset with CONNECT_ERROR /
    // H3_CONNECT_ERROR, the proxy then resets the target connection (a TCP RST).
    setAbortResetReason(StreamResetReason::ConnectError);
}

TcpTunnel::~TcpTunnel()
{
    abortSilently();
}

Result<qint64> TcpTunnel::write(QByteArrayView data)
{
    if (state() == TunnelState::Connecting)
        return Error(ErrorCode::NotReady, QStringLiteral("the tunnel is not open yet"));
    HttpConnection *http = connection();
    if (!http)
        return Error(ErrorCode::StreamClosed, QStringLiteral("the tunnel is closed"));
    if (finSent())
        return Error(ErrorCode::WriteClosed, QStringLiteral("shutdownWrite() was called"));
    if (data.isEmpty())
        return qint64(0);
    Result<qint64> accepted = http->sendStreamData(stream(), data);
    if (!accepted)
        return accepted;
    m_counters.bytesSent += quint64(*accepted);
    if (*accepted < data.size())
        m_writeBlocked = true; // the transport calls onStreamWritable() when there is room
    return accepted;
}

void TcpTunnel::handleWritable()
{
    if (!std::exchange(m_writeBlocked, false))
        return;
    emit writable();
}

void TcpTunnel::setReceiver(Receiver receiver)
{
    m_receiver = std::move(receiver);
    if (m_receiver && isOpen())
        flushHeld();
}

void TcpTunnel::onOpened()
{
    if (m_receiver)
        flushHeld();
}

void TcpTunnel::flushHeld()
{
    if (!m_held.isEmpty()) {
        const QByteArray held = std::exchange(m_held, {});
        m_receiver(held);
    }
    if (m_peerFin && isOpen())
        reportPeerFin();
}

void TcpTunnel::handleStreamBody(QByteArrayView data, bool fin)
{
    if (!data.isEmpty()) {
        m_unconsumed += data.size();
        m_counters.bytesReceived += quint64(data.size());
        // Credit is returned in consume(), once the local side drained the bytes: that is the
        // backpressure (RFC 9113, 5.2; RFC 9000, 4.1).
        if (m_receiver && m_held.isEmpty())
            m_receiver(data);
        else
            m_held.append(data.data(), data.size());
    }
    if (!fin || !isOpen())
        return;
    // The proxy's FIN: the target finished sending; our direction stays open (half-close).
    m_peerFin = true;
    setState(TunnelState::Closing);
    if (m_receiver && m_held.isEmpty())
        reportPeerFin();
}

void TcpTunnel::reportPeerFin()
{
    if (std::exchange(m_peerFinReported, true))
        return;
    emit readFinished();
    maybeFinish();
}

void TcpTunnel::consume(qint64 bytes)
{
    bytes = qBound<qint64>(0, bytes, m_unconsumed);
    if (bytes == 0)
        return;
    m_unconsumed -= bytes;
    if (HttpConnection *http = connection())
        http->consumeStreamData(stream(), bytes);
}

Status TcpTunnel::shutdownWrite()
{
    if (state() == TunnelState::Connecting)
        return Error(ErrorCode::NotReady, QStringLiteral("the tunnel is not open yet"));
    if (!isOpen())
        return Error(ErrorCode::StreamClosed, QStringLiteral("the tunnel is closed"));
    if (!canHalfClose())
        return Error(
            ErrorCode::NotSupported,
            QStringLiteral("HTTP/1.1 cannot half-close: a TLS close ends both directions"));
    if (finSent())
        return {};
    Status sent = sendFin();
    if (!sent)
        return sent;
    setState(TunnelState::Closing);
    maybeFinish();
    return {};
}

void TcpTunnel::maybeFinish()
{
    // Both directions finished and everything received was handed over: a clean end.
    if (isOpen() && m_peerFin && finSent() && m_held.isEmpty())
        endTunnel(Error(ErrorCode::PeerFin, QStringLiteral("both sides finished")), End::Graceful);
}

void TcpTunnel::onEnding()
{
    m_held.clear();
    m_writeBlocked = false;
}

} // namespace qmasque
