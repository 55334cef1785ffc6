#pragma once

#include "api/Types.h"

#include <QtCore/QByteArray>
#include <QtCore/QList>

namespace qmasque {

// Header: one HTTP field. Names are lower-case on h2/h3 (RFC 9113, 8.2.1); the h1 codec maps
// case on the wire. Values must not contain CR, LF or NUL (checked where they enter the engine).
struct Header
{
    QByteArray name;
    QByteArray value;

    friend bool operator==(const Header &, const Header &) = default;
};
using HeaderList = QList<Header>;

// headerValue: the first value of `name` (compared case-insensitively), or a null QByteArray.
QByteArray headerValue(const HeaderList &headers, QByteArrayView name);

// Request: what a client sends to open a stream. The transport maps it to its wire form:
// - h2/h3 extended CONNECT (RFC 8441, RFC 9220): :method CONNECT, :protocol, :scheme, :authority
//   (the proxy), :path (the expanded template);
// - h2/h3 classic CONNECT (RFC 9110, 9.3.6): :method CONNECT and :authority = target host:port
// only;
// - h1: `GET path` + `Upgrade: <protocol>` for connect-udp / connect-ip, `CONNECT host:port` for
//   classic CONNECT, plain requests for anything else.
struct Request
{
    QByteArray method = QByteArrayLiteral("CONNECT");
    QByteArray protocol; // extended CONNECT protocol ("connect-udp"); empty = classic/plain
    QByteArray scheme = QByteArrayLiteral("https");
    QByteArray authority; // proxy authority (extended CONNECT) or target host:port (classic)
    QByteArray path;      // empty for classic CONNECT
    HeaderList headers;   // regular fields only (capsule-protocol, proxy-authorization, ...)
    bool endStream = false;

    bool isExtendedConnect() const noexcept { return !protocol.isEmpty(); }
    bool isClassicConnect() const noexcept
    {
        return protocol.isEmpty() && method == QByteArrayLiteral("CONNECT");
    }
};

// Response: a final response head (1xx interim responses are not reported, except h1's 101
// Switching Protocols, which is final for an Upgrade).
struct Response
{
    int status = 0;
    HeaderList headers;
};

// StreamResetReason: why we abort a stream; each transport maps it to its own code.
enum class StreamResetReason : quint8
{
    Cancel,       // h2 CANCEL, h3 H3_REQUEST_CANCELLED
    ConnectError, // TCP tunnel aborted: h2 CONNECT_ERROR, h3 H3_CONNECT_ERROR (RFC 9114, 8.1)
    MessageError, // malformed capsule or message: h2 PROTOCOL_ERROR, h3 H3_MESSAGE_ERROR
    Refused,      // not processed: h2 REFUSED_STREAM, h3 H3_REQUEST_REJECTED
    Internal,     // h2 INTERNAL_ERROR, h3 H3_INTERNAL_ERROR
};

} // namespace qmasque
