#pragma once

#include "api/Result.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

#include <optional>
#include <type_traits>
#include <utility>

namespace qmasque::wire {

// CapsuleHeader: the Type and Length fields that open a capsule (RFC 9297, 3.2).
struct CapsuleHeader
{
    quint64 type = 0;
    quint64 length = 0;   // bytes of Value
    int headerLength = 0; // bytes of Type + Length: 2..16
};

// kMaxCapsuleHeaderLength: two 8-byte varints.
inline constexpr int kMaxCapsuleHeaderLength = 16;

// parseCapsuleHeader: the header at the start of `in`; std::nullopt when `in` ends inside it.
// Every complete header is valid (varints may be non-minimal).
std::optional<CapsuleHeader> parseCapsuleHeader(QByteArrayView in) noexcept;

// CapsuleView: one complete capsule handed to the sink of CapsuleDecoder::feed(). `value` points
// into the chunk being fed or into the decoder's buffer: it is valid only during the sink call.
struct CapsuleView
{
    quint64 type = 0;
    QByteArrayView value;
};

// CapsuleDecoder: the incremental Capsule Protocol parser for a request stream's data (RFC 9297,
// 3.2), used on every h2/h1 tunnel (each UDP payload there is a DATAGRAM capsule). Feed the
// stream's bytes in any chunking, down to one byte at a time; every complete capsule reaches the
// sink once, in order, of any type (unknown types included: skipping them is the caller's choice).
//
// Cost: a capsule lying wholly inside the fed chunk costs one header parse and is handed over as a
// view into the chunk, with no copy. Only a capsule split across chunks is buffered, and only its
// own bytes.
//
// Limits: a capsule whose declared Length exceeds maxCapsuleLength() fails with capsule_too_large
// as soon as its header is read, whatever the chunking (no byte of it is buffered). After an
// error the decoder stays failed: feed() and finish() keep returning that error.
//
// Not thread-safe; the sink must not call back into the same decoder.
class CapsuleDecoder
{
public:
    static constexpr quint64 kDefaultMaxCapsuleLength = 65536;

    explicit CapsuleDecoder(quint64 maxCapsuleLength = kDefaultMaxCapsuleLength) noexcept
        : m_maxLength(maxCapsuleLength)
    {}

    // feed: decodes `chunk` (continuing any capsule left incomplete by the previous call) and
    // calls `sink(const CapsuleView &)` for every complete capsule. The sink returns void, or a
    // Status: an error stops decoding, puts the decoder in the failed state and is returned (this
    // is how a caller rejects, say, a malformed IP capsule). Bytes after a failure are ignored.
    template<typename Sink>
    Status feed(QByteArrayView chunk, Sink &&sink);

    // finish: the peer ended the stream (FIN). truncated_capsule when that happened inside a
    // capsule; the decoder's error if it failed before; success otherwise.
    Status finish() const;

    // pendingSize: bytes buffered for the capsule being received (0 between capsules).
    qsizetype pendingSize() const noexcept { return m_pending.size(); }
    bool isInsideCapsule() const noexcept { return !m_pending.isEmpty(); }
    bool hasFailed() const noexcept { return m_error.has_value(); }
    const std::optional<Error> &error() const noexcept { return m_error; }

    quint64 maxCapsuleLength() const noexcept { return m_maxLength; }
    // setMaxCapsuleLength: applies to capsules whose header has not been read yet.
    void setMaxCapsuleLength(quint64 maxLength) noexcept { m_maxLength = maxLength; }

    // reset: forgets any partial capsule and any error.
    void reset();

private:
    template<typename Sink>
    static Status deliver(Sink &sink, const CapsuleView &capsule);

    qsizetype fillPending(QByteArrayView chunk);
    void startPending(QByteArrayView rest, const std::optional<CapsuleHeader> &header);
    bool pendingComplete() const noexcept;
    CapsuleView pendingCapsule() const noexcept;
    void clearPending() noexcept;
    Status fail(Error error);
    Error tooLarge(const CapsuleHeader &header) const;

    quint64 m_maxLength;
    QByteArray m_pending;                         // the partial capsule, header included
    std::optional<CapsuleHeader> m_pendingHeader; // known once m_pending holds the whole header
    std::optional<Error> m_error;
};

template<typename Sink>
Status CapsuleDecoder::deliver(Sink &sink, const CapsuleView &capsule)
{
    if constexpr (std::is_void_v<std::invoke_result_t<Sink &, const CapsuleView &>>) {
        sink(capsule);
        return {};
    } else {
        return sink(capsule);
    }
}

template<typename Sink>
Status CapsuleDecoder::feed(QByteArrayView chunk, Sink &&sink)
{
    if (m_error)
        return *m_error;
    qsizetype pos = 0;
    if (!m_pending.isEmpty()) {
        pos = fillPending(chunk);
        if (m_error)
            return *m_error;
        if (!pendingComplete())
            return {};
        const Status delivered = deliver(sink, pendingCapsule());
        clearPending();
        if (!delivered)
            return fail(delivered.error());
    }
    // The fast path: whole capsules inside the chunk go out as views.
    while (pos < chunk.size()) {
        const QByteArrayView rest = chunk.sliced(pos);
        const std::optional<CapsuleHeader> header = parseCapsuleHeader(rest);
        if (header && header->length > m_maxLength)
            return fail(tooLarge(*header));
        if (!header || quint64(rest.size() - header->headerLength) < header->length) {
            startPending(rest, header);
            return {};
        }
        const auto valueLength = qsizetype(header->length);
        const Status delivered = deliver(
            sink, CapsuleView{header->type, rest.sliced(header->headerLength, valueLength)});
        if (!delivered)
            return fail(delivered.error());
        pos += header->headerLength + valueLength;
    }
    return {};
}

} // namespace qmasque::wire
