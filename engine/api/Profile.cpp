#include "api/Profile.h"

#include "transport/TlsSettings.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QSaveFile>
#include <QtCore/QStandardPaths>
#include <QtCore/QUrl>
#include <QtNetwork/QHostAddress>

#include <variant>

namespace qmasque {

namespace {

Error invalid(QLatin1StringView key, const QString &problem)
{
    return Error(ErrorCode::InvalidConfig, key + QStringLiteral(": ") + problem);
}

bool isHostNameChar(QChar c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') ||
           c == u'-' || c == u'.' || c == u'_';
}

bool isValidHost(QStringView host)
{
    if (host.isEmpty() || host.size() > 253)
        return false;
    if (QHostAddress address; address.setAddress(host.toString()))
        return true;
    for (QChar c : host) {
        if (!isHostNameChar(c))
            return false;
    }
    return !host.startsWith(u'.') && !host.startsWith(u'-');
}

// RFC 9110, 5.6.2: token = 1*tchar.
bool isToken(QStringView text)
{
    static const QString kSpecials = QStringLiteral("!#$%&'*+-.^_`|~");
    if (text.isEmpty())
        return false;
    for (QChar c : text) {
        const bool alnum =
            (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9');
        if (!alnum && !kSpecials.contains(c))
            return false;
    }
    return true;
}

bool hasControlCharacters(QStringView text)
{
    for (QChar c : text) {
        if (c == u'\r' || c == u'\n' || c == u'\0')
            return true;
    }
    return false;
}

// Request fields the engine writes itself; a user header may not override them.
bool isReservedHeader(QStringView name)
{
    static const QStringList kReserved = {QStringLiteral("host"),
                                          QStringLiteral("connection"),
                                          QStringLiteral("upgrade"),
                                          QStringLiteral("capsule-protocol"),
                                          QStringLiteral("content-length"),
                                          QStringLiteral("transfer-encoding"),
                                          QStringLiteral("te"),
                                          QStringLiteral("keep-alive"),
                                          QStringLiteral("proxy-connection")};
    return name.startsWith(u':') || kReserved.contains(name.toString().toLower());
}

Status checkFile(QLatin1StringView key, const QString &path)
{
    if (path.isEmpty())
        return {};
    const QFileInfo info(path);
    if (!info.isFile() || !info.isReadable())
        return invalid(key, QStringLiteral("cannot read file '%1'").arg(path));
    return {};
}

Status checkListen(QLatin1StringView key, const QString &value)
{
    if (value.isEmpty())
        return {};
    auto endpoint = parseEndpoint(value, u"127.0.0.1");
    if (!endpoint)
        return invalid(key, endpoint.error().detail);
    return {};
}

Status checkRange(QLatin1StringView key, int value, int min, int max)
{
    if (value < min || value > max)
        return invalid(key, QStringLiteral("%1 is outside %2..%3").arg(value).arg(min).arg(max));
    return {};
}

Status checkTemplate(QLatin1StringView key, const QString &value,
                     std::initializer_list<const char *> variables)
{
    if (value.isEmpty())
        return {};
    if (!value.startsWith(u'/') && !value.startsWith(QStringLiteral("https://")))
        return invalid(key, QStringLiteral("must be a path or an https:// URI template"));
    if (hasControlCharacters(value) || value.contains(u' '))
        return invalid(key, QStringLiteral("contains spaces or control characters"));
    for (const char *variable : variables) {
        if (!value.contains(QLatin1StringView(variable)))
            return invalid(
                key, QStringLiteral("must use the variable {%1}").arg(QLatin1StringView(variable)));
    }
    return {};
}

// The JSON keys, in the order they are written. Fields with a plain JSON mapping are listed in
// kFields; transports, tcp-mode and the forwards are converted by hand.
using Member =
    std::variant<QString Profile::*, bool Profile::*, int Profile::*, QStringList Profile::*>;
struct Field
{
    QLatin1StringView key;
    Member member;
    const char *valueName; // "" for flags
    const char *help;
};

const Field kFields[] = {
    {QLatin1StringView("name"), &Profile::name, "NAME", "Profile name shown in the dashboard."},
    {QLatin1StringView("proxy"), &Profile::proxy, "URL", "The MASQUE proxy, https://HOST[:PORT]."},
    {QLatin1StringView("ca"), &Profile::ca, "FILE",
     "Extra trust anchors (PEM) for the proxy certificate."},
    {QLatin1StringView("pin-sha256"), &Profile::pinSha256, "B64",
     "Trust the proxy whose SPKI or certificate has this SHA-256 (base64 or hex); repeatable."},
    {QLatin1StringView("insecure"), &Profile::insecure, "",
     "Do not verify the proxy certificate (dangerous; logged)."},
    {QLatin1StringView("sni"), &Profile::sni, "NAME",
     "TLS server name to send instead of the proxy host."},
    {QLatin1StringView("client-cert"), &Profile::clientCert, "FILE",
     "Client certificate (PEM) for mTLS."},
    {QLatin1StringView("client-key"), &Profile::clientKey, "FILE",
     "Client private key (PEM) for mTLS."},
    {QLatin1StringView("proxy-auth"), &Profile::proxyAuth, "AUTH",
     "Proxy credentials: basic:USER:PASS or bearer:TOKEN."},
    {QLatin1StringView("header"), &Profile::headers, "NAME:VALUE",
     "Extra request header for every tunnel; repeatable."},
    {QLatin1StringView("udp-template"), &Profile::udpTemplate, "TEMPLATE",
     "CONNECT-UDP URI template (default /.well-known/masque/udp/{target_host}/{target_port}/)."},
    {QLatin1StringView("tcp-template"), &Profile::tcpTemplate, "TEMPLATE",
     "connect-tcp URI template (default /.well-known/masque/tcp/{target_host}/{target_port}/)."},
    {QLatin1StringView("ip-template"), &Profile::ipTemplate, "TEMPLATE",
     "CONNECT-IP URI template (default /.well-known/masque/ip/{target}/{ipproto}/)."},
    {QLatin1StringView("socks"), &Profile::socks, "ADDR:PORT",
     "Open a SOCKS5 listener (loopback unless an address is given)."},
    {QLatin1StringView("socks-auth"), &Profile::socksAuth, "USER:PASS",
     "Require SOCKS5 username/password authentication (RFC 1929)."},
    {QLatin1StringView("http-proxy"), &Profile::httpProxy, "ADDR:PORT",
     "Open an HTTP proxy listener (CONNECT and absolute-form requests)."},
    {QLatin1StringView("tun"), &Profile::tun, "NAME",
     "Create a TUN device carried by one CONNECT-IP tunnel (Linux, CAP_NET_ADMIN)."},
    {QLatin1StringView("udp-idle-ms"), &Profile::udpIdleMs, "MS",
     "Close a UDP forward's tunnel for a local peer after MS quiet milliseconds (0 = never)."},
    {QLatin1StringView("pool-idle-ms"), &Profile::poolIdleMs, "MS",
     "Close an unused upstream connection after MS milliseconds (0 = never)."},
    {QLatin1StringView("pool-max-streams"), &Profile::poolMaxStreams, "N|dynamic",
     "Tunnels per upstream connection, or dynamic (the limit the proxy announces)."},
    {QLatin1StringView("pool-max-connections"), &Profile::poolMaxConnections, "N",
     "Upstream connections per proxy and transport; beyond, tunnels wait for a free slot."},
    {QLatin1StringView("connect-timeout-ms"), &Profile::connectTimeoutMs, "MS",
     "Deadline for reaching the proxy and opening a tunnel."},
    {QLatin1StringView("h2-head-start-ms"), &Profile::h2HeadStartMs, "MS",
     "How long HTTP/3 races alone before HTTP/2 starts."},
    {QLatin1StringView("h1-head-start-ms"), &Profile::h1HeadStartMs, "MS",
     "How long after HTTP/2 the HTTP/1.1 attempt starts."},
    {QLatin1StringView("snapshot"), &Profile::snapshot, "FILE",
     "Write the pool snapshot JSON to FILE (atomically) every --snapshot-ms."},
    {QLatin1StringView("snapshot-ms"), &Profile::snapshotMs, "MS",
     "Snapshot file interval in milliseconds."},
    {QLatin1StringView("metrics"), &Profile::metrics, "ADDR:PORT",
     "Serve OpenMetrics on http://ADDR:PORT/metrics."},
    {QLatin1StringView("log-level"), &Profile::logLevel, "LEVEL", "debug, info, warning or error."},
    {QLatin1StringView("demo"), &Profile::demo, "",
     "Start the built-in proxy and demo targets on loopback and use them."},
};

constexpr QLatin1StringView kTransportsKey("transports");
constexpr QLatin1StringView kTcpModeKey("tcp-mode");
constexpr QLatin1StringView kUdpForwardKey("udp-forward");
constexpr QLatin1StringView kTcpForwardKey("tcp-forward");

QJsonArray toArray(const QStringList &list)
{
    return QJsonArray::fromStringList(list);
}

Result<QStringList> stringList(QLatin1StringView key, const QJsonValue &value)
{
    if (!value.isArray())
        return invalid(key, QStringLiteral("must be an array of strings"));
    QStringList list;
    for (const QJsonValue &item : value.toArray()) {
        if (!item.isString())
            return invalid(key, QStringLiteral("must be an array of strings"));
        list << item.toString();
    }
    return list;
}

Result<QList<Forward>> forwards(QLatin1StringView key, const QJsonValue &value)
{
    auto list = stringList(key, value);
    if (!list)
        return list.error();
    QList<Forward> out;
    for (const QString &text : *list) {
        auto forward = parseForward(text);
        if (!forward)
            return invalid(key, forward.error().detail);
        out << *forward;
    }
    return out;
}

} // namespace

QString Endpoint::toString() const
{
    const bool v6 = host.contains(u':');
    return (v6 ? QLatin1Char('[') + host + QLatin1Char(']') : host) + QLatin1Char(':') +
           QString::number(port);
}

Result<Endpoint> parseEndpoint(QStringView text, QStringView defaultHost)
{
    const QString bad = QStringLiteral("'%1' is not HOST:PORT").arg(text);
    Endpoint endpoint;
    QStringView portText;
    if (text.startsWith(u'[')) {
        const qsizetype close = text.indexOf(u']');
        if (close < 0 || text.sliced(close + 1).size() < 2 || text[close + 1] != u':')
            return Error(ErrorCode::InvalidArgument, bad);
        endpoint.host = text.sliced(1, close - 1).toString();
        if (QHostAddress address; !address.setAddress(endpoint.host) ||
                                  address.protocol() != QAbstractSocket::IPv6Protocol)
            return Error(ErrorCode::InvalidArgument, bad);
        portText = text.sliced(close + 2);
    } else {
        const qsizetype colon = text.lastIndexOf(u':');
        if (colon < 0) {
            if (defaultHost.isEmpty())
                return Error(ErrorCode::InvalidArgument, bad);
            endpoint.host = defaultHost.toString();
            portText = text;
        } else {
            endpoint.host = text.first(colon).toString();
            if (endpoint.host.contains(u':')) // a bare IPv6 literal needs brackets
                return Error(ErrorCode::InvalidArgument, bad);
            portText = text.sliced(colon + 1);
        }
    }
    if (!isValidHost(endpoint.host))
        return Error(ErrorCode::InvalidArgument, bad);
    bool digitsOnly = !portText.isEmpty() && portText.size() <= 5;
    for (QChar c : portText)
        digitsOnly = digitsOnly && c.isDigit();
    const uint port = digitsOnly ? portText.toUInt() : 70000;
    if (port > 65535)
        return Error(ErrorCode::InvalidArgument,
                     QStringLiteral("'%1' has no valid port (0..65535)").arg(text));
    endpoint.port = quint16(port);
    return endpoint;
}

QString Forward::toString() const
{
    return local.toString() + QLatin1Char('=') + target.toString();
}

Result<Forward> parseForward(QStringView text)
{
    const qsizetype equals = text.indexOf(u'=');
    if (equals <= 0)
        return Error(ErrorCode::InvalidArgument,
                     QStringLiteral("'%1' is not [ADDR:]PORT=HOST:PORT").arg(text));
    auto local = parseEndpoint(text.first(equals), u"127.0.0.1");
    if (!local)
        return local.error();
    auto target = parseEndpoint(text.sliced(equals + 1));
    if (!target)
        return target.error();
    if (target->port == 0)
        return Error(ErrorCode::InvalidArgument,
                     QStringLiteral("'%1': the target port cannot be 0").arg(text));
    return Forward{*local, *target};
}

Status Profile::validate() const
{
    const auto key = [](const char *k) {
        return QLatin1StringView(k);
    };
    if (name.trimmed().isEmpty())
        return invalid(key("name"), QStringLiteral("must not be empty"));
    if (proxy.isEmpty()) {
        if (!demo)
            return invalid(key("proxy"), QStringLiteral("required (https://HOST[:PORT]), "
                                                        "or use --demo"));
    } else {
        const QUrl url(proxy, QUrl::StrictMode);
        if (!url.isValid() || url.scheme() != QStringLiteral("https") || url.host().isEmpty() ||
            !url.userInfo().isEmpty() || !(url.path().isEmpty() || url.path() == u"/") ||
            url.hasQuery() || url.hasFragment() || url.port(443) <= 0)
            return invalid(key("proxy"),
                           QStringLiteral("'%1' is not https://HOST[:PORT]").arg(proxy));
    }
    if (transports.isEmpty())
        return invalid(kTransportsKey, QStringLiteral("must list at least one of h3, h2, h1"));
    for (qsizetype i = 0; i < transports.size(); ++i) {
        if (transports.indexOf(transports[i]) != i)
            return invalid(kTransportsKey,
                           QStringLiteral("lists %1 twice")
                               .arg(QLatin1StringView(transportKindName(transports[i]))));
    }
    if (auto s = checkFile(key("ca"), ca); !s)
        return s;
    for (const QString &pin : pinSha256) {
        if (parsePin(pin).isEmpty())
            return invalid(key("pin-sha256"),
                           QStringLiteral("'%1' is not a base64 or hex SHA-256 digest").arg(pin));
    }
    if (clientCert.isEmpty() != clientKey.isEmpty())
        return invalid(key(clientCert.isEmpty() ? "client-key" : "client-cert"),
                       QStringLiteral("client-cert and client-key go together"));
    if (auto s = checkFile(key("client-cert"), clientCert); !s)
        return s;
    if (auto s = checkFile(key("client-key"), clientKey); !s)
        return s;
    if (!sni.isEmpty() && !isValidHost(sni))
        return invalid(key("sni"), QStringLiteral("'%1' is not a host name").arg(sni));
    if (!proxyAuth.isEmpty()) {
        const bool basic = proxyAuth.startsWith(QStringLiteral("basic:"));
        const bool bearer = proxyAuth.startsWith(QStringLiteral("bearer:"));
        const QString rest = proxyAuth.mid(basic ? 6 : 7);
        if ((!basic && !bearer) || rest.isEmpty() || hasControlCharacters(proxyAuth) ||
            (basic && rest.indexOf(u':') <= 0) || (bearer && rest.contains(u' ')))
            return invalid(key("proxy-auth"),
                           QStringLiteral("must be basic:USER:PASS or bearer:TOKEN"));
    }
    for (const QString &header : headers) {
        const qsizetype colon = header.indexOf(u':', 1);
        const QString headerName = colon > 0 ? header.first(colon).trimmed() : QString();
        if (colon <= 0 || !isToken(headerName))
            return invalid(key("header"), QStringLiteral("'%1' is not NAME:VALUE").arg(header));
        if (isReservedHeader(headerName))
            return invalid(key("header"),
                           QStringLiteral("'%1' is set by QMasque itself").arg(headerName));
        if (hasControlCharacters(header))
            return invalid(key("header"),
                           QStringLiteral("'%1' contains CR, LF or NUL").arg(headerName));
    }
    if (auto s = checkTemplate(key("udp-template"), udpTemplate, {"target_host", "target_port"});
        !s)
        return s;
    if (auto s = checkTemplate(key("tcp-template"), tcpTemplate, {"target_host", "target_port"});
        !s)
        return s;
    if (auto s = checkTemplate(key("ip-template"), ipTemplate, {"target", "ipproto"}); !s)
        return s;
    if (auto s = checkListen(key("socks"), socks); !s)
        return s;
    if (!socksAuth.isEmpty()) {
        const qsizetype colon = socksAuth.indexOf(u':');
        if (colon <= 0 || colon > 255 || socksAuth.size() - colon - 1 > 255 ||
            socksAuth.size() - colon - 1 < 1)
            return invalid(key("socks-auth"), QStringLiteral("must be USER:PASS (1..255 each)"));
    }
    if (auto s = checkListen(key("http-proxy"), httpProxy); !s)
        return s;
    if (auto s = checkListen(key("metrics"), metrics); !s)
        return s;
    if (!tun.isEmpty()) {
        bool ok = tun.size() <= 15;
        for (QChar c : tun)
            ok = ok && isHostNameChar(c);
        if (!ok)
            return invalid(key("tun"), QStringLiteral("'%1' is not an interface name").arg(tun));
    }
    if (auto s = checkRange(key("pool-idle-ms"), poolIdleMs, 0, 86'400'000); !s)
        return s;
    if (auto s = checkRange(key("udp-idle-ms"), udpIdleMs, 0, 86'400'000); !s)
        return s;
    if (auto s = checkRange(key("pool-max-streams"), poolMaxStreams, 0, 1'000'000); !s)
        return s;
    if (auto s = checkRange(key("pool-max-connections"), poolMaxConnections, 1, 100'000); !s)
        return s;
    if (auto s = checkRange(key("connect-timeout-ms"), connectTimeoutMs, 100, 120'000); !s)
        return s;
    if (auto s = checkRange(key("h2-head-start-ms"), h2HeadStartMs, 0, 10'000); !s)
        return s;
    if (auto s = checkRange(key("h1-head-start-ms"), h1HeadStartMs, 0, 10'000); !s)
        return s;
    if (auto s = checkRange(key("snapshot-ms"), snapshotMs, 50, 3'600'000); !s)
        return s;
    static const QStringList kLevels = {QStringLiteral("debug"), QStringLiteral("info"),
                                        QStringLiteral("warning"), QStringLiteral("error")};
    if (!kLevels.contains(logLevel))
        return invalid(
            key("log-level"),
            QStringLiteral("'%1' is not one of debug, info, warning, error").arg(logLevel));
    return {};
}

QJsonObject Profile::toJson() const
{
    QJsonObject object;
    for (const Field &field : kFields) {
        std::visit(
            [&](auto member) {
                using T = std::remove_cvref_t<decltype(this->*member)>;
                if constexpr (std::is_same_v<T, QStringList>)
                    object.insert(field.key, toArray(this->*member));
                else
                    object.insert(field.key, this->*member);
            },
            field.member);
    }
    QStringList names;
    for (TransportKind kind : transports)
        names << QLatin1StringView(transportKindName(kind));
    object.insert(kTransportsKey, toArray(names));
    object.insert(kTcpModeKey, tcpMode == TcpMode::Connect ? QStringLiteral("connect")
                                                           : QStringLiteral("template"));
    QStringList udp;
    for (const Forward &forward : udpForwards)
        udp << forward.toString();
    object.insert(kUdpForwardKey, toArray(udp));
    QStringList tcp;
    for (const Forward &forward : tcpForwards)
        tcp << forward.toString();
    object.insert(kTcpForwardKey, toArray(tcp));
    return object;
}

Result<Profile> Profile::fromJson(const QJsonObject &object)
{
    Profile profile;
    for (auto it = object.begin(); it != object.end(); ++it) {
        const QString key = it.key();
        const QJsonValue value = it.value();
        const auto field = std::find_if(std::begin(kFields), std::end(kFields),
                                        [&](const Field &f) { return f.key == key; });
        if (field != std::end(kFields)) {
            Status status;
            std::visit(
                [&](auto member) {
                    using T = std::remove_cvref_t<decltype(profile.*member)>;
                    if constexpr (std::is_same_v<T, QString>) {
                        if (value.isString())
                            profile.*member = value.toString();
                        else
                            status = invalid(field->key, QStringLiteral("must be a string"));
                    } else if constexpr (std::is_same_v<T, bool>) {
                        if (value.isBool())
                            profile.*member = value.toBool();
                        else
                            status = invalid(field->key, QStringLiteral("must be true or false"));
                    } else if constexpr (std::is_same_v<T, int>) {
                        const double number = value.toDouble(-1.5);
                        if (value.isDouble() && number == double(qint64(number)) &&
                            number >= -2147483648.0 && number <= 2147483647.0)
                            profile.*member = int(number);
                        else
                            status = invalid(field->key, QStringLiteral("must be an integer"));
                    } else {
                        auto list = stringList(field->key, value);
                        if (list)
                            profile.*member = *list;
                        else
                            status = list.error();
                    }
                },
                field->member);
            if (!status)
                return status.error();
        } else if (key == kTransportsKey) {
            auto names = stringList(kTransportsKey, value);
            if (!names)
                return names.error();
            profile.transports.clear();
            for (const QString &name : *names) {
                TransportKind kind;
                if (!transportKindFromName(name, &kind))
                    return invalid(kTransportsKey,
                                   QStringLiteral("'%1' is not one of h3, h2, h1").arg(name));
                profile.transports << kind;
            }
        } else if (key == kTcpModeKey) {
            if (value.toString() == u"connect")
                profile.tcpMode = TcpMode::Connect;
            else if (value.toString() == u"template")
                profile.tcpMode = TcpMode::Template;
            else
                return invalid(kTcpModeKey, QStringLiteral("must be \"connect\" or \"template\""));
        } else if (key == kUdpForwardKey || key == kTcpForwardKey) {
            const bool udp = key == kUdpForwardKey;
            auto list = forwards(udp ? kUdpForwardKey : kTcpForwardKey, value);
            if (!list)
                return list.error();
            (udp ? profile.udpForwards : profile.tcpForwards) = *list;
        } else {
            return Error(ErrorCode::InvalidConfig, key + QStringLiteral(": unknown key"));
        }
    }
    return profile;
}

QList<ProfileOption> Profile::options()
{
    QList<ProfileOption> list;
    const auto add = [&list](QLatin1StringView key, const char *valueName, const char *help,
                             bool repeatable) {
        list.append({key, QString::fromLatin1(valueName), QString::fromLatin1(help), repeatable});
    };
    for (const Field &field : kFields) {
        const bool repeatable = std::holds_alternative<QStringList Profile::*>(field.member);
        add(field.key, field.valueName, field.help, repeatable);
    }
    add(kTransportsKey, "LIST", "Transports to race, in order: a comma list of h3, h2, h1.", false);
    add(kTcpModeKey, "MODE",
        "TCP tunnels as classic CONNECT (connect) or templated connect-tcp (template).", false);
    add(kUdpForwardKey, "LOCAL=TARGET",
        "Forward UDP from [ADDR:]PORT to HOST:PORT through CONNECT-UDP; repeatable.", true);
    add(kTcpForwardKey, "LOCAL=TARGET",
        "Forward TCP from [ADDR:]PORT to HOST:PORT through a TCP tunnel; repeatable.", true);
    return list;
}

Status Profile::applyOption(const QString &key, const QStringList &values)
{
    const QString last = values.isEmpty() ? QString() : values.last();
    const auto field = std::find_if(std::begin(kFields), std::end(kFields),
                                    [&](const Field &f) { return f.key == key; });
    if (field != std::end(kFields)) {
        Status status;
        std::visit(
            [&](auto member) {
                using T = std::remove_cvref_t<decltype(this->*member)>;
                if constexpr (std::is_same_v<T, QString>) {
                    this->*member = last;
                } else if constexpr (std::is_same_v<T, bool>) {
                    this->*member = true;
                } else if constexpr (std::is_same_v<T, int>) {
                    bool ok = false;
                    int number = last.toInt(&ok);
                    if (key == u"pool-max-streams" && last == u"dynamic") {
                        number = 0;
                        ok = true;
                    }
                    if (ok)
                        this->*member = number;
                    else
                        status =
                            invalid(field->key, QStringLiteral("'%1' is not an integer").arg(last));
                } else {
                    this->*member += values;
                }
            },
            field->member);
        return status;
    }
    if (key == kTransportsKey) {
        QJsonArray names;
        for (const QString &transport : last.split(u',', Qt::SkipEmptyParts))
            names.append(transport.trimmed());
        auto parsed = fromJson(QJsonObject{{kTransportsKey, names}});
        if (!parsed)
            return parsed.error();
        transports = parsed->transports;
        return {};
    }
    if (key == kTcpModeKey) {
        auto parsed = fromJson(QJsonObject{{kTcpModeKey, last}});
        if (!parsed)
            return parsed.error();
        tcpMode = parsed->tcpMode;
        return {};
    }
    if (key == kUdpForwardKey || key == kTcpForwardKey) {
        const bool udp = key == kUdpForwardKey;
        auto list = forwards(udp ? kUdpForwardKey : kTcpForwardKey, toArray(values));
        if (!list)
            return list.error();
        (udp ? udpForwards : tcpForwards) += *list;
        return {};
    }
    return Error(ErrorCode::InvalidConfig, key + QStringLiteral(": unknown option"));
}

Result<Profile> Profile::load(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return Error(ErrorCode::InvalidConfig,
                     QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return Error(ErrorCode::InvalidConfig, QStringLiteral("%1: JSON error at offset %2: %3")
                                                   .arg(path)
                                                   .arg(parseError.offset)
                                                   .arg(parseError.errorString()));
    if (!document.isObject())
        return Error(ErrorCode::InvalidConfig, path + QStringLiteral(": must be a JSON object"));
    return fromJson(document.object());
}

Status Profile::save(const QString &path) const
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return Error(ErrorCode::Io,
                     QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    file.write(QJsonDocument(toJson()).toJson(QJsonDocument::Indented));
    if (!file.commit())
        return Error(ErrorCode::Io,
                     QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

QString Profile::defaultPath()
{
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation);
    return QDir(dir.isEmpty() ? QDir::homePath() + QStringLiteral("/.config/qmasque") : dir)
        .filePath(QStringLiteral("profile.json"));
}

} // namespace qmasque
