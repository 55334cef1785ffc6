#pragma once

#include "api/Result.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>
#include <QtCore/QString>

#include <utility>

namespace qmasque::wire {

// Structured Field Values for HTTP (RFC 8941): the parser for Items and Lists (with Parameters
// and Inner Lists) and the serialisation of the pieces the proxy emits. Dictionaries are not
// needed by MASQUE and not implemented. Parsing follows RFC 8941, 4.2 exactly; any deviation is
// malformed_header. Input is the field value as received (the caller joins repeated field lines
// with ", " for Lists, as RFC 8941, 4.2 says).

// SfBareItem: one bare item. `text` holds a String (unescaped) or a Token; `bytes` a Byte
// Sequence (decoded).
struct SfBareItem
{
    enum class Type : quint8
    {
        Integer,
        Decimal,
        String,
        Token,
        ByteSequence,
        Boolean,
    };

    Type type = Type::Boolean;
    qint64 integer = 0;
    double decimal = 0;
    QString text;
    QByteArray bytes;
    bool boolean = true;

    static SfBareItem fromInteger(qint64 v) { return SfBareItem{Type::Integer, v, 0, {}, {}, {}}; }
    static SfBareItem fromString(QString v)
    {
        return SfBareItem{Type::String, 0, 0, std::move(v), {}, {}};
    }
    static SfBareItem fromToken(QString v)
    {
        return SfBareItem{Type::Token, 0, 0, std::move(v), {}, {}};
    }
    static SfBareItem fromBoolean(bool v) { return SfBareItem{Type::Boolean, 0, 0, {}, {}, v}; }

    bool isInteger() const noexcept { return type == Type::Integer; }
    bool isString() const noexcept { return type == Type::String; }
    bool isToken() const noexcept { return type == Type::Token; }
    bool isBoolean() const noexcept { return type == Type::Boolean; }
    // isText: a String or a Token.
    bool isText() const noexcept { return type == Type::String || type == Type::Token; }

    // Equality compares the type and the field that type uses.
    friend bool operator==(const SfBareItem &a, const SfBareItem &b) noexcept;
};

// SfParameters: key/value pairs in order of first appearance; a repeated key keeps its first
// position and its last value (RFC 8941, 4.2.3.2). Keys are lower case.
using SfParameters = QList<std::pair<QString, SfBareItem>>;

// sfParameter: the value of `key`, or nullptr.
const SfBareItem *sfParameter(const SfParameters &parameters, QStringView key) noexcept;

struct SfItem
{
    SfBareItem value;
    SfParameters parameters;

    friend bool operator==(const SfItem &, const SfItem &) = default;
};

// SfListMember: an Item, or an Inner List with its own parameters.
struct SfListMember
{
    bool isInnerList = false;
    SfItem item;             // when !isInnerList
    QList<SfItem> innerList; // when isInnerList
    SfParameters parameters; // the Inner List's parameters
};

// parseSfItem / parseSfList: malformed_header on any syntax error. An empty field value is an
// empty List (and a malformed Item).
Result<SfItem> parseSfItem(QByteArrayView fieldValue);
Result<QList<SfListMember>> parseSfList(QByteArrayView fieldValue);

// isSfToken: whether `text` can be serialised as a Token (RFC 8941, 3.3.4).
bool isSfToken(QStringView text) noexcept;
// isSfKey: whether `text` is a valid parameter key (RFC 8941, 3.1.2).
bool isSfKey(QStringView text) noexcept;

// appendSfString: `text` as an sf-string, with '"' and '\' escaped. Characters a String cannot
// carry (controls, DEL, non-ASCII) become '?', so the result is always a valid String.
void appendSfString(QByteArray &out, QStringView text);
// appendSfBareItem: the RFC 8941, 4.1 serialisation. A Token that isSfToken() refuses is written
// as a String; Decimals are rounded to three fractional digits.
void appendSfBareItem(QByteArray &out, const SfBareItem &item);
// appendSfParameters: ";key=value" for each parameter (";key" for a true Boolean).
void appendSfParameters(QByteArray &out, const SfParameters &parameters);

// The `Capsule-Protocol` header field (RFC 9297, 3.4) is an Item whose value is a Boolean;
// parameters are allowed and ignored. parseCapsuleProtocol gives that Boolean, malformed_header
// for anything else. RFC 9297, 3.4: a recipient treats a non-Boolean value as if the field were
// absent, so callers map the error to "not present".
Result<bool> parseCapsuleProtocol(QByteArrayView fieldValue);
// capsuleProtocolValue: "?1" / "?0".
QByteArray capsuleProtocolValue(bool enabled = true);

} // namespace qmasque::wire
