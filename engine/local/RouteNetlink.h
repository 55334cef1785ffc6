#pragma once

#include "api/Result.h"
#include "proxy/SocketUtil.h"
#include "wire/IpAddress.h"

namespace qmasque {

// RouteNetlink: the few rtnetlink requests (NETLINK_ROUTE, rtnetlink(7)) the TUN front end
// needs to configure its device, the same messages `ip link`, `ip address` and `ip route`
// send: bring a link up with an MTU, add or remove an address, add or remove a route through
// the link. Each request is sent with NLM_F_ACK and its acknowledgement awaited (the kernel
// answers at once; a receive timeout of kAckTimeoutMs bounds the wait), so every call reports
// the kernel's verdict. Errors: permission_denied (EPERM: no CAP_NET_ADMIN), io_error (any other
// errno, named). Adding what exists already and removing what is gone are not errors.
//
// Linux only (not_supported elsewhere). Not thread-safe; one per device.
class RouteNetlink
{
public:
    static constexpr int kAckTimeoutMs = 2000;

    RouteNetlink() = default;

    // open: the NETLINK_ROUTE socket. Call once before the requests.
    Status open();

    Status setLinkUp(int ifindex, int mtu);
    // addAddress: `prefix.address` as a local address of the link with `prefix.length`
    // (IPv6 without duplicate address detection: the proxy assigned it to us alone).
    Status addAddress(int ifindex, const wire::IpPrefix &prefix);
    Status removeAddress(int ifindex, const wire::IpPrefix &prefix);
    // addRoute: `destination` through the link (scope link, main table, protocol static),
    // with `source` as the preferred source address when it is of the same version.
    Status addRoute(int ifindex, const wire::IpPrefix &destination, const wire::IpAddress &source);
    Status removeRoute(int ifindex, const wire::IpPrefix &destination);

private:
    // request: sends `message` and awaits its acknowledgement; `ignoredError` (an errno) counts
    // as success.
    Status request(QByteArray &message, const char *what, int ignoredError = 0);

    SocketFd m_fd;
    quint32 m_sequence = 0;
};

} // namespace qmasque
