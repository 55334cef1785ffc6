#pragma once

#include "api/Profile.h"
#include "api/Result.h"
#include "api/Types.h"
#include "transport/HttpTypes.h"
#include "wire/MasqueUri.h"
#include "wire/UriTemplate.h"

#include <QtCore/QString>

namespace qmasque {

// TunnelTarget: what one tunnel reaches. UDP and TCP name a host (DNS name or IP literal; an
// IPv6 literal with or without brackets) and a port; CONNECT-IP names an IP scope (RFC 9484, 4.6).
struct TunnelTarget
{
    TunnelProtocol protocol = TunnelProtocol::Udp;
    QString host;
    quint16 port = 0;
    wire::IpScope ipScope;

    static TunnelTarget udp(QString host, quint16 port)
    {
        return TunnelTarget{TunnelProtocol::Udp, std::move(host), port, {}};
    }
    static TunnelTarget tcp(QString host, quint16 port)
    {
        return TunnelTarget{TunnelProtocol::Tcp, std::move(host), port, {}};
    }
    static TunnelTarget ip(wire::IpScope scope)
    {
        return TunnelTarget{TunnelProtocol::Ip, {}, 0, std::move(scope)};
    }

    // toString: "example.com:53", "[2001:db8::1]:443", "10.0.0.0/8 ipproto 17", "* ipproto *".
    // What the dashboard row, the TunnelRecord and the log show.
    QString toString() const;
};

// TunnelRequestSettings: the request side of a profile, resolved once (templates parsed and
// validated, credentials encoded), then used for every tunnel.
struct TunnelRequestSettings
{
    QString proxyHost; // DNS name or IP literal, IPv6 without brackets
    quint16 proxyPort = 443;
    // Absolute templates ("https://proxy:443/.well-known/masque/udp/{target_host}/..."): a
    // profile template given as a path is prefixed with "https://<proxy authority>".
    wire::UriTemplate udpTemplate;
    wire::UriTemplate tcpTemplate;
    wire::UriTemplate ipTemplate;
    TcpMode tcpMode = TcpMode::Connect;
    // extraHeaders: appended to every request after the protocol's own fields: the
    // Proxy-Authorization made from Profile::proxyAuth first, then Profile::headers in order.
    // Names lower case.
    HeaderList extraHeaders;

    // proxyAuthority: "host:port", IPv6 bracketed.
    QString proxyAuthority() const { return wire::formatAuthority(proxyHost, proxyPort); }

    // fromProfile: invalid_config for a proxy that is not https://HOST[:PORT] or a template the
    // MASQUE rules refuse; reserved_header for a user header QMasque sets itself (or
    // proxy-authorization together with proxy-auth); header_injection for CR/LF/NUL.
    static Result<TunnelRequestSettings> fromProfile(const Profile &profile);
};

// parseProxyUrl: "https://HOST[:PORT][/]" (port 443 by default, IPv6 in brackets). Nothing else
// (other schemes, user info, paths, queries) is a proxy URL: invalid_config.
Result<Endpoint> parseProxyUrl(QStringView url);

// proxyAuthorizationValue: the Proxy-Authorization value for Profile::proxyAuth:
// "basic:USER:PASS" -> "Basic base64(USER:PASS)" (RFC 7617), "bearer:TOKEN" -> "Bearer TOKEN"
// (RFC 6750). invalid_config for anything else.
Result<QByteArray> proxyAuthorizationValue(QStringView proxyAuth);

// isReservedTunnelHeader: fields the tunnel request sets itself or that would corrupt the
// request on some HTTP version: pseudo-headers, host, connection, upgrade, capsule-protocol,
// content-length, transfer-encoding, te, keep-alive, proxy-connection. `name` lower case.
bool isReservedTunnelHeader(QByteArrayView name) noexcept;

// buildTunnelRequest: the request for `target` (erlang-masque.md 5.1; the transport maps it to
// its wire form, 5.2 for HTTP/1.1):
//  - UDP: extended CONNECT, :protocol connect-udp, :scheme/:authority from the template (the
//    proxy, never the target), :path the expanded template, capsule-protocol: ?1 (RFC 9298, 3);
//  - IP: the same with connect-ip and the IP template (RFC 9484, 3), capsule-protocol: ?1;
//  - TCP with TcpMode::Connect: classic CONNECT, :authority = target host:port (RFC 9110,
//    9.3.6), no :scheme/:path, no capsule-protocol;
//  - TCP with TcpMode::Template: extended CONNECT with connect-tcp and the TCP template
//    (draft-ietf-httpbis-connect-tcp), no capsule-protocol.
// The settings' extra headers follow. Errors: bad_host / bad_port / bad_target from the
// template expansion, malformed_template when an expanded IP URI is not absolute.
Result<Request> buildTunnelRequest(const TunnelRequestSettings &settings,
                                   const TunnelTarget &target);

// validateTunnelResponse: checks a final response to a tunnel request (erlang-masque.md 5.1):
//  - success is 101 for an HTTP/1.1 Upgrade (extended CONNECT over h1), any 2xx otherwise; a
//    refusal gives refusalError(); a 2xx answering an Upgrade is bad_upgrade_response;
//  - a 2xx must carry neither content-length (RFC 9110, 9.3.6) nor content-type:
//    malformed_response;
//  - UDP needs capsule-protocol: ?1 echoed (capsule_protocol_not_acknowledged), IP too
//    (capsule_protocol_missing); TCP must not announce it (bad_response).
// A capsule-protocol value that is not a Boolean counts as absent (RFC 9297, 3.4).
Status validateTunnelResponse(TunnelProtocol protocol, const Request &request,
                              TransportKind transport, const Response &response);

// refusalError: handshake_rejected carrying the HTTP status and the proxy's Proxy-Status
// (RFC 9209): the first entry naming an error type gives proxyErrorType and proxyErrorDetails.
// A Proxy-Status that does not parse is quoted in the detail instead; a 407's
// Proxy-Authenticate challenge is quoted too.
Error refusalError(const Response &response);

} // namespace qmasque
