#include "local/HttpProxyCodec.h"

#include "api/Profile.h"

#include <QtCore/QSet>

namespace qmasque {

namespace {

constexpr QByteArrayView kVia = "1.1 qmasque";

Error requestError(int status, ErrorCode code, const QString &detail)
{
    Error error(code, detail);
    error.httpStatus = status;
    return error;
}

Error badRequest(const QString &detail)
{
    return requestError(400, ErrorCode::MalformedHeader, detail);
}

Error badTarget(const QString &detail)
{
    return requestError(400, ErrorCode::BadTarget, detail);
}

// connectionOptions: the hop-by-hop fields of a message (RFC 9110, 7.6.1): the fixed ones plus
// every field the Connection field names.
QSet<QByteArray> connectionOptions(const HeaderList &headers)
{
    QSet<QByteArray> names = {"connection", "proxy-connection", "keep-alive",
                              "te",         "trailer",          "upgrade"};
    for (const Header &header : headers) {
        if (header.name != "connection" && header.name != "proxy-connection")
            continue;
        for (const QByteArray &token : header.value.split(','))
            names.insert(token.trimmed().toLower());
    }
    // Framing stays: bodies pass through unchanged (RFC 9112, 6.1; see parseProxyRequest()).
    names.remove("transfer-encoding");
    names.remove("content-length");
    return names;
}

QByteArrayView firstLine(QByteArrayView head)
{
    const qsizetype end = head.indexOf('\r');
    return end < 0 ? head : head.first(end);
}

bool isAuthorityChar(char c)
{
    // RFC 3986, 3.2: reg-name / IP literal / port characters.
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           QByteArrayView("-._~%!$&'()*+,;=:[]").contains(c);
}

// parseAuthority: "host[:port]" (IPv6 in brackets) with `defaultPort` when no port is given.
Result<Endpoint> parseAuthority(QByteArrayView authority, quint16 defaultPort)
{
    if (authority.isEmpty())
        return badTarget(QStringLiteral("no host in the request target"));
    for (char c : authority) {
        if (!isAuthorityChar(c))
            return badTarget(QStringLiteral("bad character in the authority"));
    }
    bool hasPort = false;
    if (authority.startsWith('[')) {
        const qsizetype close = authority.indexOf(']');
        if (close < 0 || (close + 1 < authority.size() && authority[close + 1] != ':'))
            return badTarget(QStringLiteral("bad IPv6 literal in the authority"));
        hasPort = close + 1 < authority.size();
    } else {
        const qsizetype colons = authority.count(':');
        if (colons > 1)
            return badTarget(QStringLiteral("an IPv6 address needs brackets"));
        hasPort = colons == 1;
    }
    QString text = QString::fromLatin1(authority);
    if (!hasPort) {
        if (defaultPort == 0)
            return badTarget(QStringLiteral("CONNECT needs host:port"));
        text += QStringLiteral(":%1").arg(defaultPort);
    }
    auto endpoint = parseEndpoint(text);
    if (!endpoint)
        return badTarget(endpoint.error().detail);
    if (endpoint->port == 0)
        return badTarget(QStringLiteral("port 0"));
    return endpoint;
}

QByteArray upstreamHead(const H1RequestHead &head, QByteArrayView version, QByteArrayView path,
                        QByteArrayView host)
{
    const QSet<QByteArray> drop = connectionOptions(head.headers);
    QByteArray out;
    out.reserve(256 + head.headers.size() * 48);
    out.append(head.method).append(' ').append(path).append(' ').append(version).append("\r\n");
    // RFC 9112, 3.2.2: a proxy replaces Host with the authority of the absolute-form target.
    appendField(out, "host", host);
    for (const Header &header : head.headers) {
        // Proxy-Authorization is for this proxy (RFC 9110, 11.7.2): never forwarded.
        if (header.name == "host" || header.name == "proxy-authorization" ||
            drop.contains(header.name))
            continue;
        appendField(out, header.name, header.value);
    }
    // One request per origin connection: the tunnel ends with the response (see HttpProxyClient).
    appendField(out, "connection", "close");
    appendField(out, "via", kVia); // RFC 9110, 7.6.3
    out.append("\r\n");
    return out;
}

QByteArrayView statusText(int status)
{
    switch (status) {
    case 505:
        return "HTTP Version Not Supported";
    default:
        return reasonPhrase(status);
    }
}

} // namespace

Result<HttpProxyRequest> parseProxyRequest(QByteArrayView head)
{
    // RFC 9112, 2.3: a version other than HTTP/1.x is answered with 505 before anything else
    // (an HTTP/2 preface "PRI * HTTP/2.0" lands here).
    const QList<QByteArray> parts = firstLine(head).toByteArray().split(' ');
    if (parts.size() == 3 && parts[2].startsWith("HTTP/") && !parts[2].startsWith("HTTP/1."))
        return requestError(505, ErrorCode::NotSupported,
                            QStringLiteral("HTTP version %1 is not supported")
                                .arg(QString::fromLatin1(parts[2].left(16))));
    auto parsed = parseRequestHead(head);
    if (!parsed)
        return badRequest(parsed.error().detail);
    const H1RequestHead &request = *parsed;

    HttpProxyRequest out;
    out.method = request.method;
    out.http10 = parts.size() == 3 && parts[2] == "HTTP/1.0";
    out.headRequest = request.method == "HEAD";
    // RFC 9112, 9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 here always closes.
    out.clientClose = out.http10 || hasToken(request.headers, "connection", "close") ||
                      hasToken(request.headers, "proxy-connection", "close");

    if (request.method == "CONNECT") {
        // RFC 9110, 9.3.6: CONNECT takes authority-form (host:port) only.
        if (request.target.startsWith('/') || request.target.contains("://"))
            return badTarget(QStringLiteral("CONNECT needs host:port, not a URI"));
        auto endpoint = parseAuthority(request.target, 0);
        if (!endpoint)
            return endpoint.error();
        out.kind = HttpProxyRequest::Kind::Connect;
        out.host = endpoint->host;
        out.port = endpoint->port;
        out.body = H1BodyDecoder::none();
        return out;
    }

    QByteArrayView target = request.target;
    QByteArrayView authority;
    QByteArrayView path;
    const qsizetype scheme = target.indexOf("://");
    if (scheme >= 0) {
        const QByteArray name = target.first(scheme).toByteArray().toLower();
        if (name == "https")
            return badTarget(QStringLiteral("https:// cannot be forwarded: use CONNECT (an "
                                            "HTTPS proxy setting, e.g. curl -p or https_proxy)"));
        if (name != "http")
            return badTarget(QStringLiteral("unsupported scheme \"%1\"")
                                 .arg(QString::fromLatin1(name.left(16))));
        const QByteArrayView rest = target.sliced(scheme + 3);
        qsizetype end = 0;
        while (end < rest.size() && rest[end] != '/' && rest[end] != '?' && rest[end] != '#')
            ++end;
        authority = rest.first(end);
        path = rest.sliced(end);
        // RFC 9110, 4.2.4: userinfo in an http URI is not sent on.
        if (authority.contains('@'))
            return badRequest(QStringLiteral("userinfo in the request target"));
    } else if (target.startsWith('/')) {
        // Origin-form: the client treats us as the origin; Host names the real one (RFC 9112,
        // 3.2.1).
        const QByteArray host = headerValue(request.headers, "host");
        if (host.isEmpty())
            return badRequest(QStringLiteral("origin-form request without Host"));
        authority = QByteArrayView(host);
        path = target;
        auto endpoint = parseAuthority(authority, 80);
        if (!endpoint)
            return endpoint.error();
        out.host = endpoint->host;
        out.port = endpoint->port;
    } else {
        return badTarget(QStringLiteral("unsupported request target form"));
    }
    if (scheme >= 0) {
        auto endpoint = parseAuthority(authority, 80);
        if (!endpoint)
            return endpoint.error();
        out.host = endpoint->host;
        out.port = endpoint->port;
    }
    if (const qsizetype fragment = path.indexOf('#'); fragment >= 0)
        path = path.first(fragment);
    QByteArray originPath = path.toByteArray();
    if (originPath.isEmpty() || originPath.startsWith('?'))
        originPath.prepend('/');

    // RFC 9112, 6.3 (3): both framings are a smuggling attempt or a broken client; refuse.
    if (!headerValue(request.headers, "transfer-encoding").isNull() &&
        !headerValue(request.headers, "content-length").isNull())
        return badRequest(QStringLiteral("both Content-Length and Transfer-Encoding"));
    auto body = H1BodyDecoder::forHeaders(request.headers, false);
    if (!body) {
        // RFC 9112, 6.1: an unknown transfer coding is answered with 501.
        if (!headerValue(request.headers, "transfer-encoding").isNull())
            return requestError(501, ErrorCode::NotSupported, body.error().detail);
        return badRequest(body.error().detail);
    }
    out.kind = HttpProxyRequest::Kind::Forward;
    out.body = *body;
    out.upstreamHead =
        upstreamHead(request, out.http10 ? "HTTP/1.0" : "HTTP/1.1", originPath, authority);
    return out;
}

Result<HttpOriginResponse> parseOriginResponse(QByteArrayView head, const HttpProxyRequest &request)
{
    auto parsed = parseResponseHead(head);
    if (!parsed) {
        Error error = parsed.error();
        error.httpStatus = 502;
        return error;
    }
    HttpOriginResponse out;
    out.status = parsed->status;
    out.reason = parsed->reason;
    if (out.status == 101)
        return requestError(502, ErrorCode::NotSupported,
                            QStringLiteral("the origin switched protocols; upgrades are not "
                                           "forwarded"));
    out.interim = out.status < 200;
    const QSet<QByteArray> drop = connectionOptions(parsed->headers);
    const bool chunked = !headerValue(parsed->headers, "transfer-encoding").isNull();
    for (const Header &header : std::as_const(parsed->headers)) {
        if (drop.contains(header.name))
            continue;
        // RFC 9112, 6.3 (3): Transfer-Encoding overrides Content-Length, which must go.
        if (chunked && header.name == "content-length")
            continue;
        out.headers.append(header);
    }
    // RFC 9112, 6.3 (1): HEAD, 1xx, 204 and 304 responses end with their head.
    if (out.interim || request.headRequest || out.status == 204 || out.status == 304) {
        out.body = H1BodyDecoder::none();
        return out;
    }
    auto body = H1BodyDecoder::forHeaders(parsed->headers, true);
    if (!body) {
        Error error = body.error();
        error.httpStatus = 502;
        return error;
    }
    out.body = *body;
    out.untilClose = body->mode() == H1BodyDecoder::Mode::UntilClose;
    return out;
}

QByteArray clientResponseHead(const HttpOriginResponse &response, bool closeAfter)
{
    QByteArray out;
    out.reserve(256 + response.headers.size() * 48);
    out.append("HTTP/1.1 ").append(QByteArray::number(response.status)).append(' ');
    out.append(response.reason.isEmpty() ? statusText(response.status).toByteArray()
                                         : response.reason);
    out.append("\r\n");
    for (const Header &header : response.headers)
        appendField(out, header.name, header.value);
    if (!response.interim) {
        appendField(out, "via", kVia);
        if (closeAfter)
            appendField(out, "connection", "close");
    }
    out.append("\r\n");
    return out;
}

QByteArray errorResponse(int status, const Error &error)
{
    const QByteArray body = QStringLiteral("%1 %2\n%3\n")
                                .arg(status)
                                .arg(QString::fromLatin1(statusText(status)), error.toString())
                                .toUtf8();
    QByteArray out =
        "HTTP/1.1 " + QByteArray::number(status) + ' ' + statusText(status).toByteArray() + "\r\n";
    appendField(out, "content-type", "text/plain; charset=utf-8");
    appendField(out, "content-length", QByteArray::number(body.size()));
    appendField(out, "connection", "close");
    appendField(out, "via", kVia);
    out.append("\r\n");
    out.append(body);
    return out;
}

int statusForTunnelError(const Error &error)
{
    switch (error.code) {
    case ErrorCode::HandshakeRejected:
        switch (error.httpStatus) {
        case 400:
        case 403:
        case 503:
        case 504:
            return error.httpStatus;
        case 429:
            return 503;
        default:
            return 502;
        }
    case ErrorCode::Forbidden:
        return 403;
    case ErrorCode::BadHost:
    case ErrorCode::BadPort:
    case ErrorCode::BadTarget:
        return 400;
    case ErrorCode::Overload:
        return 503;
    case ErrorCode::UpstreamTimeout:
    case ErrorCode::ConnectTimeout:
    case ErrorCode::HandshakeTimeout:
    case ErrorCode::CheckoutTimeout:
    case ErrorCode::RaceTimeout:
    case ErrorCode::Timeout:
        return 504;
    default:
        return 502;
    }
}

} // namespace qmasque
