#pragma once

#include "api/Error.h"
#include "api/Types.h"
#include "transport/HttpTypes.h"

#include <QtCore/QByteArray>
#include <QtCore/QString>

namespace qmasque {

class ServerConnection;

// How the proxy refuses a tunnel request (erlang-masque.md 6.4, RFC 9209): the HTTP status and
// the Proxy-Status error type follow from the Error's code:
//
//   bad_method 405, bad_protocol 501, bad_path / missing_template_variable 404,
//   bad_host / bad_port / bad_target / bad_ipproto / malformed_header 400   http_protocol_error
//   resolution_failed / dns_failed 502                                      dns_error
//   connection_refused 502                                                  connection_refused
//   network_unreachable 502 destination_ip_unroutable upstream_timeout / connect_timeout 504
//   connection_timeout forbidden 403 destination_ip_prohibited auth_required 407
//   http_request_denied overload 503 proxy_internal_error any other code with Error::httpStatus
//   400..599: that status             proxy_internal_error anything else 502 proxy_internal_error
//
// Every refusal carries `proxy-status: <proxy>; error=<type>; details="<Error::detail>"` (plus
// `rcode` for dns_error when Error::proxyErrorDetails holds one) and a one-line text body.

// refusalStatus / refusalErrorType: the mapping above.
int refusalStatus(const Error &reason) noexcept;
QString refusalErrorType(const Error &reason);

// RefusalMessage: what submitResponse() and the body need.
struct RefusalMessage
{
    Response response;
    QByteArray body; // "<status> <reason phrase>: <detail>\n"
};

// buildRefusal: the response for `reason`, with `extraHeaders` (e.g. Proxy-Authenticate)
// appended. `proxyName` names this proxy in Proxy-Status.
RefusalMessage buildRefusal(const Error &reason, const QString &proxyName,
                            const HeaderList &extraHeaders = {});

// sendRefusal: submits the refusal on the stream, then its body and FIN (h1 closes the
// connection after it). Failures (the stream is already gone) are ignored.
void sendRefusal(ServerConnection *connection, StreamId id, const RefusalMessage &message);

} // namespace qmasque
