#include "proxy/ProxyRefusal.h"

#include "transport/ServerConnection.h"
#include "wire/ProxyStatus.h"

namespace qmasque {

namespace {

const char *reasonPhraseOf(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 407:
        return "Proxy Authentication Required";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Error";
    }
}

} // namespace

int refusalStatus(const Error &reason) noexcept
{
    switch (reason.code) {
    case ErrorCode::BadMethod:
        return 405;
    case ErrorCode::BadProtocol:
        return 501;
    case ErrorCode::BadPath:
    case ErrorCode::MissingTemplateVariable:
        return 404;
    case ErrorCode::BadHost:
    case ErrorCode::BadPort:
    case ErrorCode::BadTarget:
    case ErrorCode::BadIpProto:
    case ErrorCode::MalformedHeader:
        return 400;
    case ErrorCode::ResolutionFailed:
    case ErrorCode::DnsFailed:
    case ErrorCode::ConnectionRefused:
    case ErrorCode::NetworkUnreachable:
        return 502;
    case ErrorCode::UpstreamTimeout:
    case ErrorCode::ConnectTimeout:
        return 504;
    case ErrorCode::Forbidden:
        return 403;
    case ErrorCode::AuthRequired:
        return 407;
    case ErrorCode::Overload:
        return 503;
    default:
        break;
    }
    if (reason.httpStatus >= 400 && reason.httpStatus <= 599)
        return reason.httpStatus;
    return 502;
}

QString refusalErrorType(const Error &reason)
{
    switch (reason.code) {
    case ErrorCode::BadMethod:
    case ErrorCode::BadProtocol:
    case ErrorCode::BadPath:
    case ErrorCode::MissingTemplateVariable:
    case ErrorCode::BadHost:
    case ErrorCode::BadPort:
    case ErrorCode::BadTarget:
    case ErrorCode::BadIpProto:
    case ErrorCode::MalformedHeader:
        return QStringLiteral("http_protocol_error");
    case ErrorCode::ResolutionFailed:
    case ErrorCode::DnsFailed:
        return QStringLiteral("dns_error");
    case ErrorCode::ConnectionRefused:
        return QStringLiteral("connection_refused");
    case ErrorCode::NetworkUnreachable:
        return QStringLiteral("destination_ip_unroutable");
    case ErrorCode::UpstreamTimeout:
    case ErrorCode::ConnectTimeout:
        return QStringLiteral("connection_timeout");
    case ErrorCode::Forbidden:
        return QStringLiteral("destination_ip_prohibited");
    case ErrorCode::AuthRequired:
        return QStringLiteral("http_request_denied");
    default:
        return QStringLiteral("proxy_internal_error");
    }
}

RefusalMessage buildRefusal(const Error &reason, const QString &proxyName,
                            const HeaderList &extraHeaders)
{
    RefusalMessage message;
    const int status = refusalStatus(reason);
    message.response.status = status;

    wire::ProxyStatusEntry entry;
    entry.proxy = proxyName;
    entry.error = refusalErrorType(reason);
    entry.details = reason.detail.isEmpty() ? QString::fromLatin1(reason.name()) : reason.detail;
    if (entry.error == u"dns_error" && !reason.proxyErrorDetails.isEmpty())
        entry.rcode = reason.proxyErrorDetails; // RFC 9209, 2.3.2
    message.response.headers.append(Header{"proxy-status", wire::formatProxyStatus({entry})});
    if (status == 405)
        message.response.headers.append(Header{"allow", "CONNECT"}); // RFC 9110, 15.5.6
    message.response.headers.append(Header{"content-type", "text/plain; charset=utf-8"});
    message.response.headers.append(extraHeaders);

    message.body = QByteArray::number(status) + ' ' + reasonPhraseOf(status) + ": " +
                   entry.details.toUtf8().left(512).replace('\n', ' ').replace('\r', ' ') + '\n';
    return message;
}

void sendRefusal(ServerConnection *connection, StreamId id, const RefusalMessage &message)
{
    if (!connection || !connection->submitResponse(id, message.response, false).ok())
        return;
    (void)connection->sendStreamData(id, message.body); // a short body fits any send buffer
    (void)connection->endStream(id);
}

} // namespace qmasque
