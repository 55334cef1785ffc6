#include "transport/h3/QuicDatagramQueue.h"

#include <cstring>

namespace qmasque::h3 {

QuicDatagramQueue::QuicDatagramQueue(qsizetype capacity)
    : m_slots(size_t(capacity > 0 ? capacity : 1))
{}

bool QuicDatagramQueue::push(QByteArrayView prefix, QByteArrayView payload)
{
    if (isFull())
        return false;
    const qsizetype capacity = qsizetype(m_slots.size());
    std::vector<unsigned char> &slot = m_slots[size_t((m_head + m_count) % capacity)];
    slot.resize(size_t(prefix.size() + payload.size()));
    if (!prefix.isEmpty())
        std::memcpy(slot.data(), prefix.data(), size_t(prefix.size()));
    if (!payload.isEmpty())
        std::memcpy(slot.data() + prefix.size(), payload.data(), size_t(payload.size()));
    ++m_count;
    return true;
}

void QuicDatagramQueue::pop() noexcept
{
    if (m_count == 0)
        return;
    m_head = (m_head + 1) % qsizetype(m_slots.size());
    --m_count;
}

void QuicDatagramQueue::clear() noexcept
{
    m_head = 0;
    m_count = 0;
}

} // namespace qmasque::h3
