#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

namespace qmasque::test {

// H3TestPattern: a deterministic byte stream for integrity checks: the byte at stream offset
// `o` depends on `o` alone, so any loss, duplication or reordering shows at its offset.
struct H3TestPattern
{
    static char byteAt(qint64 offset) noexcept
    {
        return char((offset * 31 + (offset >> 11) + 7) & 0xff);
    }

    // fill: `size` bytes of the pattern starting at `offset`.
    static QByteArray chunk(qint64 offset, qsizetype size)
    {
        QByteArray out(size, Qt::Uninitialized);
        for (qsizetype i = 0; i < size; ++i)
            out[i] = byteAt(offset + i);
        return out;
    }

    // matches: whether `data` is the pattern at `offset`.
    static bool matches(QByteArrayView data, qint64 offset) noexcept
    {
        for (qsizetype i = 0; i < data.size(); ++i) {
            if (data[i] != byteAt(offset + i))
                return false;
        }
        return true;
    }
};

} // namespace qmasque::test
