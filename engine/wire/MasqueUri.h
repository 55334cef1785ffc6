#pragma once

#include "api/Result.h"
#include "api/Types.h"
#include "wire/IpAddress.h"
#include "wire/UriTemplate.h"

#include <QtCore/QString>

#include <optional>

namespace qmasque::wire {

// MASQUE on top of UriTemplate: the default templates, the template rules of RFC 9298, 2 and
// RFC 9484, 3, target validation, the client-side expansion and the server-side match for
// CONNECT-UDP and templated CONNECT-TCP (target_host, target_port) and CONNECT-IP (target,
// ipproto). Everything is strict: the server accepts one spelling of each target, so access
// control sees exactly what will be dialed.

// Default templates, path form (RFC 9298, 3; RFC 9484, 3; draft-ietf-httpbis-connect-tcp).
QString defaultTemplatePath(TunnelProtocol protocol);
// defaultTemplate: "https://<proxyAuthority><default path>" (the authority as formatAuthority()
// writes it).
QString defaultTemplate(TunnelProtocol protocol, QStringView proxyAuthority);
// formatAuthority: "host:port", IPv6 literals in brackets ("[2001:db8::1]:443").
QString formatAuthority(QStringView host, quint16 port);

// validateMasqueTemplate: the rules RFC 9298, 2 and RFC 9484, 3 put on a proxy's template:
// ASCII 0x21..0x7E only; no `+ # . / ;` operators; variables only in the path and query (not in
// the authority, not after a '#'); for
// UDP and TCP both target_host and target_port present (missing_template_variable otherwise).
// With `requireAbsolute` (the client's configuration) the template must be an absolute URI with
// a scheme, a non-empty authority and a path starting with '/'; without it (a server route) a
// path starting with '/' is enough. malformed_template for everything else.
Status validateMasqueTemplate(const UriTemplate &uriTemplate, TunnelProtocol protocol,
                              bool requireAbsolute = true);

// isValidHostname: a DNS name the proxy will resolve: 1..253 characters, dot-separated labels of
// 1..63 letters, digits and '-' (not at either end of a label), the last label not all digits (so
// "127.1" or "0x7f.1" never pass for names).
bool isValidHostname(QStringView name) noexcept;

// HostTarget: target_host + target_port of a UDP or TCP request.
struct HostTarget
{
    enum class Kind : quint8
    {
        Name,
        Ipv4,
        Ipv6,
    };

    // An IPv4-mapped IPv6 literal (::ffff:192.0.2.1) stays Ipv6: access control that reasons
    // about IPv4 ranges must map it itself.
    Kind kind = Kind::Name;
    QString host;      // lower-case name, dotted quad or RFC 5952 IPv6 text (no brackets)
    IpAddress address; // for Ipv4 / Ipv6
    quint16 port = 0;  // 1..65535

    // authority: "host:port" with IPv6 bracketed, for logs and classic CONNECT.
    QString authority() const { return formatAuthority(host, port); }
};

// parseHostTarget: percent-decoded target_host and target_port. bad_host unless the host is a
// dotted-quad IPv4, an IPv6 literal (no brackets, no zone id) or isValidHostname(); bad_port
// unless the port is 1..65535 written as digits without leading zeros.
Result<HostTarget> parseHostTarget(QStringView host, QStringView port);

// expandHostTemplate: the client's request URI for `host` (a name, a dotted quad or an IPv6
// literal, brackets allowed) and `port`. bad_host / bad_port as parseHostTarget;
// missing_template_variable when the template lacks target_host or target_port.
Result<QString> expandHostTemplate(const UriTemplate &uriTemplate, QStringView host, quint16 port);

// matchHostRequest: the server side. bad_path when the request target is not an expansion of the
// template, missing_template_variable when it leaves target_host or target_port out, then
// bad_host / bad_port from parseHostTarget.
Result<HostTarget> matchHostRequest(const UriTemplate &uriTemplate, QStringView requestTarget);

// IpTarget: the CONNECT-IP "target" (RFC 9484, 4.6): any host, an IP prefix (a single address
// is a full-length prefix), or a DNS name.
struct IpTarget
{
    enum class Kind : quint8
    {
        Any,
        Prefix,
        Name,
    };

    Kind kind = Kind::Any;
    IpPrefix prefix;  // for Prefix: canonical (host bits zero)
    QString hostname; // for Name: lower case

    static IpTarget any() { return IpTarget{}; }
    static IpTarget fromPrefix(const IpPrefix &prefix)
    {
        return IpTarget{Kind::Prefix, prefix, {}};
    }
    static IpTarget fromName(const QString &name) { return IpTarget{Kind::Name, {}, name}; }

    // toString: the decoded variable value: "*", "192.0.2.0/24", "2001:db8::42" (a full-length
    // prefix is written as a bare address), or the name.
    QString toString() const;

    friend bool operator==(const IpTarget &, const IpTarget &) = default;
};

// IpScope: what a CONNECT-IP request asks for. ipProtocol std::nullopt = "*" (any protocol).
struct IpScope
{
    IpTarget target;
    std::optional<quint8> ipProtocol;

    friend bool operator==(const IpScope &, const IpScope &) = default;
};

// parseIpTarget: a decoded "target". bad_target unless it is "*", an IPv4 or IPv6 address
// optionally followed by "/len" (len decimal without leading zeros, at most 32 or 128, bits past it
// zero), or isValidHostname(). No zone ids.
Result<IpTarget> parseIpTarget(QStringView target);
// parseIpProtocol: a decoded "ipproto": "*" (std::nullopt) or 0..255 without leading zeros;
// bad_ipproto otherwise.
Result<std::optional<quint8>> parseIpProtocol(QStringView ipproto);
QString formatIpProtocol(std::optional<quint8> ipProtocol);

// expandIpTemplate: the client's request URI for `scope` (variables the template lacks are left
// out, which RFC 9484, 4.6 reads as "*"). bad_target when the prefix is not canonical or the
// name invalid.
Result<QString> expandIpTemplate(const UriTemplate &uriTemplate, const IpScope &scope);

// matchIpRequest: the server side. bad_path when the target does not match; variables the
// request leaves out are wildcards (RFC 9484, 4.6); present ones must be valid and non-empty
// (bad_target, bad_ipproto).
Result<IpScope> matchIpRequest(const UriTemplate &uriTemplate, QStringView requestTarget);

// RequestUri: an expanded absolute URI split into what an Extended CONNECT carries.
struct RequestUri
{
    QString scheme;       // :scheme
    QString authority;    // :authority
    QString pathAndQuery; // :path
};

// splitRequestUri: malformed_template unless `uri` is "scheme://authority/path[?query]" with a
// non-empty authority (RFC 9298, 2: absolute form with non-empty scheme, authority and path).
Result<RequestUri> splitRequestUri(QStringView uri);

} // namespace qmasque::wire
