#include "transport/h1/H1Codec.h"

#include "transport/tls/HttpFieldChecks.h"
#include "wire/HttpToken.h"

namespace qmasque {

namespace {

constexpr qsizetype kMaxChunkLine = 4096;

Error malformed(const QString &what)
{
    return Error(ErrorCode::MalformedHeader, what);
}

// splitLines: the head's lines without their CRLF, the blank line excluded. A bare CR or LF
// inside a line is left in place for the field checks to refuse.
QList<QByteArrayView> splitLines(QByteArrayView head)
{
    QList<QByteArrayView> lines;
    qsizetype start = 0;
    while (start < head.size()) {
        const qsizetype end = head.indexOf(QByteArrayView("\r\n"), start);
        if (end < 0 || end == start)
            break;
        lines.append(head.sliced(start, end - start));
        start = end + 2;
    }
    return lines;
}

Result<HeaderList> parseFields(const QList<QByteArrayView> &lines)
{
    HeaderList headers;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArrayView line = lines[i];
        // RFC 9112, 5.2: obsolete line folding is refused here, like everything ambiguous.
        if (line.startsWith(' ') || line.startsWith('\t'))
            return malformed(QStringLiteral("obsolete line folding"));
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            return malformed(QStringLiteral("field line without a name"));
        const QByteArrayView name = line.first(colon);
        // RFC 9112, 5.1: no whitespace between the name and the colon.
        if (!wire::isHttpToken(name))
            return malformed(QStringLiteral("field name is not a token"));
        const QByteArrayView value = line.sliced(colon + 1).trimmed();
        if (hasLineBreakOrNul(value))
            return malformed(QStringLiteral("CR, LF or NUL in a field value"));
        headers.append(Header{name.toByteArray().toLower(), value.toByteArray()});
    }
    return headers;
}

} // namespace

Result<qsizetype> findHeadEnd(QByteArrayView buffer, qsizetype limit)
{
    const qsizetype end = buffer.first(qMin(buffer.size(), limit)).indexOf("\r\n\r\n");
    if (end >= 0)
        return end + 4;
    if (buffer.size() >= limit)
        return Error(ErrorCode::HeadTooLarge,
                     QStringLiteral("no complete HTTP/1.1 head in %1 bytes").arg(limit));
    return qsizetype(0);
}

Result<H1RequestHead> parseRequestHead(QByteArrayView head)
{
    const QList<QByteArrayView> lines = splitLines(head);
    if (lines.isEmpty())
        return malformed(QStringLiteral("empty request"));
    // RFC 9112, 3: method SP request-target SP HTTP-version
    const QList<QByteArray> parts = lines.first().toByteArray().split(' ');
    if (parts.size() != 3 || !wire::isHttpToken(parts[0]) || parts[1].isEmpty() ||
        !parts[2].startsWith("HTTP/1.") || hasLineBreakOrNul(parts[1]))
        return malformed(QStringLiteral("bad request line"));
    auto fields = parseFields(lines);
    if (!fields)
        return fields.error();
    H1RequestHead request;
    request.method = parts[0];
    request.target = parts[1];
    request.headers = std::move(fields.value());
    return request;
}

Result<H1ResponseHead> parseResponseHead(QByteArrayView head)
{
    const QList<QByteArrayView> lines = splitLines(head);
    if (lines.isEmpty())
        return Error(ErrorCode::BadStatusLine, QStringLiteral("empty response"));
    // RFC 9112, 4: HTTP-version SP 3DIGIT SP [reason-phrase]
    const QByteArrayView statusLine = lines.first();
    const bool shapeOk = statusLine.size() >= 12 && statusLine.startsWith("HTTP/1.") &&
                         statusLine[8] == ' ' && (statusLine.size() == 12 || statusLine[12] == ' ');
    bool numberOk = false;
    const int status = shapeOk ? statusLine.sliced(9, 3).toInt(&numberOk) : 0;
    if (!shapeOk || !numberOk || status < 100 || status > 599 || hasLineBreakOrNul(statusLine))
        return Error(
            ErrorCode::BadStatusLine,
            QStringLiteral("bad status line \"%1\"")
                .arg(QString::fromLatin1(statusLine.first(qMin<qsizetype>(80, statusLine.size()))
                                             .toByteArray()
                                             .toPercentEncoding(" /"))));
    auto fields = parseFields(lines);
    if (!fields)
        return fields.error();
    H1ResponseHead response;
    response.status = status;
    response.reason = statusLine.size() > 13 ? statusLine.sliced(13).toByteArray() : QByteArray();
    response.headers = std::move(fields.value());
    return response;
}

