#include "transport/h3/H3Headers.h"

namespace qmasque::h3 {

namespace {

bool hasForbiddenCharacter(QByteArrayView text)
{
    for (const char c : text) {
        if (c == '\r' || c == '\n' || c == '\0')
            return true;
    }
    return false;
}

// RFC 9114, 4.2: connection-specific fields are malformed in HTTP/3.
bool isConnectionSpecific(QByteArrayView lowerName)
{
    return lowerName == "connection" || lowerName == "keep-alive" ||
           lowerName == "proxy-connection" || lowerName == "transfer-encoding" ||
           lowerName == "upgrade";
}

nghttp3_nv field(QByteArrayView name, QByteArrayView value)
{
    nghttp3_nv nv;
    nv.name = reinterpret_cast<const uint8_t *>(name.data());
    nv.namelen = size_t(name.size());
    nv.value = reinterpret_cast<const uint8_t *>(value.data());
    nv.valuelen = size_t(value.size());
    nv.flags = NGHTTP3_NV_FLAG_NONE;
    return nv;
}

Status addFields(H3HeaderBlock &block, const HeaderList &headers)
{
    for (const Header &header : headers) {
        if (header.name.isEmpty() || hasForbiddenCharacter(header.name) ||
            hasForbiddenCharacter(header.value)) {
            return Error(ErrorCode::HeaderInjection,
                         QStringLiteral("field %1 contains CR, LF or NUL, or has no name")
                             .arg(QString::fromLatin1(header.name.toPercentEncoding())));
        }
        QByteArray name = header.name.toLower();
        if (name.startsWith(':') || isConnectionSpecific(name)) {
            return Error(
                ErrorCode::ReservedHeader,
                QStringLiteral("field %1 is not allowed in HTTP/3").arg(QString::fromLatin1(name)));
        }
        block.storage.push_back(std::move(name));
    }
    // Names are stored first so the views below stay valid (no reallocation after this).
    for (qsizetype i = 0; i < headers.size(); ++i)
        block.fields.push_back(field(block.storage[size_t(i)], headers[i].value));
    return {};
}

Status checkPseudo(QByteArrayView value)
{
    if (hasForbiddenCharacter(value)) {
        return Error(ErrorCode::HeaderInjection,
                     QStringLiteral("request line contains CR, LF or NUL"));
    }
    return {};
}

} // namespace

Result<H3HeaderBlock> requestHeaders(const Request &request)
{
    H3HeaderBlock block;
    block.storage.reserve(size_t(request.headers.size()));
    block.fields.reserve(size_t(request.headers.size()) + 5);
    for (QByteArrayView value : {QByteArrayView(request.method), QByteArrayView(request.protocol),
                                 QByteArrayView(request.scheme), QByteArrayView(request.authority),
                                 QByteArrayView(request.path)}) {
        if (Status ok = checkPseudo(value); !ok)
            return ok.error();
    }
    static const QByteArray kRoot = QByteArrayLiteral("/");
    block.fields.push_back(field(":method", request.method));
    if (request.isExtendedConnect()) {
        block.fields.push_back(field(":protocol", request.protocol));
        block.fields.push_back(field(":scheme", request.scheme));
        block.fields.push_back(field(":authority", request.authority));
        block.fields.push_back(field(":path", request.path.isEmpty() ? kRoot : request.path));
    } else if (request.isClassicConnect()) {
        block.fields.push_back(field(":authority", request.authority));
    } else {
        block.fields.push_back(field(":scheme", request.scheme));
        block.fields.push_back(field(":authority", request.authority));
        block.fields.push_back(field(":path", request.path.isEmpty() ? kRoot : request.path));
    }
    if (Status ok = addFields(block, request.headers); !ok)
        return ok.error();
    return block;
}

Result<H3HeaderBlock> responseHeaders(const Response &response)
{
    if (response.status < 100 || response.status > 999)
        return Error(ErrorCode::InvalidArgument,
                     QStringLiteral("status %1 out of range").arg(response.status));
    H3HeaderBlock block;
    block.storage.reserve(size_t(response.headers.size()) + 1);
    block.fields.reserve(size_t(response.headers.size()) + 1);
    // The status text lives at the end of storage (pushed after the field names).
    if (Status ok = addFields(block, response.headers); !ok)
        return ok.error();
    block.storage.push_back(QByteArray::number(response.status));
    block.fields.insert(block.fields.begin(), field(":status", block.storage.back()));
    return block;
}

void H3FieldCollector::clear()
{
    request = IncomingRequest();
    response = Response();
}

void H3FieldCollector::add(QByteArrayView name, QByteArrayView value)
{
    if (name.startsWith(':')) {
        if (name == ":status") {
            bool ok = false;
            const int status = value.toInt(&ok);
            response.status = ok ? status : 0;
        } else if (name == ":method") {
            request.method = value.toByteArray();
        } else if (name == ":protocol") {
            request.protocol = value.toByteArray();
        } else if (name == ":scheme") {
            request.scheme = value.toByteArray();
        } else if (name == ":authority") {
            request.authority = value.toByteArray();
        } else if (name == ":path") {
            request.path = value.toByteArray();
        }
        return;
    }
    Header header{name.toByteArray(), value.toByteArray()};
    (server ? request.headers : response.headers).append(std::move(header));
}

} // namespace qmasque::h3
