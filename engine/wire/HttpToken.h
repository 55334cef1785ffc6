#pragma once

#include <QtCore/QByteArrayView>

namespace qmasque::wire {

// RFC 9110, 5.6.2: tchar, the characters of a token (field names, methods, upgrade protocol
// names, and the bare items of Structured Fields that RFC 8941 builds on them).
bool isTchar(char c) noexcept;

// isHttpToken: 1*tchar.
bool isHttpToken(QByteArrayView text) noexcept;

} // namespace qmasque::wire
