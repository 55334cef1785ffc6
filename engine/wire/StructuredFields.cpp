#include "wire/StructuredFields.h"

#include "wire/HttpToken.h"

#include <algorithm>
#include <cmath>

namespace qmasque::wire {

namespace {

bool isDigit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

bool isAlpha(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool isLcAlpha(char c) noexcept
{
    return c >= 'a' && c <= 'z';
}

bool isBase64Char(char c) noexcept
{
    return isAlpha(c) || isDigit(c) || c == '+' || c == '/' || c == '=';
}

// Parser: the RFC 8941, 4.2 algorithms over a cursor. Every method either advances and succeeds,
// or records the first failure; callers stop at the first failure.
class Parser
{
public:
    explicit Parser(QByteArrayView in) noexcept
        : m_in(in)
    {}

    bool atEnd() const noexcept { return m_pos >= m_in.size(); }
    char peek() const noexcept { return atEnd() ? '\0' : m_in[m_pos]; }
    bool failed() const noexcept { return !m_error.isEmpty(); }
    Error error() const { return Error(ErrorCode::MalformedHeader, m_error); }

    void skipSp() noexcept
    {
        while (!atEnd() && m_in[m_pos] == ' ')
            ++m_pos;
    }
    void skipOws() noexcept
    {
        while (!atEnd() && (m_in[m_pos] == ' ' || m_in[m_pos] == '\t'))
            ++m_pos;
    }

    bool fail(const QString &why)
    {
        if (m_error.isEmpty())
            m_error = QStringLiteral("structured field, offset %1: %2").arg(m_pos).arg(why);
        return false;
    }

    // 4.2.1: List.
    bool parseList(QList<SfListMember> *out)
    {
        while (!atEnd()) {
            SfListMember member;
            if (!parseItemOrInnerList(&member))
                return false;
            out->append(std::move(member));
            skipOws();
            if (atEnd())
                return true;
            if (peek() != ',')
                return fail(QStringLiteral("expected ',' between list members"));
            ++m_pos;
            skipOws();
            if (atEnd())
                return fail(QStringLiteral("trailing ',' in a list"));
        }
        return true;
    }

    bool parseItemOrInnerList(SfListMember *out)
    {
        if (peek() != '(') {
            out->isInnerList = false;
            return parseItem(&out->item);
        }
        // 4.2.1.2: Inner List.
        out->isInnerList = true;
        ++m_pos;
        while (!atEnd()) {
            skipSp();
            if (peek() == ')') {
                ++m_pos;
                return parseParameters(&out->parameters);
            }
            SfItem item;
            if (!parseItem(&item))
                return false;
            out->innerList.append(std::move(item));
            if (peek() != ' ' && peek() != ')')
                return fail(QStringLiteral("expected ' ' or ')' in an inner list"));
        }
        return fail(QStringLiteral("unterminated inner list"));
    }

    // 4.2.3: Item.
    bool parseItem(SfItem *out)
    {
        return parseBareItem(&out->value) && parseParameters(&out->parameters);
    }

    // 4.2.3.1: Bare Item.
    bool parseBareItem(SfBareItem *out)
    {
        const char c = peek();
        if (c == '-' || isDigit(c))
            return parseNumber(out);
        if (c == '"')
            return parseString(out);
        if (isAlpha(c) || c == '*')
            return parseToken(out);
        if (c == ':')
            return parseByteSequence(out);
        if (c == '?')
            return parseBoolean(out);
        return fail(atEnd() ? QStringLiteral("missing item") : QStringLiteral("unknown item type"));
    }

    // 4.2.3.2: Parameters.
    bool parseParameters(SfParameters *out)
    {
        while (peek() == ';') {
            ++m_pos;
            skipSp();
            QString key;
            if (!parseKey(&key))
                return false;
            SfBareItem value = SfBareItem::fromBoolean(true);
            if (peek() == '=') {
                ++m_pos;
                if (!parseBareItem(&value))
                    return false;
            }
            auto existing = std::find_if(out->begin(), out->end(),
                                         [&](const auto &p) { return p.first == key; });
            if (existing != out->end())
                existing->second = std::move(value);
            else
                out->append({std::move(key), std::move(value)});
        }
        return true;
    }

    // 4.2.3.3: Key.
    bool parseKey(QString *out)
    {
        const char first = peek();
        if (!isLcAlpha(first) && first != '*')
            return fail(QStringLiteral("parameter key must start with a-z or '*'"));
        const qsizetype start = m_pos;
        while (!atEnd()) {
            const char c = m_in[m_pos];
            if (!isLcAlpha(c) && !isDigit(c) && c != '_' && c != '-' && c != '.' && c != '*')
                break;
            ++m_pos;
        }
        *out = QString::fromLatin1(m_in.sliced(start, m_pos - start));
        return true;
    }

    // 4.2.4: Integer or Decimal.
    bool parseNumber(SfBareItem *out)
    {
        bool negative = false;
        if (peek() == '-') {
            negative = true;
            ++m_pos;
        }
        if (!isDigit(peek()))
            return fail(QStringLiteral("number without digits"));
        const qsizetype start = m_pos;
        qsizetype dot = -1;
        while (!atEnd()) {
            const char c = m_in[m_pos];
            if (isDigit(c)) {
                ++m_pos;
            } else if (c == '.' && dot < 0) {
                if (m_pos - start > 12)
                    return fail(QStringLiteral("decimal with more than 12 integer digits"));
                dot = m_pos++;
            } else {
                break;
            }
            if (dot < 0 && m_pos - start > 15)
                return fail(QStringLiteral("integer with more than 15 digits"));
            if (dot >= 0 && m_pos - start > 16)
                return fail(QStringLiteral("decimal with more than 16 characters"));
        }
        const QByteArrayView digits = m_in.sliced(start, m_pos - start);
        if (dot < 0) {
            qint64 v = 0;
            for (const char c : digits)
                v = v * 10 + (c - '0');
            *out = SfBareItem::fromInteger(negative ? -v : v);
            return true;
        }
        const qsizetype fraction = m_pos - dot - 1;
        if (fraction == 0)
            return fail(QStringLiteral("decimal ends with '.'"));
        if (fraction > 3)
            return fail(QStringLiteral("decimal with more than 3 fractional digits"));
        const double v = digits.toByteArray().toDouble();
        out->type = SfBareItem::Type::Decimal;
        out->decimal = negative ? -v : v;
        return true;
    }

    // 4.2.5: String. Only \" and \\ escapes; only printable ASCII.
    bool parseString(SfBareItem *out)
    {
        ++m_pos;
        QString text;
        while (!atEnd()) {
            const char c = m_in[m_pos++];
            if (c == '\\') {
                if (atEnd())
                    return fail(QStringLiteral("string ends inside an escape"));
                const char next = m_in[m_pos++];
                if (next != '"' && next != '\\')
                    return fail(QStringLiteral("invalid escape in a string"));
                text += QLatin1Char(next);
            } else if (c == '"') {
                *out = SfBareItem::fromString(std::move(text));
                return true;
            } else if (static_cast<quint8>(c) < 0x20 || static_cast<quint8>(c) > 0x7e) {
                return fail(QStringLiteral("string holds a control or non-ASCII character"));
            } else {
                text += QLatin1Char(c);
            }
        }
        return fail(QStringLiteral("unterminated string"));
    }

    // 4.2.6: Token.
    bool parseToken(SfBareItem *out)
    {
        const qsizetype start = m_pos;
        ++m_pos;
        while (!atEnd() && (isTchar(m_in[m_pos]) || m_in[m_pos] == ':' || m_in[m_pos] == '/'))
            ++m_pos;
        *out = SfBareItem::fromToken(QString::fromLatin1(m_in.sliced(start, m_pos - start)));
        return true;
    }

    // 4.2.7: Byte Sequence.
    bool parseByteSequence(SfBareItem *out)
    {
        ++m_pos;
        const qsizetype start = m_pos;
        while (!atEnd() && m_in[m_pos] != ':') {
            if (!isBase64Char(m_in[m_pos]))
                return fail(QStringLiteral("invalid base64 in a byte sequence"));
            ++m_pos;
        }
        if (atEnd())
            return fail(QStringLiteral("unterminated byte sequence"));
        const QByteArrayView encoded = m_in.sliced(start, m_pos - start);
        ++m_pos;
        auto decoded = QByteArray::fromBase64Encoding(encoded.toByteArray(),
                                                      QByteArray::AbortOnBase64DecodingErrors);
        if (!decoded)
            return fail(QStringLiteral("invalid base64 in a byte sequence"));
        out->type = SfBareItem::Type::ByteSequence;
        out->bytes = std::move(decoded.decoded);
        return true;
    }

    // 4.2.8: Boolean.
    bool parseBoolean(SfBareItem *out)
    {
        ++m_pos;
        const char c = peek();
        if (c != '0' && c != '1')
            return fail(QStringLiteral("boolean must be ?0 or ?1"));
        ++m_pos;
        *out = SfBareItem::fromBoolean(c == '1');
        return true;
    }

private:
    QByteArrayView m_in;
    qsizetype m_pos = 0;
    QString m_error;
};

} // namespace

bool operator==(const SfBareItem &a, const SfBareItem &b) noexcept
{
    if (a.type != b.type)
        return false;
    switch (a.type) {
    case SfBareItem::Type::Integer:
        return a.integer == b.integer;
    case SfBareItem::Type::Decimal:
        return a.decimal == b.decimal;
    case SfBareItem::Type::String:
    case SfBareItem::Type::Token:
        return a.text == b.text;
    case SfBareItem::Type::ByteSequence:
        return a.bytes == b.bytes;
    case SfBareItem::Type::Boolean:
        return a.boolean == b.boolean;
    }
    return false;
}

const SfBareItem *sfParameter(const SfParameters &parameters, QStringView key) noexcept
{
    for (const auto &[k, v] : parameters) {
        if (k == key)
            return &v;
    }
    return nullptr;
}

Result<SfItem> parseSfItem(QByteArrayView fieldValue)
{
    // RFC 8941, 4.2: leading and trailing SP are discarded, nothing else may remain.
    Parser parser(fieldValue);
    parser.skipSp();
    SfItem item;
    if (!parser.parseItem(&item))
        return parser.error();
    parser.skipSp();
    if (!parser.atEnd()) {
        parser.fail(QStringLiteral("unexpected characters after the item"));
        return parser.error();
    }
    return item;
}

Result<QList<SfListMember>> parseSfList(QByteArrayView fieldValue)
{
    Parser parser(fieldValue);
    parser.skipSp();
    QList<SfListMember> list;
    if (!parser.parseList(&list))
        return parser.error();
    return list;
}

bool isSfToken(QStringView text) noexcept
{
    if (text.isEmpty())
        return false;
    const char16_t first = text[0].unicode();
    if (first > 0x7f || (!isAlpha(char(first)) && first != '*'))
        return false;
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        if (u > 0x7f || (!isTchar(char(u)) && u != ':' && u != '/'))
            return false;
    }
    return true;
}

bool isSfKey(QStringView text) noexcept
{
    if (text.isEmpty())
        return false;
    const char16_t first = text[0].unicode();
    if (first > 0x7f || (!isLcAlpha(char(first)) && first != '*'))
        return false;
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        if (u > 0x7f)
            return false;
        const char a = char(u);
        if (!isLcAlpha(a) && !isDigit(a) && a != '_' && a != '-' && a != '.' && a != '*')
            return false;
    }
    return true;
}

