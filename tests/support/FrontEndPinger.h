#pragma once

#include "wire/IpAddress.h"

namespace qmasque::test {

// rawPing: what `ping -c count` does, for hosts without ping installed: `count` ICMP (IPv4) or
// ICMPv6 Echo Requests to `target` from a raw socket (needs CAP_NET_RAW), each waited for
// (serving the event loop) up to `timeoutMs`. Returns how many matching Echo Replies came back
// (same identifier and sequence, checksum verified for IPv4), or -1 when no raw socket could be
// opened.
int rawPing(const wire::IpAddress &target, int count, int timeoutMs = 5000);

} // namespace qmasque::test
