#include "local/SocketWriteQueue.h"

namespace qmasque {

bool SocketWriteQueue::write(QByteArrayView data, bool ownBytes, TcpTunnel *tunnel)
{
    if (data.isEmpty())
        return true;
    qint64 written = 0;
    if (isEmpty()) {
        written = m_socket->write(data.data(), data.size());
        if (written < 0)
            return false;
        if (!ownBytes)
            credit(written, tunnel);
        if (written == data.size())
            return true;
        m_queue.resize(0);
        m_offset = 0;
        m_socket->setWriteNotification(true);
    } else if (m_offset > 0 && m_offset >= m_queue.size() / 2) {
        // Compact now and then, not on every write: the queue is bounded by the window.
        m_queue.remove(0, m_offset);
        m_offset = 0;
    }
    if (ownBytes)
        m_ownPending += data.size() - written;
    m_queue.append(data.data() + written, data.size() - qsizetype(written));
    return true;
}

SocketWriteQueue::Flush SocketWriteQueue::flush(TcpTunnel *tunnel)
{
    while (!isEmpty()) {
        const qint64 written = m_socket->write(m_queue.constData() + m_offset, pending());
        if (written < 0)
            return Flush::Failed;
        if (written == 0)
            return Flush::Pending;
        m_offset += qsizetype(written);
        const qint64 own = qMin(written, m_ownPending);
        m_ownPending -= own;
        credit(written - own, tunnel);
    }
    m_queue.resize(0);
    m_offset = 0;
    m_socket->setWriteNotification(false);
    return Flush::Drained;
}

void SocketWriteQueue::clear()
{
    m_queue.clear();
    m_offset = 0;
    m_ownPending = 0;
}

void SocketWriteQueue::credit(qint64 bytes, TcpTunnel *tunnel)
{
    if (bytes <= 0)
        return;
    m_tunnelBytes += bytes;
    if (tunnel)
        tunnel->consume(bytes); // only what the kernel took reopens the window
}

} // namespace qmasque
