#include "local/Socks5Codec.h"

#include "wire/ByteReader.h"

namespace qmasque::socks5 {

namespace {

Failure failure(QString detail, Reply reply)
{
    return Failure{Error(ErrorCode::SocksProtocolError, std::move(detail)), reply};
}

// Reads ATYP DST.ADDR DST.PORT. nullopt = need more bytes; sets `bad` on a malformed address.
std::optional<Address> readAddress(wire::ByteReader &reader, std::optional<Failure> &bad)
{
    const auto type = reader.readU8();
    if (!type)
        return std::nullopt;
    Address address;
    switch (*type) {
    case quint8(AddressType::IPv4):
    case quint8(AddressType::IPv6): {
        address.type = AddressType(*type);
        const auto bytes = reader.readBytes(address.type == AddressType::IPv4 ? 4 : 16);
        if (!bytes)
            return std::nullopt;
        address.host = bytes->toByteArray();
        break;
    }
    case quint8(AddressType::DomainName): {
        address.type = AddressType::DomainName;
        const auto length = reader.readU8();
        if (!length)
            return std::nullopt;
        if (*length == 0) {
            bad = failure(QStringLiteral("empty domain name"), Reply::GeneralFailure);
            return std::nullopt;
        }
        const auto bytes = reader.readBytes(*length);
        if (!bytes)
            return std::nullopt;
        for (char c : *bytes) {
            // A domain name goes to the proxy inside a URI template: refuse control characters
            // and separators instead of letting them reach the request.
            const auto u = static_cast<unsigned char>(c);
            if (u <= 0x20 || u >= 0x7f || c == '/' || c == '?' || c == '#' || c == '%' ||
                c == '@') {
                bad = failure(QStringLiteral("invalid character in domain name"),
                              Reply::GeneralFailure);
                return std::nullopt;
            }
        }
        address.host = bytes->toByteArray();
        break;
    }
    default:
        bad = failure(QStringLiteral("address type %1 not supported").arg(*type),
                      Reply::AddressTypeNotSupported);
        return std::nullopt;
    }
    const auto port = reader.readU16();
    if (!port)
        return std::nullopt;
    address.port = *port;
    return address;
}

void appendAddress(QByteArray &out, const Address &address)
{
    out.append(char(address.type));
    if (address.type == AddressType::DomainName)
        out.append(char(quint8(address.host.size())));
    out.append(address.host);
    out.append(char(address.port >> 8));
    out.append(char(address.port & 0xff));
}

} // namespace

QString Address::hostString() const
{
    if (type == AddressType::DomainName)
        return QString::fromLatin1(host);
    if (type == AddressType::IPv4 && host.size() == 4) {
        return QStringLiteral("%1.%2.%3.%4")
            .arg(quint8(host[0]))
            .arg(quint8(host[1]))
            .arg(quint8(host[2]))
            .arg(quint8(host[3]));
    }
    if (type == AddressType::IPv6 && host.size() == 16) {
        // RFC 5952: lower-case hex, leading zeros dropped, the longest run (>= 2) of zero groups
        // compressed to "::" (the first such run on ties).
        quint16 groups[8];
        for (int i = 0; i < 8; ++i)
            groups[i] = quint16((quint8(host[2 * i]) << 8) | quint8(host[2 * i + 1]));
        int bestStart = -1;
        int bestLength = 0;
        for (int i = 0; i < 8;) {
            if (groups[i] != 0) {
                ++i;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0)
                ++j;
            if (j - i > bestLength && j - i >= 2) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        QString text;
        for (int i = 0; i < 8; ++i) {
            if (i == bestStart) {
                text += QStringLiteral("::");
                i += bestLength - 1;
                continue;
            }
            if (!text.isEmpty() && !text.endsWith(QLatin1Char(':')))
                text += QLatin1Char(':');
            text += QString::number(groups[i], 16);
        }
        return text;
    }
    return {};
}

ParseResult<Greeting> parseGreeting(QByteArrayView in)
{
    wire::ByteReader reader(in);
    const auto version = reader.readU8();
    if (!version)
        return std::monostate{};
    if (*version != kVersion)
        return failure(QStringLiteral("not SOCKS5 (version %1)").arg(*version),
                       Reply::GeneralFailure);
    const auto count = reader.readU8();
    if (!count)
        return std::monostate{};
    if (*count == 0)
        return failure(QStringLiteral("greeting offers no methods"), Reply::GeneralFailure);
    const auto methods = reader.readBytes(*count);
    if (!methods)
        return std::monostate{};
    Greeting greeting;
    greeting.methods.reserve(*count);
    for (char m : *methods)
        greeting.methods.append(Method(quint8(m)));
    return Parsed<Greeting>{std::move(greeting), reader.position()};
}

ParseResult<Credentials> parseCredentials(QByteArrayView in)
{
    // RFC 1929, 2: VER(1) = 1, ULEN(1), UNAME, PLEN(1), PASSWD.
    wire::ByteReader reader(in);
    const auto version = reader.readU8();
    if (!version)
        return std::monostate{};
    if (*version != 0x01)
        return failure(QStringLiteral("bad username/password version %1").arg(*version),
                       Reply::GeneralFailure);
    const auto userLength = reader.readU8();
    if (!userLength)
        return std::monostate{};
    const auto user = reader.readBytes(*userLength);
    if (!user)
        return std::monostate{};
    const auto passwordLength = reader.readU8();
    if (!passwordLength)
        return std::monostate{};
    const auto password = reader.readBytes(*passwordLength);
    if (!password)
        return std::monostate{};
    return Parsed<Credentials>{{user->toByteArray(), password->toByteArray()}, reader.position()};
}

ParseResult<Request> parseRequest(QByteArrayView in)
{
    wire::ByteReader reader(in);
    const auto version = reader.readU8();
    if (!version)
        return std::monostate{};
    if (*version != kVersion)
        return failure(QStringLiteral("not SOCKS5 (version %1)").arg(*version),
                       Reply::GeneralFailure);
    const auto command = reader.readU8();
    const auto reserved = reader.readU8();
    if (!command || !reserved)
        return std::monostate{};
    if (*reserved != 0)
        return failure(QStringLiteral("reserved byte is %1").arg(*reserved), Reply::GeneralFailure);
    std::optional<Failure> bad;
    const auto destination = readAddress(reader, bad);
    if (bad)
        return *bad;
    if (!destination)
        return std::monostate{};
    // The command is checked after the whole request arrived so the reply goes out at a
    // message boundary.
    if (*command != quint8(Command::Connect) && *command != quint8(Command::UdpAssociate)) {
        return failure(QStringLiteral("command %1 not supported").arg(*command),
                       Reply::CommandNotSupported);
    }
    return Parsed<Request>{{Command(*command), *destination}, reader.position()};
}

Result<UdpDatagram> parseUdpDatagram(QByteArrayView in)
{
    wire::ByteReader reader(in);
    const auto reserved = reader.readU16();
    const auto fragment = reader.readU8();
    if (!reserved || !fragment)
        return Error(ErrorCode::SocksProtocolError, QStringLiteral("truncated UDP header"));
    if (*reserved != 0)
        return Error(ErrorCode::SocksProtocolError, QStringLiteral("UDP reserved field not 0"));
    std::optional<Failure> bad;
    const auto destination = readAddress(reader, bad);
    if (bad)
        return bad->error;
    if (!destination)
        return Error(ErrorCode::SocksProtocolError, QStringLiteral("truncated UDP header"));
    return UdpDatagram{*fragment, *destination, reader.rest()};
}

namespace {

QByteArray twoBytes(quint8 first, quint8 second)
{
    QByteArray out(2, Qt::Uninitialized);
    out[0] = char(first);
    out[1] = char(second);
    return out;
}

} // namespace

QByteArray methodSelection(Method method)
{
    return twoBytes(kVersion, quint8(method));
}

QByteArray credentialsReply(bool success)
{
    // RFC 1929, 2: VER 1, STATUS 0 = success, anything else = failure.
    return twoBytes(0x01, success ? 0x00 : 0x01);
}

QByteArray reply(Reply code, const Address &bound)
{
    QByteArray out;
    out.reserve(22);
    out.append(char(kVersion));
    out.append(char(code));
    out.append(char(0x00));
    if (bound.host.isEmpty())
        appendAddress(out, addressFromIp(QByteArray(4, '\0'), 0));
    else
        appendAddress(out, bound);
    return out;
}

void appendUdpHeader(QByteArray &out, const Address &source)
{
    out.append(char(0x00));
    out.append(char(0x00));
    out.append(char(0x00)); // FRAG: relays never fragment
    appendAddress(out, source);
}

qsizetype udpHeaderLength(const Address &address)
{
    return 3 + 1 + (address.type == AddressType::DomainName ? 1 : 0) + address.host.size() + 2;
}

Address addressFromIp(QByteArrayView rawIp, quint16 port)
{
    Address address;
    address.type = rawIp.size() == 16 ? AddressType::IPv6 : AddressType::IPv4;
    address.host = rawIp.toByteArray();
    address.port = port;
    return address;
}

} // namespace qmasque::socks5
