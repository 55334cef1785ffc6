#include "support/TestSupport.h"

#include <QtCore/QByteArray>
#include <QtCore/QDir>

namespace qmasque::test {

QString sourcePath(const QString &relative)
{
    return QDir(QStringLiteral(QMASQUE_SOURCE_DIR)).filePath(relative);
}

QString binaryPath(const QString &relative)
{
    return QDir(QStringLiteral(QMASQUE_BINARY_DIR)).filePath(relative);
}

QByteArray fromHex(const char *hex)
{
    QByteArray digits;
    for (const char *p = hex; *p; ++p) {
        if (*p != ' ' && *p != '|' && *p != '\n')
            digits.append(*p);
    }
    return QByteArray::fromHex(digits);
}

} // namespace qmasque::test
