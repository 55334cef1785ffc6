#include "wire/UriTemplate.h"

#include <QtCore/QStringDecoder>

#include <utility>

namespace qmasque::wire {

namespace {

// RFC 3986, 2.3 and 2.2.
bool isUnreserved(char16_t c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

bool isReserved(char16_t c) noexcept
{
    switch (c) {
    case ':':
    case '/':
    case '?':
    case '#':
    case '[':
    case ']':
    case '@':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
        return true;
    default:
        return false;
    }
}

int hexValue(char16_t c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool isPctTriplet(QStringView s, qsizetype at) noexcept
{
    return at + 2 < s.size() && s[at] == u'%' && hexValue(s[at + 1].unicode()) >= 0 &&
           hexValue(s[at + 2].unicode()) >= 0;
}

// RFC 6570, 2.1: characters allowed in literals (besides pct-encoded triplets).
bool isLiteralChar(char16_t c) noexcept
{
    if (c < 0x21 || c == 0x7f)
        return false;
    if (c >= 0x80)
        return c >= 0xa0; // ucschar / iprivate; C1 controls are not allowed
    switch (c) {
    case '"':
    case '\'':
    case '%':
    case '<':
    case '>':
    case '\\':
    case '^':
    case '`':
    case '{':
    case '|':
    case '}':
        return false;
    default:
        return true;
    }
}

// RFC 6570, 3.2.1, Appendix A: how each operator expands.
struct OperatorSpec
{
    QStringView first;
    QChar sep;
    bool named;
    QStringView ifEmpty;
    bool allowReserved;
};

OperatorSpec specFor(UriTemplate::Operator op) noexcept
{
    using Op = UriTemplate::Operator;
    switch (op) {
    case Op::Simple:
        return {u"", u',', false, u"", false};
    case Op::Reserved:
        return {u"", u',', false, u"", true};
    case Op::Fragment:
        return {u"#", u',', false, u"", true};
    case Op::Label:
        return {u".", u'.', false, u"", false};
    case Op::PathSegment:
        return {u"/", u'/', false, u"", false};
    case Op::PathParameter:
        return {u";", u';', true, u"", false};
    case Op::Query:
        return {u"?", u'&', true, u"=", false};
    case Op::QueryContinuation:
        return {u"&", u'&', true, u"=", false};
    }
    return {u"", u',', false, u"", false};
}

void appendPctEncoded(QString &out, quint8 byte)
{
    static const char kHex[] = "0123456789ABCDEF";
    out += u'%';
    out += QLatin1Char(kHex[byte >> 4]);
    out += QLatin1Char(kHex[byte & 0x0f]);
}

// encodeValue: RFC 6570, 3.2.1: unreserved characters stay, with `allowReserved` reserved ones
// and existing triplets stay too, everything else is percent-encoded as UTF-8.
void appendEncoded(QString &out, QStringView value, bool allowReserved)
{
    for (qsizetype i = 0; i < value.size(); ++i) {
        const char16_t c = value[i].unicode();
        if (isUnreserved(c) || (allowReserved && isReserved(c))) {
            out += QChar(c);
            continue;
        }
        if (allowReserved && isPctTriplet(value, i)) {
            out += value.sliced(i, 3);
            i += 2;
            continue;
        }
        // One code point (a surrogate pair counts once) to UTF-8.
        const qsizetype length =
            (value[i].isHighSurrogate() && i + 1 < value.size() && value[i + 1].isLowSurrogate())
                ? 2
                : 1;
        const QByteArray utf8 = value.sliced(i, length).toUtf8();
        for (const char b : utf8)
            appendPctEncoded(out, static_cast<quint8>(b));
        i += length - 1;
    }
}

Result<UriTemplate::Expression> parseExpression(QStringView body, qsizetype at)
{
    using Op = UriTemplate::Operator;
    auto bad = [at](const QString &why) {
        return Error(ErrorCode::MalformedTemplate,
                     QStringLiteral("URI template, offset %1: %2").arg(at).arg(why));
    };
    UriTemplate::Expression expression;
    if (body.isEmpty())
        return bad(QStringLiteral("empty expression"));
    qsizetype pos = 0;
    switch (body[0].unicode()) {
    case '+':
        expression.op = Op::Reserved;
        break;
    case '#':
        expression.op = Op::Fragment;
        break;
    case '.':
        expression.op = Op::Label;
        break;
    case '/':
        expression.op = Op::PathSegment;
        break;
    case ';':
        expression.op = Op::PathParameter;
        break;
    case '?':
        expression.op = Op::Query;
        break;
    case '&':
        expression.op = Op::QueryContinuation;
        break;
    case '=':
    case ',':
    case '!':
    case '@':
    case '|':
        return bad(QStringLiteral("reserved operator '%1'").arg(body[0]));
    default:
        break;
    }
    if (expression.op != Op::Simple)
        pos = 1;
    const QStringList specs = body.sliced(pos).toString().split(u',');
    for (const QString &spec : specs) {
        if (spec.isEmpty())
            return bad(QStringLiteral("empty variable name"));
        if (spec.endsWith(u'*') || spec.contains(u':'))
            return bad(QStringLiteral("level 4 modifier in '%1' is not supported").arg(spec));
        // RFC 6570, 2.3: varname = varchar *( ["."] varchar ); varchar = ALPHA / DIGIT / "_" /
        // pct-encoded.
        for (qsizetype i = 0; i < spec.size(); ++i) {
            const char16_t c = spec[i].unicode();
            const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                               (c >= '0' && c <= '9') || c == '_';
            if (alnum)
                continue;
            if (isPctTriplet(spec, i)) {
                i += 2;
                continue;
            }
            const bool dotOk = c == '.' && i > 0 && i + 1 < spec.size() && spec[i - 1] != u'.';
            if (!dotOk)
                return bad(QStringLiteral("invalid variable name '%1'").arg(spec));
        }
        expression.variables.append(spec);
    }
    return expression;
}

} // namespace

Result<UriTemplate> UriTemplate::parse(QStringView text)
{
    UriTemplate t;
    t.m_text = text.toString();
    QString literal;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char16_t c = text[i].unicode();
        if (c == '{') {
            const qsizetype close = text.indexOf(u'}', i + 1);
            const qsizetype nested = text.indexOf(u'{', i + 1);
            if (close < 0 || (nested >= 0 && nested < close)) {
                return Error(ErrorCode::MalformedTemplate,
                             QStringLiteral("URI template, offset %1: unclosed '{'").arg(i));
            }
            auto expression = parseExpression(text.sliced(i + 1, close - i - 1), i);
            if (!expression)
                return expression.error();
            if (!literal.isEmpty())
                t.m_parts.append(Part{false, std::exchange(literal, {}), {}});
            t.m_parts.append(Part{true, {}, std::move(expression).value()});
            i = close;
            continue;
        }
        if (isPctTriplet(text, i)) {
            literal += text.sliced(i, 3);
            i += 2;
            continue;
        }
        if (!isLiteralChar(c)) {
            return Error(ErrorCode::MalformedTemplate,
                         QStringLiteral("URI template, offset %1: character U+%2 not allowed")
                             .arg(i)
                             .arg(QString::number(c, 16).rightJustified(4, u'0')));
        }
        literal += QChar(c);
    }
    if (!literal.isEmpty())
        t.m_parts.append(Part{false, literal, {}});

    // Where the path starts, for match(): past "scheme://authority" of an absolute template.
    if (!t.m_parts.isEmpty() && !t.m_parts[0].isExpression) {
        const QString &first = t.m_parts[0].literal;
        const qsizetype scheme = first.indexOf(QStringLiteral("://"));
        if (scheme > 0 && !first.first(scheme).contains(u'/')) {
            qsizetype pathAt = -1;
            for (qsizetype i = scheme + 3; i < first.size(); ++i) {
                if (first[i] == u'/' || first[i] == u'?') {
                    pathAt = i;
                    break;
                }
            }
            if (pathAt >= 0) {
                t.m_matchOffset = pathAt;
            } else if (t.m_parts.size() > 1) {
                t.m_matchable = false; // the authority runs into an expression
            } else {
                t.m_matchOffset = first.size();
            }
        }
    }
    return t;
}

QStringList UriTemplate::variableNames() const
{
    QStringList names;
    for (const Part &part : m_parts) {
        if (!part.isExpression)
            continue;
        for (const QString &name : part.expression.variables) {
            if (!names.contains(name))
                names.append(name);
        }
    }
    return names;
}

bool UriTemplate::hasVariable(QStringView name) const noexcept
{
    for (const Part &part : m_parts) {
        if (part.isExpression && part.expression.variables.contains(name))
            return true;
    }
    return false;
}

bool UriTemplate::usesOperator(Operator op) const noexcept
{
    for (const Part &part : m_parts) {
        if (part.isExpression && part.expression.op == op)
            return true;
    }
    return false;
}

QString UriTemplate::expand(const UriVariables &variables) const
{
    QString out;
    for (const Part &part : m_parts) {
        if (!part.isExpression) {
            // RFC 6570, 3.1: literals are copied, except characters not allowed in a URI.
            appendEncoded(out, part.literal, true);
            continue;
        }
        const OperatorSpec spec = specFor(part.expression.op);
        bool firstDefined = true;
        for (const QString &name : part.expression.variables) {
            const auto it = variables.constFind(name);
            if (it == variables.cend())
                continue;
            out += firstDefined ? spec.first : QStringView(&spec.sep, 1);
            firstDefined = false;
            if (spec.named) {
                appendEncoded(out, name, false);
                if (it->isEmpty()) {
                    out += spec.ifEmpty;
                    continue;
                }
                out += u'=';
            }
            appendEncoded(out, *it, spec.allowReserved);
        }
    }
    return out;
}

bool percentDecode(QStringView encoded, QString *decoded)
{
    QByteArray bytes;
    bytes.reserve(encoded.size());
    for (qsizetype i = 0; i < encoded.size(); ++i) {
        const QChar c = encoded[i];
        if (c == u'%') {
            if (!isPctTriplet(encoded, i))
                return false;
            bytes.append(
                char(hexValue(encoded[i + 1].unicode()) << 4 | hexValue(encoded[i + 2].unicode())));
            i += 2;
        } else if (c.unicode() < 0x80) {
            bytes.append(char(c.unicode()));
        } else {
            const qsizetype length =
                (c.isHighSurrogate() && i + 1 < encoded.size() && encoded[i + 1].isLowSurrogate())
                    ? 2
                    : 1;
            bytes.append(encoded.sliced(i, length).toUtf8());
            i += length - 1;
        }
    }
    QStringDecoder toUtf16(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    *decoded = toUtf16(bytes);
    return !toUtf16.hasError();
}

// UriMatcher: the server-side inversion of expand(). A depth-first walk over the template's
// parts; each expression proposes end positions in order and the rest of the template is matched
// after each until one succeeds. Every proposal costs one step of a fixed budget.
class UriMatcher
{
public:
    UriMatcher(const UriTemplate &t, QStringView target)
        : m_parts(t.m_parts)
        , m_target(target)
    {}

    static constexpr int kStepBudget = 1024;

    // matchFrom: matches parts[index..] against target[pos..]; `offset` skips the start of the
    // first literal (the absolute template's scheme and authority).
    bool matchFrom(qsizetype index, qsizetype offset, qsizetype pos, UriVariables *out)
    {
        if (index == m_parts.size())
            return pos == m_target.size();
        const UriTemplate::Part &part = m_parts[index];
        if (!part.isExpression) {
            const QStringView literal = QStringView(part.literal).sliced(offset);
            if (!m_target.sliced(pos).startsWith(literal))
                return false;
            return matchFrom(index + 1, 0, pos + literal.size(), out);
        }
        const OperatorSpec spec = specFor(part.expression.op);
        const qsizetype naturalEnd = scan(part.expression.op, spec, pos);
        const UriTemplate::Part *next = index + 1 < m_parts.size() ? &m_parts[index + 1] : nullptr;
        for (qsizetype end = pos; end <= naturalEnd; ++end) {
            // Only positions where the next literal matches, and the natural end, are tried.
            if (end != naturalEnd &&
                (!next || next->isExpression || !m_target.sliced(end).startsWith(next->literal)))
                continue;
            if (++m_steps > kStepBudget) {
                m_exhausted = true;
                return false;
            }
            UriVariables values;
            if (!assign(part.expression, spec, m_target.sliced(pos, end - pos), &values))
                continue;
            if (!matchFrom(index + 1, 0, end, out)) {
                if (m_exhausted)
                    return false;
                continue;
            }
            for (auto it = values.cbegin(); it != values.cend(); ++it) {
                // A variable repeated in the template must match the same value everywhere.
                const auto existing = out->constFind(it.key());
                if (existing != out->cend() && *existing != it.value()) {
                    m_conflict = true;
                    return false;
                }
                out->insert(it.key(), it.value());
            }
            return true;
        }
        return false;
    }

    bool exhausted() const noexcept { return m_exhausted; }
    bool conflict() const noexcept { return m_conflict; }

private:
    // scan: the furthest position the expression's characters reach from `pos`.
    qsizetype scan(UriTemplate::Operator op, const OperatorSpec &spec, qsizetype pos) const
    {
        qsizetype i = pos;
        if (!spec.first.isEmpty() && i < m_target.size() && m_target[i] == spec.first[0])
            ++i;
        else if (!spec.first.isEmpty())
            return pos; // without its prefix character the expression expanded to nothing
        while (i < m_target.size()) {
            const char16_t c = m_target[i].unicode();
            if (c == '%') {
                if (!isPctTriplet(m_target, i))
                    break;
                i += 3;
                continue;
            }
            bool allowed = isUnreserved(c) || c == '*' || c == spec.sep;
            if (spec.allowReserved)
                allowed = allowed || isReserved(c);
            if (spec.named)
                allowed = allowed || c == '=';
            // A form-style query never holds a second '?', a fragment never holds '#'.
            if (op == UriTemplate::Operator::Query && c == '?')
                allowed = false;
            if (op == UriTemplate::Operator::Fragment && c == '#')
                allowed = false;
            if (!allowed)
                break;
            ++i;
        }
        return i;
    }

    // assign: splits one expression's text into its variables (RFC 6570, 3.2 in reverse).
    static bool assign(const UriTemplate::Expression &expression, const OperatorSpec &spec,
                       QStringView text, UriVariables *values)
    {
        // With a prefix character, no text means every variable undefined (a defined one
        // brings its prefix). Without one (simple, reserved) the two cannot be told apart; the
        // first variable is taken as present and empty, so "/x//" gives an empty value the
        // caller can refuse rather than a silently missing one.
        if (text.isEmpty() && !spec.first.isEmpty())
            return true;
        if (!spec.first.isEmpty()) {
            if (text[0] != spec.first[0])
                return false;
            text = text.sliced(1);
        }
        const QStringList &names = expression.variables;
        // A lone reserved variable may hold the separator itself.
        const QList<QStringView> pieces = (spec.allowReserved && names.size() == 1)
                                              ? QList<QStringView>{text}
                                              : text.split(spec.sep);
        if (!spec.named) {
            if (pieces.size() > names.size())
                return false;
            for (qsizetype i = 0; i < pieces.size(); ++i) {
                QString value;
                if (!percentDecode(pieces[i], &value))
                    return false;
                values->insert(names[i], value);
            }
            return true;
        }
        for (const QStringView piece : pieces) {
            const qsizetype equals = piece.indexOf(u'=');
            // Form-style expansions always carry '=' (ifemp "="); path parameters omit it when
            // the value is empty (ifemp "").
            if (equals < 0 && !spec.ifEmpty.isEmpty())
                return false;
            const QStringView name = equals < 0 ? piece : piece.first(equals);
            const QStringView encoded = equals < 0 ? QStringView() : piece.sliced(equals + 1);
            if (!names.contains(name) || values->contains(name.toString()))
                return false;
            QString value;
            if (!percentDecode(encoded, &value))
                return false;
            values->insert(name.toString(), value);
        }
        return true;
    }

    const QList<UriTemplate::Part> &m_parts;
    QStringView m_target;
    int m_steps = 0;
    bool m_exhausted = false;
    bool m_conflict = false;
};

Result<UriVariables> UriTemplate::match(QStringView requestTarget) const
{
    if (!m_matchable) {
        return Error(ErrorCode::MalformedTemplate,
                     QStringLiteral("URI template has an expression in its authority"));
    }
    // RFC 9112, 3.2.2: an absolute-form target; its scheme and authority are not matched.
    QStringView target = requestTarget;
    if (!target.startsWith(u'/')) {
        const qsizetype scheme = target.indexOf(QStringLiteral("://"));
        if (scheme > 0) {
            qsizetype i = scheme + 3;
            while (i < target.size() && target[i] != u'/' && target[i] != u'?')
                ++i;
            target = target.sliced(i);
        }
    }
    UriMatcher matcher(*this, target);
    UriVariables variables;
    if (matcher.matchFrom(m_matchPart, m_matchOffset, 0, &variables))
        return variables;
    if (matcher.exhausted()) {
        return Error(ErrorCode::BadPath,
                     QStringLiteral("request target too ambiguous for the URI template"));
    }
    if (matcher.conflict()) {
        return Error(ErrorCode::BadPath,
                     QStringLiteral("request target gives a repeated variable two values"));
    }
    return Error(ErrorCode::BadPath,
                 QStringLiteral("request target does not match the URI template"));
}

} // namespace qmasque::wire
