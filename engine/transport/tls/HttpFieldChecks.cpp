#include "transport/tls/HttpFieldChecks.h"

#include "wire/HttpToken.h"

namespace qmasque {

bool hasLineBreakOrNul(QByteArrayView text) noexcept
{
    for (char c : text) {
        if (c == '\r' || c == '\n' || c == '\0')
            return true;
    }
    return false;
}

bool isConnectionSpecific(QByteArrayView lowerName) noexcept
{
    return lowerName == "connection" || lowerName == "keep-alive" ||
           lowerName == "proxy-connection" || lowerName == "transfer-encoding" ||
           lowerName == "upgrade";
}

Status checkFields(const HeaderList &headers)
{
    for (const Header &header : headers) {
        if (hasLineBreakOrNul(header.name) || hasLineBreakOrNul(header.value))
            return Error(ErrorCode::HeaderInjection,
                         QStringLiteral("CR, LF or NUL in header field %1")
                             .arg(QString::fromLatin1(header.name.toPercentEncoding())));
        if (header.name.startsWith(':'))
            return Error(ErrorCode::ReservedHeader,
                         QStringLiteral("pseudo-header %1 among regular fields")
                             .arg(QString::fromLatin1(header.name)));
        if (!wire::isHttpToken(header.name))
            return Error(ErrorCode::MalformedHeader,
                         QStringLiteral("header name %1 is not a token")
                             .arg(QString::fromLatin1(header.name.toPercentEncoding())));
        if (isConnectionSpecific(header.name.toLower()))
            return Error(ErrorCode::ReservedHeader,
                         QStringLiteral("connection-specific header %1 is set by the transport")
                             .arg(QString::fromLatin1(header.name)));
    }
    return {};
}

Status checkHeadPart(QByteArrayView what, QByteArrayView value, bool allowSpace)
{
    if (hasLineBreakOrNul(value) || (!allowSpace && value.contains(' ')))
        return Error(ErrorCode::HeaderInjection,
                     QStringLiteral("CR, LF, NUL or space in the request %1")
                         .arg(QString::fromLatin1(what)));
    return {};
}

} // namespace qmasque
