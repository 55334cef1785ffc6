#pragma once

#include "api/Result.h"
#include "transport/HttpTypes.h"
#include "transport/ServerConnection.h"

#include <nghttp3/nghttp3.h>

#include <vector>

namespace qmasque::h3 {

// H3HeaderBlock: a field section ready for nghttp3_conn_submit_*: the nghttp3_nv array and the
// lower-cased names it points to. The values point into the Request/Response it was made from,
// which must outlive the submit call (nghttp3 copies the fields during it).
struct H3HeaderBlock
{
    std::vector<QByteArray> storage;
    std::vector<nghttp3_nv> fields;
};

// requestHeaders: the wire form of `request` (RFC 9114, 4.3.1; RFC 9220 for :protocol):
//  - extended CONNECT: :method CONNECT, :protocol, :scheme, :authority, :path;
//  - classic CONNECT: :method CONNECT, :authority only (RFC 9114, 4.4);
//  - anything else: :method, :scheme, :authority, :path ("/" when empty);
// then the regular fields. Errors: header_injection (CR, LF or NUL in a name or value, or an
// empty name), reserved_header (a pseudo-header or a connection-specific field, RFC 9114,
// 4.2).
Result<H3HeaderBlock> requestHeaders(const Request &request);
// responseHeaders: :status and the fields; the same errors.
Result<H3HeaderBlock> responseHeaders(const Response &response);

// H3FieldCollector: builds a Response or an IncomingRequest from the fields nghttp3 hands over
// one by one (nghttp3 has already validated the section, RFC 9114, 4.1.2).
struct H3FieldCollector
{
    bool server = false; // fields go to `request` (server) or `response` (client)
    IncomingRequest request;
    Response response;

    void clear();
    void add(QByteArrayView name, QByteArrayView value);
};

} // namespace qmasque::h3
