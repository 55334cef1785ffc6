#pragma once

#include "api/Result.h"
#include "transport/HttpTypes.h"

#include <QtCore/QByteArrayView>

namespace qmasque {

// Checks on header fields at the point they enter the h1/h2 engines, before anything is written.

// hasLineBreakOrNul: CR, LF or NUL, which could end a field early on h1 and are forbidden in
// field values everywhere (RFC 9110, 5.5; RFC 9113, 8.2.1).
bool hasLineBreakOrNul(QByteArrayView text) noexcept;

// isConnectionSpecific: fields RFC 9113, 8.2.2 forbids on h2 and the h1 codec writes itself
// (connection, keep-alive, proxy-connection, transfer-encoding, upgrade).
bool isConnectionSpecific(QByteArrayView lowerName) noexcept;

// checkFields: header_injection when a name or value holds CR/LF/NUL, malformed_header when a
// name is not a token, reserved_header when it is a pseudo-header or connection-specific.
Status checkFields(const HeaderList &headers);

// checkHeadPart: header_injection when a request-line or pseudo-header part (method, authority,
// path, protocol) holds CR/LF/NUL or a space where it would split the request line.
Status checkHeadPart(QByteArrayView what, QByteArrayView value, bool allowSpace = false);

} // namespace qmasque
