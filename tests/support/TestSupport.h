#pragma once

#include <QtCore/QString>

namespace qmasque::test {

// sourcePath / binaryPath: absolute paths inside the source and build trees, for fixtures.
QString sourcePath(const QString &relative);
QString binaryPath(const QString &relative);

// fromHex: bytes from a hex string that may contain spaces and '|' separators between fields,
// so test vectors can be written one field at a time: fromHex("40 25 | 00").
QByteArray fromHex(const char *hex);

} // namespace qmasque::test
