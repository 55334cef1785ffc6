#pragma once

#include <QtCore/QByteArrayView>

#include <vector>

namespace qmasque::h3 {

// QuicDatagramQueue: the bounded FIFO of QUIC DATAGRAM payloads waiting for a packet. A ring of
// byte slots allocated once: a slot keeps its capacity when reused, so steady-state sending does
// not allocate. Full means full: push() refuses instead of growing (the caller counts the drop).
class QuicDatagramQueue
{
public:
    static constexpr qsizetype kDefaultCapacity = 1024;

    explicit QuicDatagramQueue(qsizetype capacity = kDefaultCapacity);

    bool isEmpty() const noexcept { return m_count == 0; }
    bool isFull() const noexcept { return m_count == qsizetype(m_slots.size()); }
    qsizetype size() const noexcept { return m_count; }

    // push: appends `prefix` + `payload` as one datagram; false (nothing stored) when full.
    bool push(QByteArrayView prefix, QByteArrayView payload);
    // front: the oldest datagram; only when !isEmpty().
    const std::vector<unsigned char> &front() const noexcept { return m_slots[size_t(m_head)]; }
    void pop() noexcept;
    void clear() noexcept;

private:
    std::vector<std::vector<unsigned char>> m_slots;
    qsizetype m_head = 0;
    qsizetype m_count = 0;
};

} // namespace qmasque::h3
