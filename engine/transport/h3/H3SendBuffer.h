#pragma once

#include <QtCore/QByteArray>

#include <nghttp3/nghttp3.h>

#include <deque>

namespace qmasque::h3 {

// H3SendBuffer: the body bytes of one HTTP/3 stream on their way out. Bytes are appended by
// sendStreamData(), handed to nghttp3 (which frames them and keeps pointing at them) and freed
// once QUIC acknowledged them. Storage is a deque of chunks; a chunk never moves or grows after
// one of its bytes was handed out, so nghttp3's pointers stay valid until the acknowledgement.
//
// unsentBytes() (appended, not yet handed out) is what the per-stream send bound limits; bytes in
// flight are bounded by the peer's flow-control window instead.
class H3SendBuffer
{
public:
    // append: copies all of `data`.
    void append(QByteArrayView data);
    // take: fills up to `capacity` vectors with at most `maxBytes` of the next unsent bytes and
    // marks them handed out. Returns the number of vectors filled.
    size_t take(nghttp3_vec *vectors, size_t capacity, qint64 maxBytes);
    // acknowledge: the first `bytes` handed-out bytes are acknowledged and can go.
    void acknowledge(quint64 bytes);

    qint64 unsentBytes() const noexcept { return m_total - m_handed; }
    qint64 bufferedBytes() const noexcept { return m_total - m_acked; }

private:
    static constexpr qsizetype kChunkSize = 64 * 1024;

    std::deque<QByteArray> m_chunks;
    qint64 m_total = 0;       // bytes ever appended
    qint64 m_handed = 0;      // bytes ever handed to nghttp3
    qint64 m_acked = 0;       // bytes ever acknowledged
    qint64 m_frontOffset = 0; // stream offset of m_chunks.front()[0]
    size_t m_takeIndex = 0;   // chunk holding the first unsent byte (== size() when none)
    qint64 m_takeStart = 0;   // stream offset of that chunk
};

} // namespace qmasque::h3
