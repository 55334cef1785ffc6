#pragma once

#include "api/Result.h"
#include "api/Types.h"
#include "proxy/ProxyConfig.h"
#include "transport/ServerConnection.h"
#include "wire/MasqueUri.h"
#include "wire/UriTemplate.h"

namespace qmasque {

// TunnelRequest: a request the proxy understood: what to tunnel, and to where.
struct TunnelRequest
{
    TunnelProtocol protocol = TunnelProtocol::Tcp;
    bool classicConnect = false;  // TCP by `CONNECT host:port` (RFC 9110, 9.3.6)
    bool capsuleProtocol = false; // the client sent `capsule-protocol: ?1` (RFC 9297, 3.4)
    wire::HostTarget host;        // UDP and TCP
    wire::IpScope scope;          // IP

    // target: for logs, "host:port" or the CONNECT-IP "target/ipproto".
    QString target() const;
};

// ProxyRequestParser: turns an IncomingRequest into a TunnelRequest, or the typed refusal
// reason (ProxyRefusal.h maps it to a status):
//  - bad_method: not CONNECT (h1 requests without Upgrade, GET, ...);
//  - classic CONNECT (no :protocol): the authority must be host:port: bad_host / bad_port;
//  - bad_protocol: a :protocol other than connect-udp, connect-tcp, connect-ip;
//  - bad_path: no :scheme, :authority or :path, or a path that does not match the protocol's
//    template (also when it leaves a variable out);
//  - bad_host / bad_port (UDP, TCP), bad_target / bad_ipproto (IP) from the strict target
//    parsers of wire/MasqueUri.h;
//  - malformed_header: CONNECT-IP without `capsule-protocol: ?1` (RFC 9484, 4.6 requires it).
// The templates are parsed once at construction (the config was validated before).
class ProxyRequestParser
{
public:
    explicit ProxyRequestParser(const ProxyConfig &config);

    Result<TunnelRequest> parse(const IncomingRequest &request) const;

private:
    Result<TunnelRequest> parseClassic(const IncomingRequest &request) const;

    wire::UriTemplate m_udp;
    wire::UriTemplate m_tcp;
    wire::UriTemplate m_ip;
};

// splitAuthority: "host:port" / "[v6]:port" into its parts; false when there is no port.
bool splitAuthority(QStringView authority, QStringView *host, QStringView *port);

} // namespace qmasque
