#pragma once

#include "api/Result.h"
#include "transport/ServerConnection.h"

#include <nghttp2/nghttp2.h>

#include <vector>

namespace qmasque {

// H2HeaderBlock: the fields of one HEADERS frame to submit, owning their bytes, with the
// nghttp2_nv view nghttp2 copies from during the submit call.
class H2HeaderBlock
{
public:
    void add(QByteArrayView name, QByteArrayView value);
    // nv: valid until the next add() or the block's destruction.
    const nghttp2_nv *nv();
    size_t size() const noexcept { return m_fields.size(); }

private:
    std::vector<std::pair<QByteArray, QByteArray>> m_fields;
    std::vector<nghttp2_nv> m_nv;
};

// requestBlock: the HEADERS of a client request (RFC 9113, 8.3.1; RFC 8441, 4 for :protocol;
// RFC 9113, 8.5 for classic CONNECT: only :method and :authority). Field names are lower-cased.
// Errors: header_injection, malformed_header, reserved_header, invalid_argument (missing parts).
Result<H2HeaderBlock> requestBlock(const Request &request);

// responseBlock: the HEADERS of a response (RFC 9113, 8.3.2). 101 is not allowed on h2 (8.6).
// Errors: as requestBlock, invalid_argument for a status outside 200..599.
Result<H2HeaderBlock> responseBlock(const Response &response);

// H2ReceivedHead: a header block as it arrives field by field, pseudo-headers split out.
struct H2ReceivedHead
{
    QByteArray method, protocol, scheme, authority, path, status;
    HeaderList headers;
    qint64 bytes = 0; // name + value bytes so far, against the advertised header list limit

    void add(QByteArrayView name, QByteArrayView value);
    void clear();
    IncomingRequest toRequest() const;
    // statusCode: :status as a number, 0 when absent or malformed (nghttp2 validates it).
    int statusCode() const;
};

} // namespace qmasque
