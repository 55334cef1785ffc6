#pragma once

#include "api/Result.h"
#include "api/Types.h"
#include "transport/ServerOptions.h"
#include "wire/IpAddress.h"

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtNetwork/QHostAddress>

namespace qmasque {

// ProxyListenAddress: one --listen ADDR:PORT. Port 0 picks a free port, the same number for
// TCP (h2/h1) and UDP (h3).
struct ProxyListenAddress
{
    QHostAddress address;
    quint16 port = 0;

    friend bool operator==(const ProxyListenAddress &, const ProxyListenAddress &) = default;
};

// ProxyCredential: one accepted Proxy-Authorization (--auth basic:USER:PASS, --auth bearer:TOKEN).
struct ProxyCredential
{
    enum class Scheme : quint8
    {
        Basic,  // RFC 7617
        Bearer, // RFC 6750
    };

    Scheme scheme = Scheme::Basic;
    QByteArray user;   // Basic only
    QByteArray secret; // Basic: the password; Bearer: the token

    friend bool operator==(const ProxyCredential &, const ProxyCredential &) = default;
};

// ProxyConfig: everything a MasqueProxy is started with (what the qmasque-proxy command line
// fills in; the GUI's --demo builds one in code). Times in milliseconds.
struct ProxyConfig
{
    static constexpr quint16 kDefaultPort = 8443;

    // Where to listen; every address serves each enabled transport on the same port number.
    // Default (when empty): 127.0.0.1:8443.
    QList<ProxyListenAddress> listen;

    // Identity: certificate and key files, or (selfSigned) a fresh ECDSA P-256 key and a
    // certificate for the listen addresses plus "localhost", generated at start().
    QString certificateFile;
    QString privateKeyFile;
    bool selfSigned = false;

    bool enableH3 = true;
    bool enableH2 = true;
    bool enableH1 = true;

    // Targets: the special-purpose ranges (AccessControl.h) are denied unless listed here.
    QList<wire::IpPrefix> allow;

    // Accepted credentials; empty = no authentication.
    QList<ProxyCredential> credentials;

    // Concurrent tunnels per connection: advertised as the stream limit (h2
    // SETTINGS_MAX_CONCURRENT_STREAMS, h3 MAX_STREAMS) and enforced with 503 beyond.
    int maxTunnelsPerConnection = 100;
    // Concurrent tunnels over all connections; 0 = no limit. 503 beyond.
    int maxTunnels = 0;

    // Server-side URI templates (a path, or an absolute URI whose path and query are matched).
    // Empty = the well-known defaults (RFC 9298, RFC 9484, draft-ietf-httpbis-connect-tcp).
    QString udpTemplate;
    QString tcpTemplate;
    QString ipTemplate;

    // CONNECT-IP address pools, at most one per IP version. Empty = 10.89.0.0/24 and
    // fd00:89::/64. The first host address of each pool is the proxy's own (the source of ICMP
    // errors, the TUN device's address); clients get the others, one /32 and one /128 each.
    QList<wire::IpPrefix> ipPools;
    // Linux TUN device that CONNECT-IP packets are forwarded to (needs CAP_NET_ADMIN). Empty =
    // the internal responder (ICMP echo, UDP echo on kEchoPort) answers instead.
    QString tunDevice;

    int idleTimeoutMs = 30000;        // connection idle timeout (QUIC max_idle_timeout, h2/h1)
    int tunnelIdleTimeoutMs = 300000; // UDP and IP tunnels without traffic either way; 0 = never
    int connectTimeoutMs = 10000;     // TCP dial to a target (all attempts); 504 beyond
    int dnsTimeoutMs = 10000;         // name resolution of a target; 502 dns_error beyond
    int drainTimeoutMs = 10000;       // goawayAndDrain(): open tunnels get this long to finish

    QString proxyName = QStringLiteral("qmasque-proxy"); // in Proxy-Status and the challenge

    // serverOptions: the transport listeners' options for this configuration (the identity
    // files must already be set, see MasqueProxy::start()).
    ServerOptions serverOptions() const;
};

// validateProxyConfig: invalid_config naming the first problem (no transport, bad template,
// inverted or overlapping pools, limits out of range, --cert without --key, ...).
Status validateProxyConfig(const ProxyConfig &config);

// effectivePools / effectiveListen: the configured values or their defaults.
QList<wire::IpPrefix> effectivePools(const ProxyConfig &config);
QList<ProxyListenAddress> effectiveListen(const ProxyConfig &config);
// effectiveTemplate: the configured template for `protocol`, or the default path.
QString effectiveTemplate(const ProxyConfig &config, TunnelProtocol protocol);

} // namespace qmasque
