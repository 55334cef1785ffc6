#pragma once

#include "api/Result.h"
#include "transport/h1/H1Codec.h"

#include <QtCore/QByteArray>
#include <QtCore/QString>

namespace qmasque {

// What the HTTP proxy front end (HttpProxyServer) understands of HTTP/1.1 (RFC 9112) beyond the
// shared H1Codec: which target a request names, how a request and a response are rewritten on
// the way through (RFC 9110, 7.6: hop-by-hop fields removed, Via added), and the error
// responses it sends itself. Pure functions; no I/O.
//
// Errors of parseProxyRequest() and parseOriginResponse() carry the HTTP status to answer with
// in Error::httpStatus (400, 431, 501, 502, 505).

// kMaxRequestHead: the largest request head accepted (request line + fields + blank line).
inline constexpr qsizetype kMaxRequestHead = 16 * 1024;
// kMaxResponseHead: the largest response head accepted from an origin server.
inline constexpr qsizetype kMaxResponseHead = 64 * 1024;

// HttpProxyRequest: one request as the proxy will carry it out.
struct HttpProxyRequest
{
    enum class Kind : quint8
    {
        Connect, // CONNECT host:port: a TCP tunnel, then raw bytes both ways
        Forward, // absolute-form http:// (or origin-form with Host): forwarded to the origin
    };

    Kind kind = Kind::Connect;
    QString host; // target host (IPv6 without brackets)
    quint16 port = 0;
    QByteArray method;
    bool http10 = false;      // the client speaks HTTP/1.0
    bool clientClose = false; // the client will not send another request on this connection
    bool headRequest = false; // HEAD: the response has no body whatever its fields say
    QByteArray upstreamHead;  // Forward: the head sent to the origin (origin-form, rewritten)
    H1BodyDecoder body;       // Forward: the request body's framing (None for CONNECT)
};

// parseProxyRequest: a complete head (as findHeadEnd() delimited it). CONNECT takes
// authority-form only; other methods take absolute-form "http://host[:port]/path" or origin-form
// with a Host field. Errors: 400 malformed_header (bad syntax, both Content-Length and
// Transfer-Encoding, origin-form without Host, userinfo in the URI), 400 bad_target (https:// —
// use CONNECT —, other schemes, asterisk-form, a CONNECT target without a port), 501
// not_supported (a transfer coding other than chunked), 505 not_supported (not HTTP/1.x).
Result<HttpProxyRequest> parseProxyRequest(QByteArrayView head);

// HttpOriginResponse: one response head from an origin server, ready for the client.
struct HttpOriginResponse
{
    int status = 0;
    bool interim = false;    // 1xx (not 101): relayed, then the final response follows
    bool untilClose = false; // the body ends when the origin closes: the client's connection too
    H1BodyDecoder body;
    HeaderList headers; // end-to-end fields only
    QByteArray reason;
};

// parseOriginResponse: a complete response head to `request`. Errors (502): bad_status_line,
// malformed_header (bad framing), not_supported (101: upgrades are not forwarded).
Result<HttpOriginResponse> parseOriginResponse(QByteArrayView head,
                                               const HttpProxyRequest &request);

// clientResponseHead: the head the client gets: HTTP/1.1 status line, end-to-end fields, Via,
// and "Connection: close" when `closeAfter`.
QByteArray clientResponseHead(const HttpOriginResponse &response, bool closeAfter);

// errorResponse: a complete response the proxy sends itself: `status`, a short text/plain body
// naming `error`, "Connection: close".
QByteArray errorResponse(int status, const Error &error);

// statusForTunnelError: the status that tells a client why its tunnel did not open: 403 when
// the proxy forbade the target, 504 for timeouts, 503 when the proxy is overloaded, 400 for a
// target that is not a valid host or port, 502 for the rest (including the MASQUE proxy asking
// for credentials: those are qmasque's --proxy-auth, not the client's, so no 407).
int statusForTunnelError(const Error &error);

// kConnectEstablished: the reply to a CONNECT once the tunnel is open (RFC 9110, 9.3.6).
inline constexpr QByteArrayView kConnectEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";

} // namespace qmasque
