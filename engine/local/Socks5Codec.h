#pragma once

#include "api/Result.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>
#include <QtCore/QString>

#include <optional>
#include <variant>

namespace qmasque::socks5 {

// SOCKS Protocol Version 5 (RFC 1928) and its username/password authentication (RFC 1929):
// pure, incremental parsers for what a client sends, and builders for what the server answers.
// Parsers take the bytes received so far and return std::nullopt while a message is incomplete,
// the message and its length when complete, or a typed error (socks_protocol_error) carrying
// the reply code to send before closing.

inline constexpr quint8 kVersion = 0x05;

enum class Method : quint8
{
    NoAuth = 0x00,
    UsernamePassword = 0x02,
    NoAcceptable = 0xff,
};

enum class Command : quint8
{
    Connect = 0x01,
    Bind = 0x02,
    UdpAssociate = 0x03,
};

// Reply codes (RFC 1928, 6).
enum class Reply : quint8
{
    Succeeded = 0x00,
    GeneralFailure = 0x01,
    NotAllowed = 0x02,
    NetworkUnreachable = 0x03,
    HostUnreachable = 0x04,
    ConnectionRefused = 0x05,
    TtlExpired = 0x06,
    CommandNotSupported = 0x07,
    AddressTypeNotSupported = 0x08,
};

enum class AddressType : quint8
{
    IPv4 = 0x01,
    DomainName = 0x03,
    IPv6 = 0x04,
};

// Address: a SOCKS destination. Domain names are kept as given (never resolved locally: the
// proxy resolves them). IP addresses are kept as their raw bytes (4 or 16) to stay QtCore-only.
struct Address
{
    AddressType type = AddressType::IPv4;
    QByteArray host; // 4 or 16 raw bytes, or the domain name (1..255 bytes)
    quint16 port = 0;

    // hostString: dotted quad, RFC 5952 IPv6 text, or the domain name.
    QString hostString() const;
    friend bool operator==(const Address &, const Address &) = default;
};

template<typename T>
struct Parsed
{
    T message;
    qsizetype length = 0; // bytes the message occupied
};

// Failure: a parse error plus the reply code the server should answer with.
struct Failure
{
    Error error;
    Reply reply = Reply::GeneralFailure;
};

template<typename T>
using ParseResult = std::variant<std::monostate, Parsed<T>, Failure>; // monostate = need more

struct Greeting
{
    QList<Method> methods;
};

struct Credentials
{
    QByteArray username;
    QByteArray password;
};

struct Request
{
    Command command = Command::Connect;
    Address destination;
};

// UdpDatagram: one datagram of a UDP ASSOCIATE relay (RFC 1928, 7). `data` views the input.
struct UdpDatagram
{
    quint8 fragment = 0;
    Address destination;
    QByteArrayView data;
};

ParseResult<Greeting> parseGreeting(QByteArrayView in);
ParseResult<Credentials> parseCredentials(QByteArrayView in);
ParseResult<Request> parseRequest(QByteArrayView in);
// parseUdpDatagram: the datagram must be complete (UDP preserves boundaries); fragments are
// reported as parsed with fragment != 0 so the caller can count and drop them.
Result<UdpDatagram> parseUdpDatagram(QByteArrayView in);

QByteArray methodSelection(Method method);
QByteArray credentialsReply(bool success);
// reply: the server's reply to a request; `bound` is the BND.ADDR/BND.PORT (an unspecified IPv4
// address when there is nothing meaningful to report).
QByteArray reply(Reply code, const Address &bound = {});
// appendUdpHeader: the header a relay puts in front of a datagram sent back to the client.
void appendUdpHeader(QByteArray &out, const Address &source);
qsizetype udpHeaderLength(const Address &address);

// addressFromIp: an IPv4 (4 bytes) or IPv6 (16 bytes) address.
Address addressFromIp(QByteArrayView rawIp, quint16 port);

} // namespace qmasque::socks5
