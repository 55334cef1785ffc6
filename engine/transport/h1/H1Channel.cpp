#include "transport/h1/H1Channel.h"

#include "wire/Capsule.h"

#include <QtNetwork/QSslSocket>

namespace qmasque {

H1Channel::H1Channel(QSslSocket *socket, qint64 sendBufferLimit, qint64 receiveWindow,
                     QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_sendBufferLimit(sendBufferLimit)
    , m_receiveWindow(receiveWindow)
{
    m_socket->setReadBufferSize(kSocketReadBuffer);
    connect(m_socket, &QSslSocket::bytesWritten, this, &H1Channel::handleBytesWritten);
    connect(m_socket, &QSslSocket::encryptedBytesWritten, this, &H1Channel::handleBytesWritten);
}

H1Channel::~H1Channel() = default;

bool H1Channel::attached(StreamHandler *handler) const
{
    return m_handler == handler && !m_localReset;
}

Status H1Channel::setHandler(StreamId id, StreamHandler *handler)
{
    if (id != kStreamId || !m_open)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    m_handler = handler;
    m_detached = false;
    if (!m_pending.isEmpty())
        m_pending.replay(id, handler, [this, handler] { return attached(handler); });
    return {};
}

void H1Channel::clearHandler(StreamId id)
{
    if (id != kStreamId)
        return;
    m_handler = nullptr;
    m_detached = true;
    m_pending.clear();
    consume(id, m_unconsumed);
}

void H1Channel::deliverResponse(const Response &response)
{
    if (m_localReset || m_detached)
        return;
    if (m_handler)
        m_handler->onStreamResponse(kStreamId, response);
    else
        m_pending.addResponse(response);
}

void H1Channel::deliverData(QByteArrayView data, bool fin)
{
    if (m_readFinished)
        return;
    m_readFinished = fin;
    if (m_localReset || m_detached)
        return; // discarded; nothing to credit on h1
    m_unconsumed += data.size();
    if (m_handler)
        m_handler->onStreamData(kStreamId, data, fin);
    else
        m_pending.addData(data, fin);
}

void H1Channel::deliverReset(const Error &reason)
{
    if (m_readFinished && m_endRequested)
        return; // both directions already over: nothing left to abort
    m_readFinished = true;
    if (m_localReset || m_detached)
        return;
    if (StreamHandler *handler = std::exchange(m_handler, nullptr))
        handler->onStreamReset(kStreamId, reason);
    else
        m_pending.addReset(reason);
}

qint64 H1Channel::receiveRoom() const noexcept
{
    return qMax<qint64>(0, m_receiveWindow - m_unconsumed);
}

void H1Channel::consume(StreamId id, qint64 bytes)
{
    if (id != kStreamId || bytes <= 0)
        return;
    const bool wasFull = receiveRoom() == 0;
    m_unconsumed -= qMin(bytes, m_unconsumed);
    if (wasFull && receiveRoom() > 0 && !m_roomSignalQueued) {
        // Queued: the reader must not run inside the handler's consume call.
        m_roomSignalQueued = true;
        QMetaObject::invokeMethod(
            this,
            [this] {
                m_roomSignalQueued = false;
                Q_EMIT receiveRoomAvailable();
            },
            Qt::QueuedConnection);
    }
}

void H1Channel::writeHead(const QByteArray &head)
{
    m_sendQueue.append(head);
    pump();
}

Result<qint64> H1Channel::send(StreamId id, QByteArrayView data)
{
    if (id != kStreamId || !m_open)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    if (m_localReset || m_endRequested || m_socket->state() != QAbstractSocket::ConnectedState)
        return Error(ErrorCode::StreamClosed, QStringLiteral("the stream is closed for sending"));
    const qint64 room = qMax<qint64>(0, m_sendBufferLimit - m_sendQueue.size());
    const qint64 accepted = qMin(room, qint64(data.size()));
    m_sendQueue.append(data.first(accepted));
    m_partialWrite = accepted < data.size();
    if (m_partialWrite)
        m_wantWritable = true;
    pump();
    return accepted;
}

Status H1Channel::sendDatagram(StreamId id, QByteArrayView payload)
{
    if (id != kStreamId || !m_open)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    if (m_localReset || m_endRequested || m_socket->state() != QAbstractSocket::ConnectedState)
        return Error(ErrorCode::StreamClosed, QStringLiteral("the stream is closed for sending"));
    if (payload.size() > kMaxDatagramPayload) {
        ++m_drops.tooLarge;
        return Error(ErrorCode::DatagramTooLarge,
                     QStringLiteral("%1 bytes above the capsule limit").arg(payload.size()));
    }
    m_capsule.resize(0);
    wire::appendDatagramCapsule(m_capsule, payload); // RFC 9297, 3.5; RFC 9298, 5
    // A short send() left part of a capsule to come: a datagram now would split it.
    if (m_partialWrite || m_sendBufferLimit - m_sendQueue.size() < m_capsule.size()) {
        ++m_drops.queueFull;
        return Error(ErrorCode::QueueFull, QStringLiteral("send buffer full"));
    }
    m_sendQueue.append(m_capsule);
    ++m_datagramsSent;
    pump();
    return {};
}

qint64 H1Channel::maxDatagramPayload(StreamId id) const
{
    const bool usable = id == kStreamId && m_open && !m_localReset && !m_endRequested;
    return usable ? kMaxDatagramPayload : 0;
}

Status H1Channel::requestEnd(StreamId id)
{
    if (id != kStreamId || !m_open)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no stream %1").arg(id));
    if (m_localReset)
        return Error(ErrorCode::StreamClosed, QStringLiteral("the stream was reset"));
    m_endRequested = true;
    pump();
    return {};
}

void H1Channel::reset()
{
    m_localReset = true;
    m_handler = nullptr;
    m_pending.clear();
    m_sendQueue.clear();
}

void H1Channel::handleBytesWritten()
{
    pump();
    if (m_wantWritable && m_handler && !m_localReset && !m_endRequested &&
        m_sendQueue.size() <= m_sendBufferLimit / 2) {
        m_wantWritable = false;
        m_handler->onStreamWritable(kStreamId);
    }
}

void H1Channel::pump()
{
    if (m_inPump)
        return;
    m_inPump = true;
    // Bounded: QSslSocket keeps at most kSocketHighWater; the rest waits in the bounded queue.
    while (!m_sendQueue.isEmpty() && m_socket->state() == QAbstractSocket::ConnectedState &&
           m_socket->bytesToWrite() + m_socket->encryptedBytesToWrite() < kSocketHighWater) {
        const QByteArrayView chunk = m_sendQueue.front(kWriteChunk);
        const qint64 written = m_socket->write(chunk.data(), chunk.size());
        if (written <= 0)
            break;
        m_bytesSent += quint64(written);
        m_sendQueue.drop(written);
    }
    m_inPump = false;
    if (m_endRequested && m_sendQueue.isEmpty() && !m_drainedEmitted) {
        m_drainedEmitted = true;
        Q_EMIT drained();
    }
}

void H1Channel::fillStats(TransportStats &stats) const
{
    stats.bytesSent = m_bytesSent;
    stats.bytesReceived = m_bytesReceived;
    stats.streamsOpen = m_open && !(m_readFinished && m_endRequested) && !m_localReset ? 1 : 0;
    stats.datagramsSent = m_datagramsSent;
    stats.datagramDrops = m_drops;
}

} // namespace qmasque
