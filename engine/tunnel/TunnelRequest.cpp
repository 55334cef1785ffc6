#include "tunnel/TunnelRequest.h"

#include "wire/ProxyStatus.h"
#include "wire/StructuredFields.h"

#include <QtCore/QUrl>

namespace qmasque {

namespace {

Error invalidConfig(const QString &detail)
{
    return Error(ErrorCode::InvalidConfig, detail);
}

bool hasControlBytes(QByteArrayView value) noexcept
{
    for (const char c : value) {
        if (c == '\r' || c == '\n' || c == '\0')
            return true;
    }
    return false;
}

// absoluteTemplate: the profile's template (a path or an absolute https:// URI), or the default
// one, as an absolute template validated by the MASQUE rules (RFC 9298, 2; RFC 9484, 3).
Result<wire::UriTemplate> absoluteTemplate(const QString &configured, TunnelProtocol protocol,
                                           const QString &authority, const char *key)
{
    QString text = configured.isEmpty() ? wire::defaultTemplate(protocol, authority) : configured;
    if (text.startsWith(u'/'))
        text = QStringLiteral("https://") + authority + text;
    auto parsed = wire::UriTemplate::parse(text);
    if (!parsed)
        return invalidConfig(
            QStringLiteral("%1: %2").arg(QLatin1StringView(key), parsed.error().toString()));
    if (Status valid = wire::validateMasqueTemplate(*parsed, protocol, true); !valid)
        return invalidConfig(
            QStringLiteral("%1: %2").arg(QLatin1StringView(key), valid.error().toString()));
    return parsed;
}

// protocolToken: the :protocol / Upgrade token (RFC 9298, 3; RFC 9484, 3; connect-tcp draft).
QByteArray protocolToken(TunnelProtocol protocol)
{
    switch (protocol) {
    case TunnelProtocol::Udp:
        return QByteArrayLiteral("connect-udp");
    case TunnelProtocol::Ip:
        return QByteArrayLiteral("connect-ip");
    case TunnelProtocol::Tcp:
        return QByteArrayLiteral("connect-tcp");
    }
    return {};
}

// capsuleProtocolEchoed: whether the response says capsule-protocol: ?1. RFC 9297, 3.4: a value
// that is not a Boolean is treated as if the field were absent.
bool capsuleProtocolEchoed(const Response &response)
{
    const QByteArray value = headerValue(response.headers, "capsule-protocol");
    if (value.isNull())
        return false;
    auto parsed = wire::parseCapsuleProtocol(value);
    return parsed.ok() && *parsed;
}

} // namespace

QString TunnelTarget::toString() const
{
    if (protocol != TunnelProtocol::Ip)
        return wire::formatAuthority(host, port);
    return ipScope.target.toString() + QStringLiteral(" ipproto ") +
           wire::formatIpProtocol(ipScope.ipProtocol);
}

Result<Endpoint> parseProxyUrl(QStringView url)
{
    const QUrl parsed(url.toString(), QUrl::StrictMode);
    const QString path = parsed.path();
    if (!parsed.isValid() || parsed.scheme() != QStringLiteral("https") ||
        parsed.host().isEmpty() || !parsed.userInfo().isEmpty() || parsed.hasQuery() ||
        parsed.hasFragment() || (!path.isEmpty() && path != QStringLiteral("/")))
        return invalidConfig(
            QStringLiteral("proxy: '%1' is not https://HOST[:PORT]").arg(url.toString()));
    const int port = parsed.port(443);
    if (port <= 0 || port > 65535)
        return invalidConfig(QStringLiteral("proxy: bad port in '%1'").arg(url.toString()));
    return Endpoint{parsed.host(), quint16(port)};
}

Result<QByteArray> proxyAuthorizationValue(QStringView proxyAuth)
{
    if (proxyAuth.startsWith(u"basic:")) {
        const QStringView credentials = proxyAuth.sliced(6);
        if (credentials.indexOf(u':') <= 0)
            return invalidConfig(QStringLiteral("proxy-auth: basic needs USER:PASS"));
        // RFC 7617, 2: base64 of user-id ":" password, UTF-8.
        return QByteArray(QByteArrayLiteral("Basic ") + credentials.toUtf8().toBase64());
    }
    if (proxyAuth.startsWith(u"bearer:")) {
        const QStringView token = proxyAuth.sliced(7);
        if (token.isEmpty() || token.contains(u' '))
            return invalidConfig(QStringLiteral("proxy-auth: bearer needs a token"));
        return QByteArray(QByteArrayLiteral("Bearer ") + token.toUtf8());
    }
    return invalidConfig(QStringLiteral("proxy-auth: must be basic:USER:PASS or bearer:TOKEN"));
}

bool isReservedTunnelHeader(QByteArrayView name) noexcept
{
    static constexpr const char *kReserved[] = {"host",
                                                "connection",
                                                "upgrade",
                                                "capsule-protocol",
                                                "content-length",
                                                "transfer-encoding",
                                                "te",
                                                "keep-alive",
                                                "proxy-connection"};
    if (name.startsWith(':'))
        return true;
    for (const char *reserved : kReserved) {
        if (name == QByteArrayView(reserved))
            return true;
    }
    return false;
}

Result<TunnelRequestSettings> TunnelRequestSettings::fromProfile(const Profile &profile)
{
    auto proxy = parseProxyUrl(profile.proxy);
    if (!proxy)
        return proxy.error();
    TunnelRequestSettings settings;
    settings.proxyHost = proxy->host;
    settings.proxyPort = proxy->port;
    const QString authority = settings.proxyAuthority();

    auto udp =
        absoluteTemplate(profile.udpTemplate, TunnelProtocol::Udp, authority, "udp-template");
    if (!udp)
        return udp.error();
    auto tcp =
        absoluteTemplate(profile.tcpTemplate, TunnelProtocol::Tcp, authority, "tcp-template");
    if (!tcp)
        return tcp.error();
    auto ip = absoluteTemplate(profile.ipTemplate, TunnelProtocol::Ip, authority, "ip-template");
    if (!ip)
        return ip.error();
    settings.udpTemplate = *udp;
    settings.tcpTemplate = *tcp;
    settings.ipTemplate = *ip;
    settings.tcpMode = profile.tcpMode;

    if (!profile.proxyAuth.isEmpty()) {
        auto value = proxyAuthorizationValue(profile.proxyAuth);
        if (!value)
            return value.error();
        if (hasControlBytes(*value))
            return Error(ErrorCode::HeaderInjection,
                         QStringLiteral("proxy-auth contains CR, LF or NUL"));
        settings.extraHeaders.append(Header{"proxy-authorization", *value});
    }
    for (const QString &line : profile.headers) {
        const qsizetype colon = line.indexOf(u':', 1);
        if (colon <= 0)
            return invalidConfig(QStringLiteral("header: '%1' is not NAME:VALUE").arg(line));
        const QByteArray name = line.first(colon).trimmed().toLower().toUtf8();
        const QByteArray value = line.sliced(colon + 1).trimmed().toUtf8();
        if (name.isEmpty())
            return invalidConfig(QStringLiteral("header: '%1' has no name").arg(line));
        if (isReservedTunnelHeader(name))
            return Error(ErrorCode::ReservedHeader,
                         QStringLiteral("header: '%1' is set by QMasque itself")
                             .arg(QString::fromUtf8(name)));
        if (name == "proxy-authorization" && !profile.proxyAuth.isEmpty())
            return Error(ErrorCode::ReservedHeader,
                         QStringLiteral("header: proxy-authorization is set by proxy-auth"));
        if (hasControlBytes(name) || hasControlBytes(value))
            return Error(
                ErrorCode::HeaderInjection,
                QStringLiteral("header: '%1' contains CR, LF or NUL").arg(QString::fromUtf8(name)));
        settings.extraHeaders.append(Header{name, value});
    }
    return settings;
}

Result<Request> buildTunnelRequest(const TunnelRequestSettings &settings,
                                   const TunnelTarget &target)
{
    Request request;
    request.method = QByteArrayLiteral("CONNECT");

    if (target.protocol == TunnelProtocol::Tcp && settings.tcpMode == TcpMode::Connect) {
        // RFC 9110, 9.3.6: the authority-form target is the destination; RFC 9113, 8.5 / RFC
        // 9114, 4.4: no :scheme and no :path.
        auto host =
            wire::parseHostTarget(target.host.startsWith(u'[') && target.host.endsWith(u']')
                                      ? QStringView(target.host).sliced(1, target.host.size() - 2)
                                      : QStringView(target.host),
                                  QString::number(target.port));
        if (!host)
            return host.error();
        request.scheme.clear();
        request.authority = host->authority().toUtf8();
        request.headers = settings.extraHeaders;
        return request;
    }

    Result<QString> uri = QString();
    switch (target.protocol) {
    case TunnelProtocol::Udp:
        uri = wire::expandHostTemplate(settings.udpTemplate, target.host, target.port);
        break;
    case TunnelProtocol::Tcp:
        uri = wire::expandHostTemplate(settings.tcpTemplate, target.host, target.port);
        break;
    case TunnelProtocol::Ip:
        uri = wire::expandIpTemplate(settings.ipTemplate, target.ipScope);
        break;
    }
    if (!uri)
        return uri.error();
    // RFC 9298, 3 / RFC 9484, 3: :scheme, :authority and :path come from the expanded template;
    // :authority is the proxy, the target is only in the path.
    auto parts = wire::splitRequestUri(*uri);
    if (!parts)
        return parts.error();
    request.protocol = protocolToken(target.protocol);
    request.scheme = parts->scheme.toUtf8();
    request.authority = parts->authority.toUtf8();
    request.path = parts->pathAndQuery.toUtf8();
    if (target.protocol != TunnelProtocol::Tcp)
        request.headers.append(Header{"capsule-protocol", wire::capsuleProtocolValue(true)});
    request.headers.append(settings.extraHeaders);
    return request;
}

Status validateTunnelResponse(TunnelProtocol protocol, const Request &request,
                              TransportKind transport, const Response &response)
{
    const bool upgrade = transport == TransportKind::H1 && request.isExtendedConnect();
    const bool success2xx = response.status >= 200 && response.status <= 299;
    if (upgrade) {
        // RFC 9298, 3.2 / RFC 9484, 3: over HTTP/1.1 only 101 Switching Protocols opens the
        // tunnel; a 2xx means the proxy ignored the Upgrade.
        if (success2xx)
            return Error(ErrorCode::BadUpgradeResponse,
                         QStringLiteral("HTTP %1 to an Upgrade request").arg(response.status));
        if (response.status != 101)
            return refusalError(response);
    } else {
        if (!success2xx)
            return refusalError(response);
        // RFC 9110, 9.3.6: a 2xx to CONNECT has no content; RFC 9298, 3.3 / RFC 9484, 3: neither
        // content-length nor content-type on the tunnel's response.
        for (const char *field : {"content-length", "content-type"}) {
            if (!headerValue(response.headers, field).isNull())
                return Error(ErrorCode::MalformedResponse,
                             QStringLiteral("%1 on a %2 tunnel response")
                                 .arg(QLatin1StringView(field))
                                 .arg(response.status));
        }
    }

    const bool echoed = capsuleProtocolEchoed(response);
    switch (protocol) {
    case TunnelProtocol::Udp:
        // RFC 9298, 3.3: the proxy confirms the Capsule Protocol it was offered.
        if (!echoed)
            return Error(ErrorCode::CapsuleProtocolNotAcknowledged,
                         QStringLiteral("no capsule-protocol: ?1 in the response"));
        break;
    case TunnelProtocol::Ip:
        // RFC 9484, 3: CONNECT-IP always uses the Capsule Protocol.
        if (!echoed)
            return Error(ErrorCode::CapsuleProtocolMissing,
                         QStringLiteral("no capsule-protocol: ?1 in the response"));
        break;
    case TunnelProtocol::Tcp:
        // A TCP tunnel carries raw bytes: a proxy announcing capsules would misread them.
        if (echoed)
            return Error(ErrorCode::BadResponse,
                         QStringLiteral("capsule-protocol on a TCP tunnel response"));
        break;
    }
    return {};
}

Error refusalError(const Response &response)
{
    Error error(ErrorCode::HandshakeRejected);
    error.httpStatus = response.status;
    QStringList notes;
    const QByteArray proxyStatus = headerValue(response.headers, "proxy-status");
    if (!proxyStatus.isNull()) {
        auto entries = wire::parseProxyStatus(proxyStatus);
        if (entries) {
            // RFC 9209, 2: members are ordered nearest to the origin first; the first one that
            // names an error is the intermediary that refused.
            for (const wire::ProxyStatusEntry &entry : *entries) {
                if (entry.error.isEmpty())
                    continue;
                error.proxyErrorType = entry.error;
                error.proxyErrorDetails = entry.details;
                break;
            }
        } else {
            notes << QStringLiteral("unparsable proxy-status '%1'")
                         .arg(QString::fromUtf8(proxyStatus.left(200)));
        }
    }
    const QByteArray challenge = headerValue(response.headers, "proxy-authenticate");
    if (!challenge.isNull())
        notes
            << QStringLiteral("proxy-authenticate: %1").arg(QString::fromUtf8(challenge.left(200)));
    error.detail = notes.join(QStringLiteral("; "));
    return error;
}

} // namespace qmasque
