#pragma once

#include "api/Error.h"
#include "local/Socks5Codec.h"

namespace qmasque::socks5 {

// replyForError: the SOCKS5 reply code (RFC 1928, 6) a client gets when its tunnel could not be
// opened, from the typed error of the race. The proxy's Proxy-Status error type (RFC 9209, 2.3)
// decides when it is there, else the HTTP status, else the local error code:
//
//   connection_refused                                  -> 5 connection refused
//   destination_ip_prohibited, HTTP 403, 401/407       -> 2 not allowed by ruleset
//   dns_error, dns_timeout, connection_timeout          -> 4 host unreachable
//   destination_ip_unroutable, destination_unavailable  -> 3 network unreachable
//   anything else (bad host, proxy unreachable, ...)    -> 1 general failure
Reply replyForError(const Error &error);

} // namespace qmasque::socks5
