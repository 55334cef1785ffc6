#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

namespace qmasque {

// ByteQueue: a FIFO of bytes kept in one contiguous buffer with a read offset, for the send and
// receive buffers of the TLS-over-TCP transports (h1, h2). Appending and draining are amortised
// O(n): consumed bytes are only moved out when they dominate the buffer. Not thread-safe.
class ByteQueue
{
public:
    qint64 size() const noexcept { return m_data.size() - m_head; }
    bool isEmpty() const noexcept { return size() == 0; }

    void append(QByteArrayView bytes)
    {
        if (bytes.isEmpty())
            return;
        compact();
        m_data.append(bytes.data(), bytes.size());
    }

    // front: a view of up to `max` bytes at the head; valid until the next mutation.
    QByteArrayView front(qint64 max) const noexcept
    {
        return QByteArrayView(m_data.constData() + m_head, qMin(max, size()));
    }

    // drop: removes `count` bytes (at most size()) from the head.
    void drop(qint64 count) noexcept
    {
        m_head += qsizetype(qMin(count, size()));
        if (m_head == m_data.size()) {
            m_data.resize(0); // keeps the allocation for the next append
            m_head = 0;
        }
    }

    // take: removes and returns up to `count` bytes from the head.
    QByteArray take(qint64 count)
    {
        const QByteArrayView view = front(count);
        QByteArray out(view.data(), view.size());
        drop(view.size());
        return out;
    }

    void clear() noexcept
    {
        m_data.clear();
        m_head = 0;
    }

private:
    void compact()
    {
        // Move the live bytes to the front once the consumed prefix is both large and most of the
        // buffer, so each byte is moved O(1) times on average.
        constexpr qsizetype kCompactThreshold = 64 * 1024;
        if (m_head >= kCompactThreshold && m_head * 2 >= m_data.size()) {
            m_data.remove(0, m_head);
            m_head = 0;
        }
    }

    QByteArray m_data;
    qsizetype m_head = 0;
};

} // namespace qmasque
