#pragma once

#include <QtCore/QStringView>

namespace qmasque::wire {

inline bool isAsciiDigit(QChar c) noexcept
{
    return c.unicode() >= '0' && c.unicode() <= '9';
}

// parseDecimal: digits only, no leading zero (except "0" itself), at most `maxDigits`; the
// strict form URI ports, prefix lengths and protocol numbers take, so no two spellings name
// the same value.
inline bool parseDecimal(QStringView text, int maxDigits, int *value) noexcept
{
    if (text.isEmpty() || text.size() > maxDigits || (text.size() > 1 && text[0] == u'0'))
        return false;
    int v = 0;
    for (const QChar c : text) {
        if (!isAsciiDigit(c))
            return false;
        v = v * 10 + (c.unicode() - '0');
    }
    *value = v;
    return true;
}

} // namespace qmasque::wire
