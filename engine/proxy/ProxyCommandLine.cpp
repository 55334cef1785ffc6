#include "proxy/ProxyCommandLine.h"

#include "proxy/ProxyRequest.h"

#include <QtCore/QCommandLineParser>

namespace qmasque {

namespace {

Error bad(const QString &message)
{
    return Error(ErrorCode::InvalidArgument, message);
}

Result<int> parseNumber(const QString &text, const char *flag, int minimum, int maximum)
{
    bool ok = false;
    const int value = text.toInt(&ok);
    if (!ok || value < minimum || value > maximum)
        return bad(QStringLiteral("--%1 %2: expected a number from %3 to %4")
                       .arg(QLatin1StringView(flag), text)
                       .arg(minimum)
                       .arg(maximum));
    return value;
}

} // namespace

Result<ProxyListenAddress> ProxyCommandLine::parseListen(QStringView text)
{
    QStringView host;
    QStringView port;
    const auto error = [&text] {
        return bad(QStringLiteral("--listen %1: expected ADDR:PORT (an IPv4 address, or an IPv6 "
                                  "address in brackets, and a port 0..65535)")
                       .arg(text));
    };
    if (!splitAuthority(text, &host, &port) || host.isEmpty() || port.isEmpty())
        return error();
    QHostAddress address;
    if (!address.setAddress(host.toString()) || !address.scopeId().isEmpty())
        return error();
    bool ok = false;
    const uint number = port.toUInt(&ok);
    if (!ok || number > 65535)
        return error();
    // "[::]" serves both families on one socket (dual stack), for TCP and UDP alike.
    if (address == QHostAddress(QHostAddress::AnyIPv6))
        address = QHostAddress(QHostAddress::Any);
    return ProxyListenAddress{address, quint16(number)};
}

Result<ProxyCredential> ProxyCommandLine::parseAuth(QStringView text)
{
    ProxyCredential credential;
    if (text.startsWith(u"basic:")) {
        const QStringView rest = text.sliced(6);
        const qsizetype colon = rest.indexOf(u':');
        if (colon <= 0 || colon + 1 >= rest.size())
            return bad(QStringLiteral("--auth basic:USER:PASS: user and password must not be "
                                      "empty"));
        credential.scheme = ProxyCredential::Scheme::Basic;
        credential.user = rest.first(colon).toUtf8();
        credential.secret = rest.sliced(colon + 1).toUtf8();
        return credential;
    }
    if (text.startsWith(u"bearer:")) {
        if (text.size() == 7)
            return bad(QStringLiteral("--auth bearer:TOKEN: empty token"));
        credential.scheme = ProxyCredential::Scheme::Bearer;
        credential.secret = text.sliced(7).toUtf8();
        return credential;
    }
    return bad(QStringLiteral("--auth: expected basic:USER:PASS or bearer:TOKEN"));
}

Result<wire::IpPrefix> ProxyCommandLine::parsePrefix(QStringView text, const char *flag)
{
    auto prefix = wire::IpPrefix::fromString(text);
    if (!prefix || !prefix->isLengthValid())
        return bad(QStringLiteral("--%1 %2: expected a CIDR prefix such as 192.0.2.0/24")
                       .arg(QLatin1StringView(flag), text));
    if (!prefix->isCanonical())
        return bad(QStringLiteral("--%1 %2: host bits set (did you mean %3?)")
                       .arg(QLatin1StringView(flag), text,
                            wire::IpPrefix{prefix->first(), prefix->length}.toString()));
    return *prefix;
}

Result<ProxyCommandLine> ProxyCommandLine::parse(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("MASQUE proxy serving CONNECT, CONNECT-UDP and CONNECT-IP tunnels over "
                       "HTTP/3, HTTP/2 and HTTP/1.1 on one port number."));
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help and exit."));
    const QCommandLineOption version(QStringLiteral("version"),
                                     QStringLiteral("Show the version and exit."));
    const auto option = [](const char *name, const char *description, const char *value) {
        return QCommandLineOption(QString::fromLatin1(name), QString::fromLatin1(description),
                                  QString::fromLatin1(value));
    };
    const QCommandLineOption listen =
        option("listen",
               "Listen on ADDR:PORT, TCP (h2, h1) and UDP (h3) on the same port; repeatable. "
               "Port 0 picks a free port. Default 127.0.0.1:8443.",
               "ADDR:PORT");
    const QCommandLineOption cert = option("cert", "Certificate chain (PEM, leaf first).", "FILE");
    const QCommandLineOption key = option("key", "Private key (PEM).", "FILE");
    const QCommandLineOption selfSigned(
        QStringLiteral("self-signed"),
        QStringLiteral("Generate a fresh key and certificate at startup; the SHA-256 pin is "
                       "printed on stdout (pin-sha256=...)."));
    const QCommandLineOption transports =
        option("transports", "Transports to serve, comma-separated (default h3,h2,h1).", "LIST");
    const QCommandLineOption allow =
        option("allow",
               "Permit targets in CIDR although special-purpose (loopback, private, ...); "
               "repeatable.",
               "CIDR");
    const QCommandLineOption auth =
        option("auth", "Require Proxy-Authorization: basic:USER:PASS or bearer:TOKEN; repeatable.",
               "CRED");
    const QCommandLineOption maxPerConnection = option(
        "max-tunnels-per-connection",
        "Concurrent tunnels per connection, advertised as the stream limit (default 100).", "N");
    const QCommandLineOption maxTunnels =
        option("max-tunnels", "Concurrent tunnels in all (default 0: no limit).", "N");
    const QCommandLineOption udpTemplate =
        option("udp-template", "CONNECT-UDP URI template (RFC 9298).", "TEMPLATE");
    const QCommandLineOption tcpTemplate =
        option("tcp-template", "connect-tcp URI template.", "TEMPLATE");
    const QCommandLineOption ipTemplate =
        option("ip-template", "CONNECT-IP URI template (RFC 9484).", "TEMPLATE");
    const QCommandLineOption ipPool = option(
        "ip-pool",
        "CONNECT-IP address pool, one per IP version (default 10.89.0.0/24 and fd00:89::/64).",
        "CIDR");
    const QCommandLineOption tun = option(
        "tun", "Forward CONNECT-IP packets to this TUN device (Linux, CAP_NET_ADMIN).", "NAME");
    const QCommandLineOption idle =
        option("idle-timeout-ms", "Connection idle timeout (default 30000).", "MS");
    const QCommandLineOption connectTimeout =
        option("connect-timeout-ms", "TCP connect timeout towards targets (default 10000).", "MS");
    const QCommandLineOption drain =
        option("drain-timeout-ms",
               "On SIGTERM/SIGINT, how long open tunnels may finish (default 10000).", "MS");
    const QCommandLineOption logLevel =
        option("log-level", "error, warning, info (default) or debug.", "LEVEL");
    parser.addOptions({help,       version,     listen,         cert,       key,
                       selfSigned, transports,  allow,          auth,       maxPerConnection,
                       maxTunnels, udpTemplate, tcpTemplate,    ipTemplate, ipPool,
                       tun,        idle,        connectTimeout, drain,      logLevel});

