#include "wire/MasqueUri.h"

#include "wire/DecimalText.h"

namespace qmasque::wire {

namespace {

const QString kTargetHost = QStringLiteral("target_host");
const QString kTargetPort = QStringLiteral("target_port");
const QString kTarget = QStringLiteral("target");
const QString kIpProto = QStringLiteral("ipproto");

bool isAllDigitsAndDots(QStringView text) noexcept
{
    for (const QChar c : text) {
        if (!isAsciiDigit(c) && c != u'.')
            return false;
    }
    return true;
}

// RFC 3986, 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool isValidScheme(QStringView scheme) noexcept
{
    if (scheme.isEmpty())
        return false;
    for (qsizetype i = 0; i < scheme.size(); ++i) {
        const char16_t c = scheme[i].unicode();
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (alpha || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')))
            continue;
        return false;
    }
    return true;
}

Error badTemplate(const QString &why)
{
    return Error(ErrorCode::MalformedTemplate, why);
}

// describe: a value for an error detail, shortened so a hostile request cannot flood the log.
QString describe(QStringView value)
{
    constexpr qsizetype kMax = 80;
    QString text = value.size() > kMax ? value.first(kMax).toString() + QStringLiteral("...")
                                       : value.toString();
    for (QChar &c : text) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            c = u'?';
    }
    return u'"' + text + u'"';
}

} // namespace

QString defaultTemplatePath(TunnelProtocol protocol)
{
    switch (protocol) {
    case TunnelProtocol::Udp:
        return QStringLiteral("/.well-known/masque/udp/{target_host}/{target_port}/");
    case TunnelProtocol::Tcp:
        return QStringLiteral("/.well-known/masque/tcp/{target_host}/{target_port}/");
    case TunnelProtocol::Ip:
        return QStringLiteral("/.well-known/masque/ip/{target}/{ipproto}/");
    }
    return {};
}

QString defaultTemplate(TunnelProtocol protocol, QStringView proxyAuthority)
{
    return QStringLiteral("https://") + proxyAuthority + defaultTemplatePath(protocol);
}

QString formatAuthority(QStringView host, quint16 port)
{
    const bool ipv6 = host.contains(u':') && !host.startsWith(u'[');
    return (ipv6 ? u'[' + host + u']' : host.toString()) + u':' + QString::number(port);
}

Status validateMasqueTemplate(const UriTemplate &uriTemplate, TunnelProtocol protocol,
                              bool requireAbsolute)
{
    const QString &text = uriTemplate.text();
    for (const QChar c : text) {
        if (c.unicode() < 0x21 || c.unicode() > 0x7e) {
            return badTemplate(QStringLiteral("MASQUE URI template must be printable ASCII "
                                              "without spaces"));
        }
    }
    using Op = UriTemplate::Operator;
    for (const Op op :
         {Op::Reserved, Op::Fragment, Op::Label, Op::PathSegment, Op::PathParameter}) {
        if (uriTemplate.usesOperator(op)) {
            return badTemplate(QStringLiteral("MASQUE URI template must not use the + # . / ; "
                                              "operators"));
        }
    }
    const QList<UriTemplate::Part> &parts = uriTemplate.parts();
    if (parts.isEmpty() || parts[0].isExpression)
        return badTemplate(QStringLiteral("MASQUE URI template must start with a literal"));
    const QString &first = parts[0].literal;
    const qsizetype schemeEnd = first.indexOf(QStringLiteral("://"));
    const bool absolute = schemeEnd > 0 && isValidScheme(QStringView(first).first(schemeEnd));
    if (absolute) {
        // RFC 9298, 2: non-empty authority and path, variables only in the path and query.
        qsizetype pathAt = schemeEnd + 3;
        while (pathAt < first.size() && first[pathAt] != u'/' && first[pathAt] != u'?')
            ++pathAt;
        if (pathAt == first.size()) {
            return badTemplate(parts.size() > 1
                                   ? QStringLiteral("MASQUE URI template has a variable outside "
                                                    "its path and query")
                                   : QStringLiteral("MASQUE URI template has no path"));
        }
        if (pathAt == schemeEnd + 3)
            return badTemplate(QStringLiteral("MASQUE URI template has an empty authority"));
        if (first[pathAt] != u'/')
            return badTemplate(QStringLiteral("MASQUE URI template path must start with '/'"));
    } else if (requireAbsolute) {
        return badTemplate(QStringLiteral("MASQUE URI template must be an absolute URI"));
    } else if (!first.startsWith(u'/')) {
        return badTemplate(QStringLiteral("MASQUE URI template path must start with '/'"));
    }
    // A fragment never reaches the proxy (:path has none), so no variable may sit in one.
    bool inFragment = false;
    for (const UriTemplate::Part &part : parts) {
        if (!part.isExpression)
            inFragment = inFragment || part.literal.contains(u'#');
        else if (inFragment)
            return badTemplate(
                QStringLiteral("MASQUE URI template has a variable in its fragment"));
    }
    if (protocol == TunnelProtocol::Udp || protocol == TunnelProtocol::Tcp) {
        for (const QString &name : {kTargetHost, kTargetPort}) {
            if (!uriTemplate.hasVariable(name)) {
                return Error(ErrorCode::MissingTemplateVariable,
                             QStringLiteral("URI template lacks {%1}").arg(name));
            }
        }
    }
    return {};
}

bool isValidHostname(QStringView name) noexcept
{
    if (name.isEmpty() || name.size() > 253)
        return false;
    qsizetype labelStart = 0;
    bool lastLabelNumeric = true;
    for (qsizetype i = 0; i <= name.size(); ++i) {
        if (i == name.size() || name[i] == u'.') {
            const qsizetype length = i - labelStart;
            if (length == 0 || length > 63 || name[labelStart] == u'-' || name[i - 1] == u'-')
                return false;
            lastLabelNumeric = true;
            for (qsizetype j = labelStart; j < i; ++j)
                lastLabelNumeric = lastLabelNumeric && isAsciiDigit(name[j]);
            labelStart = i + 1;
            continue;
        }
        const char16_t c = name[i].unicode();
        const bool ldh =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ldh)
            return false;
    }
    // RFC 3696, 2: a top-level domain is never all-numeric, so such a name is a mangled address.
    return !lastLabelNumeric;
}

