#pragma once

#include "wire/IpAddress.h"
#include "wire/IpCapsules.h"

#include <QtCore/QList>

namespace qmasque {

// routePrefixes: the routes the TUN front end installs for the proxy's ROUTE_ADVERTISEMENT
// (RFC 9484, 4.7.3): the fewest CIDR prefixes that cover `ranges` exactly, without the
// `excluded` addresses (the MASQUE proxy's own addresses: its packets must keep their normal
// route, or the tunnel would carry itself). Two rules keep the host's own routing intact:
//  - no prefix is shorter than /1: a range covering a whole family becomes 0.0.0.0/1 +
//    128.0.0.0/1 (::/1 + 8000::/1), which wins over the existing default route by being more
//    specific and leaves it untouched (it is back as soon as the device goes);
//  - the result is sorted by address (IPv4 first) and holds no duplicates.
// Ranges of one protocol only (ipProtocol != 0) are routed for every protocol: the kernel
// routes by destination; the proxy drops what is out of scope. Pure function.
QList<wire::IpPrefix> routePrefixes(const QList<wire::IpAddressRange> &ranges,
                                    const QList<wire::IpAddress> &excluded);

} // namespace qmasque