    if (!parser.parse(arguments))
        return bad(parser.errorText());
    if (!parser.positionalArguments().isEmpty())
        return bad(QStringLiteral("unexpected argument %1").arg(parser.positionalArguments()[0]));

    ProxyCommandLine line;
    if (parser.isSet(help)) {
        line.action = Action::Help;
        line.helpText = parser.helpText();
        return line;
    }
    if (parser.isSet(version)) {
        line.action = Action::Version;
        return line;
    }
    ProxyConfig &config = line.config;
    for (const QString &value : parser.values(listen)) {
        auto parsed = parseListen(value);
        if (!parsed)
            return parsed.error();
        config.listen.append(*parsed);
    }
    config.certificateFile = parser.value(cert);
    config.privateKeyFile = parser.value(key);
    config.selfSigned = parser.isSet(selfSigned);
    if (parser.isSet(transports)) {
        config.enableH3 = config.enableH2 = config.enableH1 = false;
        for (const QString &name : parser.value(transports).split(u',')) {
            TransportKind kind;
            if (!transportKindFromName(name.trimmed(), &kind))
                return bad(QStringLiteral("--transports: unknown transport \"%1\" (h3, h2, h1)")
                               .arg(name));
            (kind == TransportKind::H3   ? config.enableH3
             : kind == TransportKind::H2 ? config.enableH2
                                         : config.enableH1) = true;
        }
    }
    for (const QString &value : parser.values(allow)) {
        auto prefix = parsePrefix(value, "allow");
        if (!prefix)
            return prefix.error();
        config.allow.append(*prefix);
    }
    for (const QString &value : parser.values(auth)) {
        auto credential = parseAuth(value);
        if (!credential)
            return credential.error();
        config.credentials.append(*credential);
    }
    for (const QString &value : parser.values(ipPool)) {
        auto prefix = parsePrefix(value, "ip-pool");
        if (!prefix)
            return prefix.error();
        config.ipPools.append(*prefix);
    }
    const struct
    {
        const QCommandLineOption &option;
        const char *name;
        int *target;
        int minimum;
        int maximum;
    } numbers[] = {
        {maxPerConnection, "max-tunnels-per-connection", &config.maxTunnelsPerConnection, 1,
         1000000},
        {maxTunnels, "max-tunnels", &config.maxTunnels, 0, 100000000},
        {idle, "idle-timeout-ms", &config.idleTimeoutMs, 0, 86400000},
        {connectTimeout, "connect-timeout-ms", &config.connectTimeoutMs, 1, 600000},
        {drain, "drain-timeout-ms", &config.drainTimeoutMs, 0, 3600000},
    };
    for (const auto &number : numbers) {
        if (!parser.isSet(number.option))
            continue;
        auto value =
            parseNumber(parser.value(number.option), number.name, number.minimum, number.maximum);
        if (!value)
            return value.error();
        *number.target = *value;
    }
    config.udpTemplate = parser.value(udpTemplate);
    config.tcpTemplate = parser.value(tcpTemplate);
    config.ipTemplate = parser.value(ipTemplate);
    config.tunDevice = parser.value(tun);
    if (parser.isSet(logLevel)) {
        line.logLevel = parser.value(logLevel).toLower();
        if (!QStringList{QStringLiteral("error"), QStringLiteral("warning"), QStringLiteral("info"),
                         QStringLiteral("debug")}
                 .contains(line.logLevel))
            return bad(QStringLiteral("--log-level %1: error, warning, info or debug")
                           .arg(parser.value(logLevel)));
    }
    if (Status valid = validateProxyConfig(config); !valid)
        return bad(valid.error().detail);
    return line;
}

} // namespace qmasque
