#include "transport/h2/H2Headers.h"

#include "transport/tls/HttpFieldChecks.h"
#include "wire/HttpToken.h"

namespace qmasque {

void H2HeaderBlock::add(QByteArrayView name, QByteArrayView value)
{
    m_fields.emplace_back(QByteArray(name.data(), name.size()),
                          QByteArray(value.data(), value.size()));
}

const nghttp2_nv *H2HeaderBlock::nv()
{
    m_nv.clear();
    m_nv.reserve(m_fields.size());
    for (auto &[name, value] : m_fields) {
        m_nv.push_back(nghttp2_nv{reinterpret_cast<uint8_t *>(name.data()),
                                  reinterpret_cast<uint8_t *>(value.data()), size_t(name.size()),
                                  size_t(value.size()), NGHTTP2_NV_FLAG_NONE});
    }
    return m_nv.data();
}

namespace {

Status addRegularFields(H2HeaderBlock &block, const HeaderList &headers)
{
    if (Status checked = checkFields(headers); !checked)
        return checked;
    for (const Header &header : headers) {
        // RFC 9113, 8.2.2: "te" may only carry "trailers".
        const QByteArray name = header.name.toLower();
        if (name == "te" && header.value != "trailers")
            return Error(ErrorCode::ReservedHeader, QStringLiteral("te other than trailers"));
        block.add(name, header.value);
    }
    return {};
}

} // namespace

Result<H2HeaderBlock> requestBlock(const Request &request)
{
    for (const auto &[what, value] :
         {std::pair{"method", &request.method}, std::pair{"protocol", &request.protocol},
          std::pair{"scheme", &request.scheme}, std::pair{"authority", &request.authority},
          std::pair{"path", &request.path}}) {
        if (Status checked = checkHeadPart(what, *value); !checked)
            return checked.error();
    }
    if (!wire::isHttpToken(request.method))
        return Error(ErrorCode::InvalidArgument, QStringLiteral("request method is not a token"));
    H2HeaderBlock block;
    block.add(":method", request.method);
    if (request.isClassicConnect()) {
        if (request.authority.isEmpty())
            return Error(ErrorCode::InvalidArgument,
                         QStringLiteral("classic CONNECT needs a host:port authority"));
        block.add(":authority", request.authority);
    } else {
        if (request.scheme.isEmpty() || request.path.isEmpty())
            return Error(ErrorCode::InvalidArgument,
                         QStringLiteral("the request needs :scheme and :path"));
        if (request.isExtendedConnect()) {
            if (!wire::isHttpToken(request.protocol))
                return Error(ErrorCode::InvalidArgument,
                             QStringLiteral(":protocol is not a token"));
            block.add(":protocol", request.protocol);
        }
        block.add(":scheme", request.scheme);
        if (!request.authority.isEmpty())
            block.add(":authority", request.authority);
        block.add(":path", request.path);
    }
    if (Status fields = addRegularFields(block, request.headers); !fields)
        return fields.error();
    return block;
}

Result<H2HeaderBlock> responseBlock(const Response &response)
{
    if (response.status < 200 || response.status > 599)
        return Error(ErrorCode::InvalidArgument,
                     QStringLiteral("HTTP/2 response status %1 is not final").arg(response.status));
    H2HeaderBlock block;
    block.add(":status", QByteArray::number(response.status));
    if (Status fields = addRegularFields(block, response.headers); !fields)
        return fields.error();
    return block;
}

void H2ReceivedHead::add(QByteArrayView name, QByteArrayView value)
{
    bytes += name.size() + value.size();
    if (name.startsWith(':')) {
        const QByteArray copy(value.data(), value.size());
        if (name == ":method")
            method = copy;
        else if (name == ":protocol")
            protocol = copy;
        else if (name == ":scheme")
            scheme = copy;
        else if (name == ":authority")
            authority = copy;
        else if (name == ":path")
            path = copy;
        else if (name == ":status")
            status = copy;
        return;
    }
    headers.append(
        Header{QByteArray(name.data(), name.size()), QByteArray(value.data(), value.size())});
}

void H2ReceivedHead::clear()
{
    *this = H2ReceivedHead();
}

IncomingRequest H2ReceivedHead::toRequest() const
{
    IncomingRequest request;
    request.method = method;
    request.protocol = protocol;
    request.scheme = scheme;
    request.authority = authority;
    request.path = path;
    request.headers = headers;
    return request;
}

int H2ReceivedHead::statusCode() const
{
    bool ok = false;
    const int code = status.toInt(&ok);
    return ok ? code : 0;
}

} // namespace qmasque
