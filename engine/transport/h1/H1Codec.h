#pragma once

#include "api/Result.h"
#include "transport/HttpTypes.h"

#include <QtCore/QByteArray>

namespace qmasque {

// The HTTP/1.1 message syntax (RFC 9112) the h1 transport and server need: heads (request line or
// status line, fields, blank line) and message body framing. Pure functions; no I/O.

struct H1RequestHead
{
    QByteArray method;
    QByteArray target;  // origin-form path, or authority-form host:port for CONNECT
    HeaderList headers; // names lower-cased
};

struct H1ResponseHead
{
    int status = 0;
    QByteArray reason;
    HeaderList headers; // names lower-cased
};

// findHeadEnd: the length of the head at the start of `buffer` including its blank line, or 0
// while incomplete. Error head_too_large when no complete head fits in `limit` bytes.
Result<qsizetype> findHeadEnd(QByteArrayView buffer, qsizetype limit);

// parseRequestHead / parseResponseHead: one complete head as findHeadEnd delimited it.
// Errors: bad_status_line (response status line), malformed_header (request line or a field
// line: no colon, a name that is not a token, whitespace before the colon, obsolete folding,
// CR/LF/NUL inside). Lines end with CRLF.
Result<H1RequestHead> parseRequestHead(QByteArrayView head);
Result<H1ResponseHead> parseResponseHead(QByteArrayView head);

// hasToken: whether a comma-separated field (Connection, Upgrade) lists `token`
// (case-insensitive), in any of the fields named `name`.
bool hasToken(const HeaderList &headers, QByteArrayView name, QByteArrayView token);

// appendField: "Name: value\r\n", the lower-case name written in the usual capitalisation
// ("capsule-protocol" -> "Capsule-Protocol"); field names are case-insensitive (RFC 9110, 5.1).
void appendField(QByteArray &out, QByteArrayView name, QByteArrayView value);

// reasonPhrase: the standard reason phrase of a status ("Not Found"), or "Status".
QByteArrayView reasonPhrase(int status);

// H1BodyDecoder: removes message framing (RFC 9112, 6): a Content-Length body, a chunked body
// (extensions and trailers skipped), or a body delimited by the connection close.
class H1BodyDecoder
{
public:
    enum class Mode : quint8
    {
        None,       // no body
        Length,     // Content-Length
        Chunked,    // Transfer-Encoding: chunked
        UntilClose, // response without framing: ends when the connection closes
    };

    H1BodyDecoder() = default;
    // forHeaders: the framing a message with these fields uses (RFC 9112, 6.3). `isResponse`
    // selects UntilClose for unframed responses (requests have no body then). Errors:
    // malformed_header (bad or conflicting Content-Length, unsupported transfer coding).
    static Result<H1BodyDecoder> forHeaders(const HeaderList &headers, bool isResponse);
    static H1BodyDecoder none() { return H1BodyDecoder(); }

    Mode mode() const noexcept { return m_mode; }
    bool finished() const noexcept { return m_finished; }

    // feed: decodes bytes from `input`, appending body bytes to `out`; returns how many input
    // bytes were used (all of them unless the body finished first). Error malformed_header on
    // bad chunk framing.
    Result<qsizetype> feed(QByteArrayView input, QByteArray &out);

private:
    enum class ChunkState : quint8
    {
        Size,
        Data,
        DataEnd,
        Trailer
    };

    Mode m_mode = Mode::None;
    bool m_finished = true;
    qint64 m_remaining = 0;
    ChunkState m_chunkState = ChunkState::Size;
    QByteArray m_line; // partial chunk-size or trailer line
};

} // namespace qmasque
