#include "transport/h3/H3SendBuffer.h"

#include <algorithm>

namespace qmasque::h3 {

void H3SendBuffer::append(QByteArrayView data)
{
    if (data.isEmpty())
        return;
    // The last chunk may grow only while none of its bytes was handed out (growing can
    // reallocate it, and nghttp3 holds pointers into handed-out bytes).
    const qint64 lastStart = m_total - (m_chunks.empty() ? 0 : m_chunks.back().size());
    const bool lastUntouched = !m_chunks.empty() && m_handed <= lastStart;
    if (!lastUntouched || m_chunks.back().size() + data.size() > kChunkSize) {
        m_chunks.emplace_back();
        m_chunks.back().reserve(std::max(kChunkSize, data.size()));
    }
    m_chunks.back().append(data);
    m_total += data.size();
}

size_t H3SendBuffer::take(nghttp3_vec *vectors, size_t capacity, qint64 maxBytes)
{
    size_t count = 0;
    while (count < capacity && maxBytes > 0 && m_handed < m_total &&
           m_takeIndex < m_chunks.size()) {
        QByteArray &chunk = m_chunks[m_takeIndex];
        const qint64 offset = m_handed - m_takeStart;
        const qint64 length = std::min<qint64>(chunk.size() - offset, maxBytes);
        vectors[count].base = reinterpret_cast<uint8_t *>(chunk.data()) + offset;
        vectors[count].len = size_t(length);
        ++count;
        maxBytes -= length;
        m_handed += length;
        if (m_handed == m_takeStart + chunk.size()) {
            m_takeStart = m_handed;
            ++m_takeIndex;
        }
    }
    return count;
}

void H3SendBuffer::acknowledge(quint64 bytes)
{
    m_acked = std::min(m_handed, m_acked + qint64(bytes));
    while (!m_chunks.empty() && m_frontOffset + m_chunks.front().size() <= m_acked) {
        m_frontOffset += m_chunks.front().size();
        m_chunks.pop_front();
        --m_takeIndex; // acknowledged bytes were handed out: the take index is past them
    }
}

} // namespace qmasque::h3
