#include "proxy/ProxyConfig.h"

#include "wire/MasqueUri.h"
#include "wire/UriTemplate.h"

namespace qmasque {

namespace {

Error invalid(const QString &detail)
{
    return Error(ErrorCode::InvalidConfig, detail);
}

Status checkTemplate(const QString &text, TunnelProtocol protocol, const char *flag)
{
    if (text.isEmpty())
        return {};
    auto parsed = wire::UriTemplate::parse(text);
    if (!parsed)
        return invalid(
            QStringLiteral("%1: %2").arg(QLatin1StringView(flag), parsed.error().detail));
    if (Status ok = wire::validateMasqueTemplate(*parsed, protocol, false); !ok)
        return invalid(
            QStringLiteral("%1: %2").arg(QLatin1StringView(flag), ok.error().toString()));
    return {};
}

Status checkPool(const wire::IpPrefix &pool)
{
    if (!pool.isCanonical())
        return invalid(QStringLiteral("--ip-pool %1: not a canonical prefix (host bits set)")
                           .arg(pool.toString()));
    // The network address, the proxy's own address and (IPv4) the broadcast address are never
    // handed out: at least one address must remain for a client.
    const int hostBits = pool.address.bitLength() - pool.length;
    if (hostBits < 2)
        return invalid(QStringLiteral("--ip-pool %1: too small (at most /30 for IPv4, /126 for "
                                      "IPv6)")
                           .arg(pool.toString()));
    return {};
}

} // namespace

ServerOptions ProxyConfig::serverOptions() const
{
    ServerOptions options;
    options.tls.certificateFile = certificateFile;
    options.tls.privateKeyFile = privateKeyFile;
    options.maxConcurrentStreams = quint32(maxTunnelsPerConnection);
    options.idleTimeoutMs = idleTimeoutMs;
    options.enableH1 = enableH1;
    options.enableH2 = enableH2;
    return options;
}

Status validateProxyConfig(const ProxyConfig &config)
{
    if (!config.enableH3 && !config.enableH2 && !config.enableH1)
        return invalid(QStringLiteral("--transports: at least one of h3, h2, h1"));
    if (!config.selfSigned && (config.certificateFile.isEmpty() || config.privateKeyFile.isEmpty()))
        return invalid(QStringLiteral("a certificate and a key (--cert and --key), or "
                                      "--self-signed"));
    if (config.selfSigned &&
        (!config.certificateFile.isEmpty() || !config.privateKeyFile.isEmpty()))
        return invalid(QStringLiteral("--self-signed excludes --cert and --key"));
    for (const ProxyListenAddress &listen : config.listen) {
        if (listen.address.isNull())
            return invalid(QStringLiteral("--listen: no address"));
    }
    const auto isWildcard = [](const QHostAddress &address) {
        return address == QHostAddress(QHostAddress::Any) ||
               address == QHostAddress(QHostAddress::AnyIPv4) ||
               address == QHostAddress(QHostAddress::AnyIPv6);
    };
    for (int i = 0; i < config.listen.size(); ++i) {
        for (int j = i + 1; j < config.listen.size(); ++j) {
            const ProxyListenAddress &a = config.listen[i];
            const ProxyListenAddress &b = config.listen[j];
            if (a.port != b.port || a.port == 0)
                continue;
            if (a.address == b.address)
                return invalid(QStringLiteral("--listen given twice for the same address"));
            if (isWildcard(a.address) && isWildcard(b.address))
                return invalid(QStringLiteral("--listen [::]:%1 already serves IPv4 (dual stack); "
                                              "drop 0.0.0.0:%1")
                                   .arg(a.port));
        }
    }
    if (config.maxTunnelsPerConnection < 1 || config.maxTunnelsPerConnection > 1000000)
        return invalid(QStringLiteral("--max-tunnels-per-connection: 1..1000000"));
    if (config.maxTunnels < 0)
        return invalid(QStringLiteral("--max-tunnels: 0 (no limit) or more"));
    for (const auto &[value, name] :
         {std::pair{config.idleTimeoutMs, "--idle-timeout-ms"},
          std::pair{config.connectTimeoutMs, "--connect-timeout-ms"},
          std::pair{config.dnsTimeoutMs, "dns timeout"},
          std::pair{config.drainTimeoutMs, "--drain-timeout-ms"},
          std::pair{config.tunnelIdleTimeoutMs, "tunnel idle timeout"}}) {
        if (value < 0)
            return invalid(QStringLiteral("%1: not negative").arg(QLatin1StringView(name)));
    }
    if (config.connectTimeoutMs == 0 || config.dnsTimeoutMs == 0)
        return invalid(QStringLiteral("connect and DNS timeouts must be positive"));
    for (const wire::IpPrefix &prefix : config.allow) {
        if (!prefix.isCanonical())
            return invalid(QStringLiteral("--allow %1: not a canonical prefix (host bits set)")
                               .arg(prefix.toString()));
    }
    bool seen[2] = {false, false};
    for (const wire::IpPrefix &pool : config.ipPools) {
        if (Status ok = checkPool(pool); !ok)
            return ok;
        bool &versionSeen = seen[pool.address.isIpv4() ? 0 : 1];
        if (versionSeen)
            return invalid(QStringLiteral("--ip-pool: at most one pool per IP version"));
        versionSeen = true;
    }
    if (Status ok = checkTemplate(config.udpTemplate, TunnelProtocol::Udp, "--udp-template"); !ok)
        return ok;
    if (Status ok = checkTemplate(config.tcpTemplate, TunnelProtocol::Tcp, "--tcp-template"); !ok)
        return ok;
    if (Status ok = checkTemplate(config.ipTemplate, TunnelProtocol::Ip, "--ip-template"); !ok)
        return ok;
    for (const ProxyCredential &credential : config.credentials) {
        if (credential.secret.isEmpty())
            return invalid(QStringLiteral("--auth: empty password or token"));
        if (credential.scheme == ProxyCredential::Scheme::Basic &&
            (credential.user.isEmpty() || credential.user.contains(':')))
            return invalid(QStringLiteral("--auth basic: the user name must be non-empty and "
                                          "without ':'"));
    }
    if (config.proxyName.isEmpty())
        return invalid(QStringLiteral("empty proxy name"));
    return {};
}

QList<wire::IpPrefix> effectivePools(const ProxyConfig &config)
{
    if (!config.ipPools.isEmpty())
        return config.ipPools;
    return {*wire::IpPrefix::fromString(u"10.89.0.0/24"),
            *wire::IpPrefix::fromString(u"fd00:89::/64")};
}

QList<ProxyListenAddress> effectiveListen(const ProxyConfig &config)
{
    if (!config.listen.isEmpty())
        return config.listen;
    return {ProxyListenAddress{QHostAddress(QHostAddress::LocalHost), ProxyConfig::kDefaultPort}};
}

QString effectiveTemplate(const ProxyConfig &config, TunnelProtocol protocol)
{
    const QString &configured = protocol == TunnelProtocol::Udp   ? config.udpTemplate
                                : protocol == TunnelProtocol::Tcp ? config.tcpTemplate
                                                                  : config.ipTemplate;
    return configured.isEmpty() ? wire::defaultTemplatePath(protocol) : configured;
}

} // namespace qmasque