bool hasToken(const HeaderList &headers, QByteArrayView name, QByteArrayView token)
{
    for (const Header &header : headers) {
        if (header.name.compare(name, Qt::CaseInsensitive) != 0)
            continue;
        for (const QByteArray &item : header.value.split(',')) {
            if (item.trimmed().compare(token, Qt::CaseInsensitive) == 0)
                return true;
        }
    }
    return false;
}

void appendField(QByteArray &out, QByteArrayView name, QByteArrayView value)
{
    bool upper = true;
    for (char c : name) {
        out.append(upper && c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c);
        upper = c == '-';
    }
    out.append(": ");
    out.append(value.data(), value.size());
    out.append("\r\n");
}

QByteArrayView reasonPhrase(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 407:
        return "Proxy Authentication Required";
    case 408:
        return "Request Timeout";
    case 421:
        return "Misdirected Request";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Status";
    }
}

Result<H1BodyDecoder> H1BodyDecoder::forHeaders(const HeaderList &headers, bool isResponse)
{
    H1BodyDecoder decoder;
    decoder.m_finished = false;
    const QByteArray transferEncoding = headerValue(headers, "transfer-encoding");
    if (!transferEncoding.isNull()) {
        // RFC 9112, 6.3 (4): chunked must be the final coding; others we cannot decode.
        if (transferEncoding.trimmed().compare("chunked", Qt::CaseInsensitive) != 0)
            return malformed(QStringLiteral("unsupported transfer coding"));
        decoder.m_mode = Mode::Chunked;
        return decoder;
    }
    QByteArray length;
    for (const Header &header : headers) {
        if (header.name != "content-length")
            continue;
        if (!length.isNull() && header.value != length) // RFC 9112, 6.3 (5)
            return malformed(QStringLiteral("conflicting Content-Length"));
        length = header.value;
    }
    if (!length.isNull()) {
        bool ok = false;
        const qint64 value = length.toLongLong(&ok);
        if (!ok || value < 0 || length.startsWith('+'))
            return malformed(QStringLiteral("bad Content-Length"));
        decoder.m_mode = Mode::Length;
        decoder.m_remaining = value;
        decoder.m_finished = value == 0;
        return decoder;
    }
    if (isResponse) {
        decoder.m_mode = Mode::UntilClose;
        return decoder;
    }
    return none();
}

Result<qsizetype> H1BodyDecoder::feed(QByteArrayView input, QByteArray &out)
{
    qsizetype used = 0;
    while (used < input.size() && !m_finished) {
        const QByteArrayView rest = input.sliced(used);
        switch (m_mode) {
        case Mode::None:
            m_finished = true;
            break;
        case Mode::UntilClose:
            out.append(rest.data(), rest.size());
            used += rest.size();
            break;
        case Mode::Length: {
            const qsizetype take = qsizetype(qMin<qint64>(m_remaining, rest.size()));
            out.append(rest.data(), take);
            used += take;
            m_remaining -= take;
            m_finished = m_remaining == 0;
            break;
        }
        case Mode::Chunked: {
            if (m_chunkState == ChunkState::Data) {
                const qsizetype take = qsizetype(qMin<qint64>(m_remaining, rest.size()));
                out.append(rest.data(), take);
                used += take;
                m_remaining -= take;
                if (m_remaining == 0)
                    m_chunkState = ChunkState::DataEnd;
                break;
            }
            // Line-oriented states: the chunk size, the CRLF after data, the trailer section.
            const qsizetype newline = rest.indexOf('\n');
            const qsizetype take = newline < 0 ? rest.size() : newline + 1;
            m_line.append(rest.data(), take);
            used += take;
            if (m_line.size() > kMaxChunkLine)
                return malformed(QStringLiteral("chunk line too long"));
            if (newline < 0)
                break;
            if (!m_line.endsWith("\r\n"))
                return malformed(QStringLiteral("chunk line without CRLF"));
            const QByteArray line = m_line.chopped(2);
            m_line.clear();
            if (m_chunkState == ChunkState::DataEnd) {
                if (!line.isEmpty())
                    return malformed(QStringLiteral("chunk data longer than its size"));
                m_chunkState = ChunkState::Size;
            } else if (m_chunkState == ChunkState::Size) {
                const qsizetype extension = line.indexOf(';'); // chunk extensions are ignored
                const QByteArray size = (extension < 0 ? line : line.first(extension)).trimmed();
                bool ok = false;
                m_remaining = size.toLongLong(&ok, 16);
                if (!ok || m_remaining < 0 || size.isEmpty())
                    return malformed(QStringLiteral("bad chunk size"));
                m_chunkState = m_remaining == 0 ? ChunkState::Trailer : ChunkState::Data;
            } else if (line.isEmpty()) { // the blank line after the trailers
                m_finished = true;
            }
            break;
        }
        }
    }
    return used;
}

} // namespace qmasque
