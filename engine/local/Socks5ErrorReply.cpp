#include "local/Socks5ErrorReply.h"

namespace qmasque::socks5 {

Reply replyForError(const Error &error)
{
    // RFC 9209, 2.3: the proxy names why it refused; that is closer to what the SOCKS client
    // asked (can the target be reached?) than the HTTP status, which is 502 for most of them.
    const QString &type = error.proxyErrorType;
    if (type == u"connection_refused")
        return Reply::ConnectionRefused;
    if (type == u"destination_ip_prohibited" || type == u"http_request_denied")
        return Reply::NotAllowed;
    if (type == u"dns_error" || type == u"dns_timeout" || type == u"connection_timeout")
        return Reply::HostUnreachable;
    if (type == u"destination_ip_unroutable" || type == u"destination_unavailable")
        return Reply::NetworkUnreachable;
    if (error.httpStatus == 403 || error.httpStatus == 401 || error.httpStatus == 407)
        return Reply::NotAllowed;
    if (error.code == ErrorCode::Forbidden)
        return Reply::NotAllowed;
    if (error.code == ErrorCode::ResolutionFailed)
        return Reply::HostUnreachable;
    return Reply::GeneralFailure;
}

} // namespace qmasque::socks5