Result<HostTarget> parseHostTarget(QStringView host, QStringView port)
{
    HostTarget target;
    if (host.isEmpty())
        return Error(ErrorCode::BadHost, QStringLiteral("empty target_host"));
    if (host.contains(u':')) {
        // RFC 9298, 2: an IPv6 literal, colons percent-encoded; zone identifiers unsupported.
        const auto address = IpAddress::fromString(host);
        if (!address) {
            return Error(ErrorCode::BadHost,
                         QStringLiteral("target_host %1 is not an IPv6 address (no brackets, "
                                        "no zone id)")
                             .arg(describe(host)));
        }
        target.kind = HostTarget::Kind::Ipv6;
        target.address = *address;
        target.host = address->toString();
    } else if (isAllDigitsAndDots(host)) {
        const auto address = IpAddress::fromString(host);
        if (!address) {
            return Error(ErrorCode::BadHost,
                         QStringLiteral("target_host %1 is not a dotted-quad IPv4 address")
                             .arg(describe(host)));
        }
        target.kind = HostTarget::Kind::Ipv4;
        target.address = *address;
        target.host = address->toString();
    } else if (isValidHostname(host)) {
        target.kind = HostTarget::Kind::Name;
        target.host = host.toString().toLower();
    } else {
        return Error(ErrorCode::BadHost,
                     QStringLiteral("target_host %1 is not a valid host name").arg(describe(host)));
    }
    int value = 0;
    if (!parseDecimal(port, 5, &value) || value < 1 || value > 65535) {
        return Error(
            ErrorCode::BadPort,
            QStringLiteral("target_port %1 is not a port number 1..65535").arg(describe(port)));
    }
    target.port = quint16(value);
    return target;
}

Result<QString> expandHostTemplate(const UriTemplate &uriTemplate, QStringView host, quint16 port)
{
    for (const QString &name : {kTargetHost, kTargetPort}) {
        if (!uriTemplate.hasVariable(name)) {
            return Error(ErrorCode::MissingTemplateVariable,
                         QStringLiteral("URI template lacks {%1}").arg(name));
        }
    }
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.sliced(1, host.size() - 2);
    auto target = parseHostTarget(host, QString::number(port));
    if (!target)
        return target.error();
    return uriTemplate.expand({{kTargetHost, target->host}, {kTargetPort, QString::number(port)}});
}

Result<HostTarget> matchHostRequest(const UriTemplate &uriTemplate, QStringView requestTarget)
{
    auto variables = uriTemplate.match(requestTarget);
    if (!variables)
        return variables.error();
    for (const QString &name : {kTargetHost, kTargetPort}) {
        if (!variables->contains(name)) {
            return Error(ErrorCode::MissingTemplateVariable,
                         QStringLiteral("request has no %1").arg(name));
        }
    }
    return parseHostTarget(variables->value(kTargetHost), variables->value(kTargetPort));
}

QString IpTarget::toString() const
{
    switch (kind) {
    case Kind::Any:
        return QStringLiteral("*");
    case Kind::Prefix:
        return prefix.length == prefix.address.bitLength() ? prefix.address.toString()
                                                           : prefix.toString();
    case Kind::Name:
        return hostname;
    }
    return {};
}

