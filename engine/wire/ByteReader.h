#pragma once

#include "wire/Varint.h"

#include <QtCore/QByteArrayView>

#include <optional>

namespace qmasque::wire {

// ByteReader: a bounds-checked cursor over a byte buffer for the codecs. Every read either
// succeeds and advances, or fails and leaves the cursor where it was; nothing reads past the end.
// Multi-byte integers are network byte order. The buffer is not owned and must outlive the reader.
class ByteReader
{
public:
    explicit ByteReader(QByteArrayView data) noexcept
        : m_data(data)
    {}

    qsizetype position() const noexcept { return m_pos; }
    qsizetype remaining() const noexcept { return m_data.size() - m_pos; }
    bool atEnd() const noexcept { return m_pos >= m_data.size(); }
    QByteArrayView rest() const noexcept { return m_data.sliced(m_pos); }

    std::optional<quint64> readVarint() noexcept
    {
        const auto decoded = decodeVarint(rest());
        if (!decoded)
            return std::nullopt;
        m_pos += decoded->length;
        return decoded->value;
    }

    std::optional<quint8> readU8() noexcept
    {
        if (remaining() < 1)
            return std::nullopt;
        return static_cast<quint8>(m_data[m_pos++]);
    }

    std::optional<quint16> readU16() noexcept
    {
        if (remaining() < 2)
            return std::nullopt;
        const quint16 v = quint16(static_cast<quint8>(m_data[m_pos]) << 8) |
                          static_cast<quint8>(m_data[m_pos + 1]);
        m_pos += 2;
        return v;
    }

    std::optional<quint32> readU32() noexcept
    {
        if (remaining() < 4)
            return std::nullopt;
        quint32 v = 0;
        for (int i = 0; i < 4; ++i)
            v = (v << 8) | static_cast<quint8>(m_data[m_pos + i]);
        m_pos += 4;
        return v;
    }

    // readBytes: the next `count` bytes as a view into the buffer.
    std::optional<QByteArrayView> readBytes(qsizetype count) noexcept
    {
        if (count < 0 || remaining() < count)
            return std::nullopt;
        const QByteArrayView bytes = m_data.sliced(m_pos, count);
        m_pos += count;
        return bytes;
    }

private:
    QByteArrayView m_data;
    qsizetype m_pos = 0;
};

} // namespace qmasque::wire
