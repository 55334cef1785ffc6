#include "service/DemoContent.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QLocale>

namespace qmasque::demo {

namespace {

constexpr qint64 kMaxSlice = 64 * 1024;

} // namespace

const QByteArray &patternBlock()
{
    static const QByteArray block = [] {
        QByteArray bytes(kMaxSlice + kPeriod, Qt::Uninitialized);
        for (qsizetype i = 0; i < bytes.size(); ++i)
            bytes[i] = char(i % kPeriod);
        return bytes;
    }();
    return block;
}

QByteArrayView slice(qint64 offset, qint64 size)
{
    return QByteArrayView(patternBlock()).sliced(offset % kPeriod, qMin(size, kMaxSlice));
}

std::optional<qint64> parseSize(QStringView path)
{
    if (!path.startsWith(u'/') || path.size() < 2 || path.size() > 12)
        return std::nullopt;
    QStringView digits = path.sliced(1);
    qint64 unit = 1;
    switch (digits.back().unicode()) {
    case 'K':
    case 'k':
        unit = 1024;
        break;
    case 'M':
    case 'm':
        unit = 1024 * 1024;
        break;
    case 'G':
    case 'g':
        unit = 1024 * 1024 * 1024;
        break;
    default:
        break;
    }
    if (unit != 1)
        digits.chop(1);
    if (digits.isEmpty())
        return std::nullopt;
    for (QChar c : digits) {
        if (!c.isDigit())
            return std::nullopt;
    }
    bool ok = false;
    const qint64 count = QLocale::c().toLongLong(digits, &ok);
    if (!ok || count > kMaxSize / unit)
        return std::nullopt;
    return count * unit;
}

QByteArray sha256Hex(qint64 size)
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    for (qint64 offset = 0; offset < size;) {
        const QByteArrayView part = slice(offset, size - offset);
        hash.addData(part);
        offset += part.size();
    }
    return hash.result().toHex();
}

} // namespace qmasque::demo
