#include "wire/CapsuleDecoder.h"

#include "wire/Varint.h"

namespace qmasque::wire {

namespace {

// A partially received capsule reserves at most this much up front; a larger configured limit
// grows the buffer only as bytes actually arrive, so a declared length alone costs no memory.
constexpr qsizetype kMaxUpfrontReserve = 65536 + kMaxCapsuleHeaderLength;

} // namespace

std::optional<CapsuleHeader> parseCapsuleHeader(QByteArrayView in) noexcept
{
    const auto type = decodeVarint(in);
    if (!type)
        return std::nullopt;
    const auto length = decodeVarint(in.sliced(type->length));
    if (!length)
        return std::nullopt;
    return CapsuleHeader{type->value, length->value, type->length + length->length};
}

Status CapsuleDecoder::finish() const
{
    if (m_error)
        return *m_error;
    if (m_pending.isEmpty())
        return {};
    // RFC 9297, 3.3: a stream that ends inside a capsule is malformed.
    if (!m_pendingHeader) {
        return Error(ErrorCode::TruncatedCapsule,
                     QStringLiteral("stream ended inside a capsule header (%1 bytes received)")
                         .arg(m_pending.size()));
    }
    return Error(ErrorCode::TruncatedCapsule,
                 QStringLiteral("stream ended inside a capsule of type 0x%1 (%2 of %3 bytes)")
                     .arg(QString::number(m_pendingHeader->type, 16))
                     .arg(m_pending.size() - m_pendingHeader->headerLength)
                     .arg(m_pendingHeader->length));
}

void CapsuleDecoder::reset()
{
    clearPending();
    m_error.reset();
}

qsizetype CapsuleDecoder::fillPending(QByteArrayView chunk)
{
    qsizetype used = 0;
    if (!m_pendingHeader) {
        // Complete the header first: it is at most 16 bytes, so take no more than that.
        const qsizetype before = m_pending.size();
        const qsizetype take = qMin(chunk.size(), kMaxCapsuleHeaderLength - before);
        m_pending.append(chunk.first(take));
        const std::optional<CapsuleHeader> header = parseCapsuleHeader(m_pending);
        if (!header)
            return take; // still inside the header: `take` was the whole chunk
        if (header->length > m_maxLength) {
            static_cast<void>(fail(tooLarge(*header)));
            return take;
        }
        m_pendingHeader = header;
        // The bytes taken past the header belong to the value, or to the next capsule.
        const qsizetype total = header->headerLength + qsizetype(header->length);
        if (m_pending.size() > total)
            m_pending.truncate(total);
        used = m_pending.size() - before;
        m_pending.reserve(qMin(total, kMaxUpfrontReserve));
    }
    const qsizetype total = m_pendingHeader->headerLength + qsizetype(m_pendingHeader->length);
    const qsizetype take = qMin(total - m_pending.size(), chunk.size() - used);
    m_pending.append(chunk.sliced(used, take));
    return used + take;
}

void CapsuleDecoder::startPending(QByteArrayView rest, const std::optional<CapsuleHeader> &header)
{
    m_pendingHeader = header;
    if (header) {
        const qsizetype total = header->headerLength + qsizetype(header->length);
        m_pending.reserve(qMin(total, kMaxUpfrontReserve));
    }
    m_pending.append(rest);
}

bool CapsuleDecoder::pendingComplete() const noexcept
{
    return m_pendingHeader &&
           m_pending.size() == m_pendingHeader->headerLength + qsizetype(m_pendingHeader->length);
}

CapsuleView CapsuleDecoder::pendingCapsule() const noexcept
{
    return CapsuleView{m_pendingHeader->type,
                       QByteArrayView(m_pending).sliced(m_pendingHeader->headerLength)};
}

void CapsuleDecoder::clearPending() noexcept
{
    // resize(0) keeps the allocation for the next split capsule, unlike clear().
    m_pending.resize(0);
    m_pendingHeader.reset();
}

Status CapsuleDecoder::fail(Error error)
{
    clearPending();
    m_error = std::move(error);
    return *m_error;
}

Error CapsuleDecoder::tooLarge(const CapsuleHeader &header) const
{
    return Error(ErrorCode::CapsuleTooLarge,
                 QStringLiteral("capsule of type 0x%1 declares %2 bytes, the limit is %3")
                     .arg(QString::number(header.type, 16))
                     .arg(header.length)
                     .arg(m_maxLength));
}

} // namespace qmasque::wire
