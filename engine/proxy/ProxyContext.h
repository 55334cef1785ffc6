#pragma once

#include "proxy/AccessControl.h"
#include "proxy/ProxyConfig.h"
#include "proxy/ProxyMetrics.h"

namespace qmasque {

class IpAddressPool;
class IpRouter;

// ProxyContext: what every tunnel handler of one MasqueProxy shares: the configuration, access
// control, metrics, and for CONNECT-IP the address pool and the packet router. Owned by the
// MasqueProxy, which outlives every tunnel; handlers keep a reference. Engine thread only.
struct ProxyContext
{
    ProxyConfig config;
    AccessControl acl;
    // ipAcl: acl plus the pools' gateway addresses (the proxy itself is always reachable through
    // CONNECT-IP: it answers pings and sends ICMP errors from there).
    AccessControl ipAcl;
    ProxyMetrics metrics;
    IpAddressPool *ipPool = nullptr; // owned by the MasqueProxy
    IpRouter *ipRouter = nullptr;    // owned by the MasqueProxy
    quint64 nextConnectionId = 1;    // for log lines: "c12/4" = connection 12, stream 4
    qint64 tunnelsInFlight = 0;      // tunnels being set up or open, over all connections
};

} // namespace qmasque
