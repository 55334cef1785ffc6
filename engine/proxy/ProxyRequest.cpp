#include "proxy/ProxyRequest.h"

#include "wire/StructuredFields.h"

namespace qmasque {

namespace {

Error refused(ErrorCode code, const QString &detail)
{
    return Error(code, detail);
}

} // namespace

QString TunnelRequest::target() const
{
    if (protocol != TunnelProtocol::Ip)
        return host.authority();
    return scope.target.toString() + u'/' + wire::formatIpProtocol(scope.ipProtocol);
}

bool splitAuthority(QStringView authority, QStringView *host, QStringView *port)
{
    if (authority.startsWith(u'[')) {
        const qsizetype close = authority.indexOf(u']');
        if (close < 0 || close + 1 >= authority.size() || authority[close + 1] != u':')
            return false;
        *host = authority.sliced(1, close - 1);
        *port = authority.sliced(close + 2);
        return true;
    }
    const qsizetype colon = authority.lastIndexOf(u':');
    if (colon < 0 || authority.first(colon).contains(u':'))
        return false;
    *host = authority.first(colon);
    *port = authority.sliced(colon + 1);
    return true;
}

ProxyRequestParser::ProxyRequestParser(const ProxyConfig &config)
    : m_udp(wire::UriTemplate::parse(effectiveTemplate(config, TunnelProtocol::Udp))
                .valueOr(wire::UriTemplate()))
    , m_tcp(wire::UriTemplate::parse(effectiveTemplate(config, TunnelProtocol::Tcp))
                .valueOr(wire::UriTemplate()))
    , m_ip(wire::UriTemplate::parse(effectiveTemplate(config, TunnelProtocol::Ip))
               .valueOr(wire::UriTemplate()))
{}

Result<TunnelRequest> ProxyRequestParser::parse(const IncomingRequest &request) const
{
    if (request.method != "CONNECT") {
        return refused(ErrorCode::BadMethod,
                       QStringLiteral("method %1 is not CONNECT")
                           .arg(QString::fromLatin1(request.method.left(32))));
    }
    if (request.protocol.isEmpty())
        return parseClassic(request);

    TunnelRequest tunnel;
    const QByteArray protocol = request.protocol.toLower();
    if (protocol == "connect-udp")
        tunnel.protocol = TunnelProtocol::Udp;
    else if (protocol == "connect-tcp")
        tunnel.protocol = TunnelProtocol::Tcp;
    else if (protocol == "connect-ip")
        tunnel.protocol = TunnelProtocol::Ip;
    else
        return refused(ErrorCode::BadProtocol,
                       QStringLiteral("unknown protocol %1")
                           .arg(QString::fromLatin1(request.protocol.left(64))));

    // RFC 8441, 4 / RFC 9220, 3: an extended CONNECT carries :scheme, :authority and :path.
    if (request.scheme.isEmpty() || request.authority.isEmpty() || request.path.isEmpty())
        return refused(ErrorCode::BadPath, QStringLiteral("missing :scheme, :authority or :path"));

    const QByteArray capsuleField = headerValue(request.headers, "capsule-protocol");
    if (!capsuleField.isNull()) {
        // RFC 9297, 3.4: a value that is not a Boolean counts as absent.
        tunnel.capsuleProtocol = wire::parseCapsuleProtocol(capsuleField).valueOr(false);
    }

    const QString path = QString::fromLatin1(request.path);
    if (tunnel.protocol == TunnelProtocol::Ip) {
        auto scope = wire::matchIpRequest(m_ip, path);
        if (!scope) {
            if (scope.error().code == ErrorCode::BadPath ||
                scope.error().code == ErrorCode::MissingTemplateVariable)
                return refused(ErrorCode::BadPath, QStringLiteral("no CONNECT-IP route here"));
            return scope.error();
        }
        if (!tunnel.capsuleProtocol)
            return refused(ErrorCode::MalformedHeader,
                           QStringLiteral("CONNECT-IP needs capsule-protocol: ?1"));
        tunnel.scope = *scope;
        return tunnel;
    }

    const wire::UriTemplate &uriTemplate = tunnel.protocol == TunnelProtocol::Udp ? m_udp : m_tcp;
    auto target = wire::matchHostRequest(uriTemplate, path);
    if (!target) {
        if (target.error().code == ErrorCode::BadPath ||
            target.error().code == ErrorCode::MissingTemplateVariable)
            return refused(ErrorCode::BadPath,
                           QStringLiteral("no %1 route here")
                               .arg(QLatin1StringView(tunnelProtocolName(tunnel.protocol))));
        return target.error();
    }
    tunnel.host = *target;
    return tunnel;
}

Result<TunnelRequest> ProxyRequestParser::parseClassic(const IncomingRequest &request) const
{
    TunnelRequest tunnel;
    tunnel.protocol = TunnelProtocol::Tcp;
    tunnel.classicConnect = true;
    const QString authority = QString::fromLatin1(request.authority);
    QStringView host;
    QStringView port;
    if (authority.isEmpty() || !splitAuthority(authority, &host, &port))
        return refused(
            ErrorCode::BadHost,
            QStringLiteral("CONNECT needs host:port, got \"%1\"").arg(authority.left(64)));
    auto target = wire::parseHostTarget(host, port);
    if (!target)
        return target.error();
    tunnel.host = *target;
    return tunnel;
}

} // namespace qmasque