void appendSfString(QByteArray &out, QStringView text)
{
    out.append('"');
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        if (u == '"' || u == '\\') {
            out.append('\\');
            out.append(char(u));
        } else if (u < 0x20 || u > 0x7e) {
            out.append('?');
        } else {
            out.append(char(u));
        }
    }
    out.append('"');
}

void appendSfBareItem(QByteArray &out, const SfBareItem &item)
{
    switch (item.type) {
    case SfBareItem::Type::Integer:
        out.append(QByteArray::number(item.integer));
        break;
    case SfBareItem::Type::Decimal: {
        // RFC 8941, 4.1.5: round to three fractional digits, drop trailing zeros but keep one.
        const double rounded = std::round(item.decimal * 1000) / 1000;
        QByteArray text = QByteArray::number(rounded, 'f', 3);
        while (text.endsWith('0') && !text.endsWith(".0"))
            text.chop(1);
        out.append(text);
        break;
    }
    case SfBareItem::Type::String:
        appendSfString(out, item.text);
        break;
    case SfBareItem::Type::Token:
        if (isSfToken(item.text))
            out.append(item.text.toLatin1());
        else
            appendSfString(out, item.text);
        break;
    case SfBareItem::Type::ByteSequence:
        out.append(':');
        out.append(item.bytes.toBase64());
        out.append(':');
        break;
    case SfBareItem::Type::Boolean:
        out.append(item.boolean ? "?1" : "?0");
        break;
    }
}

void appendSfParameters(QByteArray &out, const SfParameters &parameters)
{
    for (const auto &[key, value] : parameters) {
        out.append(';');
        out.append(key.toLatin1());
        if (value.isBoolean() && value.boolean)
            continue;
        out.append('=');
        appendSfBareItem(out, value);
    }
}

Result<bool> parseCapsuleProtocol(QByteArrayView fieldValue)
{
    auto item = parseSfItem(fieldValue);
    if (!item)
        return item.error();
    if (!item->value.isBoolean()) {
        return Error(ErrorCode::MalformedHeader,
                     QStringLiteral("capsule-protocol is not a structured-field boolean"));
    }
    return item->value.boolean;
}

QByteArray capsuleProtocolValue(bool enabled)
{
    return enabled ? QByteArrayLiteral("?1") : QByteArrayLiteral("?0");
}

} // namespace qmasque::wire