Result<IpTarget> parseIpTarget(QStringView target)
{
    if (target == u"*")
        return IpTarget::any();
    auto bad = [&](const char *why) {
        return Error(ErrorCode::BadTarget,
                     QStringLiteral("target %1 %2").arg(describe(target), QLatin1String(why)));
    };
    if (target.isEmpty())
        return bad("is empty");
    // RFC 9484, 4.6: IPv6prefix / IPv4prefix / reg-name / "*".
    const qsizetype slash = target.indexOf(u'/');
    const QStringView addressText = slash < 0 ? target : target.first(slash);
    if (slash >= 0 || addressText.contains(u':') || isAllDigitsAndDots(addressText)) {
        const auto address = IpAddress::fromString(addressText);
        if (!address)
            return bad("is not an IP address or prefix (no zone ids)");
        IpPrefix prefix = IpPrefix::host(*address);
        if (slash >= 0) {
            const int maxDigits = address->isIpv4() ? 2 : 3;
            if (!parseDecimal(target.sliced(slash + 1), maxDigits, &prefix.length) ||
                prefix.length > address->bitLength())
                return bad("has an invalid prefix length");
        }
        if (!prefix.isCanonical())
            return bad("has bits set past its prefix length");
        return IpTarget::fromPrefix(prefix);
    }
    if (!isValidHostname(target))
        return bad("is not a valid host name");
    return IpTarget::fromName(target.toString().toLower());
}

Result<std::optional<quint8>> parseIpProtocol(QStringView ipproto)
{
    if (ipproto == u"*")
        return std::optional<quint8>();
    int value = 0;
    if (!parseDecimal(ipproto, 3, &value) || value > 255) {
        return Error(ErrorCode::BadIpProto,
                     QStringLiteral("ipproto %1 is not \"*\" or 0..255").arg(describe(ipproto)));
    }
    return std::optional<quint8>(quint8(value));
}

QString formatIpProtocol(std::optional<quint8> ipProtocol)
{
    return ipProtocol ? QString::number(*ipProtocol) : QStringLiteral("*");
}

Result<QString> expandIpTemplate(const UriTemplate &uriTemplate, const IpScope &scope)
{
    // Re-validate what the caller built, so the proxy never sees a target we would refuse.
    const QString target = scope.target.toString();
    auto checked = parseIpTarget(target);
    if (!checked)
        return checked.error();
    UriVariables variables;
    if (uriTemplate.hasVariable(kTarget))
        variables.insert(kTarget, target);
    if (uriTemplate.hasVariable(kIpProto))
        variables.insert(kIpProto, formatIpProtocol(scope.ipProtocol));
    return uriTemplate.expand(variables);
}

Result<IpScope> matchIpRequest(const UriTemplate &uriTemplate, QStringView requestTarget)
{
    auto variables = uriTemplate.match(requestTarget);
    if (!variables)
        return variables.error();
    IpScope scope;
    if (const auto it = variables->constFind(kTarget); it != variables->cend()) {
        auto target = parseIpTarget(*it);
        if (!target)
            return target.error();
        scope.target = *target;
    }
    if (const auto it = variables->constFind(kIpProto); it != variables->cend()) {
        auto ipProtocol = parseIpProtocol(*it);
        if (!ipProtocol)
            return ipProtocol.error();
        scope.ipProtocol = *ipProtocol;
    }
    return scope;
}

Result<RequestUri> splitRequestUri(QStringView uri)
{
    const qsizetype schemeEnd = uri.indexOf(QStringLiteral("://"));
    if (schemeEnd <= 0 || !isValidScheme(uri.first(schemeEnd)))
        return badTemplate(QStringLiteral("request URI %1 is not absolute").arg(describe(uri)));
    qsizetype pathAt = schemeEnd + 3;
    while (pathAt < uri.size() && uri[pathAt] != u'/' && uri[pathAt] != u'?' && uri[pathAt] != u'#')
        ++pathAt;
    if (pathAt == schemeEnd + 3)
        return badTemplate(QStringLiteral("request URI %1 has no authority").arg(describe(uri)));
    if (pathAt == uri.size() || uri[pathAt] != u'/')
        return badTemplate(QStringLiteral("request URI %1 has no path").arg(describe(uri)));
    if (uri.sliced(pathAt).contains(u'#'))
        return badTemplate(QStringLiteral("request URI %1 has a fragment").arg(describe(uri)));
    return RequestUri{uri.first(schemeEnd).toString().toLower(),
                      uri.sliced(schemeEnd + 3, pathAt - schemeEnd - 3).toString(),
                      uri.sliced(pathAt).toString()};
}

} // namespace qmasque::wire
