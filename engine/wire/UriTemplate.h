#pragma once

#include "api/Result.h"

#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringList>

namespace qmasque::wire {

// UriVariables: template variable values by name. A name absent from the map is "undefined" in
// RFC 6570 terms (its expression part disappears); an empty string is defined and empty.
using UriVariables = QHash<QString, QString>;

// UriTemplate: RFC 6570 URI Templates up to level 3, which is what RFC 9298, 2 and RFC 9484, 3
// allow: simple `{a,b}`, reserved `{+a}`, fragment `{#a}`, label `{.a}`, path segments `{/a}`,
// path parameters `{;a}`, form query `{?a,b}` and continuation `{&a}`. Level 4 modifiers (`:n`,
// `*`) are refused as malformed_template.
//
// Client side: expand() builds the request URI. Server side: match() inverts the expansion for a
// request target (`/path?query`, or the absolute form of an HTTP/1.1 request line) and returns
// the variables, percent-decoded exactly once: "%252A" gives "%2A", never "*".
//
// Immutable value type; cheap to copy.
class UriTemplate
{
public:
    enum class Operator : quint8
    {
        Simple,            // {var}
        Reserved,          // {+var}
        Fragment,          // {#var}
        Label,             // {.var}
        PathSegment,       // {/var}
        PathParameter,     // {;var}
        Query,             // {?var}
        QueryContinuation, // {&var}
    };

    struct Expression
    {
        Operator op = Operator::Simple;
        QStringList variables;
    };

    // Part: a literal run or an expression, in template order.
    struct Part
    {
        bool isExpression = false;
        QString literal;
        Expression expression;
    };

    UriTemplate() = default;

    // parse: malformed_template for an unbalanced brace, a character RFC 6570, 2.1 forbids in
    // literals, a bad variable name, a reserved operator (= , ! @ |) or a level 4 modifier.
    static Result<UriTemplate> parse(QStringView text);

    const QString &text() const noexcept { return m_text; }
    const QList<Part> &parts() const noexcept { return m_parts; }
    bool isEmpty() const noexcept { return m_parts.isEmpty(); }

    // variableNames: every variable, once, in order of first appearance.
    QStringList variableNames() const;
    bool hasVariable(QStringView name) const noexcept;
    // usesOperator: whether any expression uses `op`.
    bool usesOperator(Operator op) const noexcept;

    // expand: RFC 6570, 3.2. Values are percent-encoded as UTF-8 (unreserved characters kept;
    // reserved characters and existing %XX triplets kept too for `+` and `#`), so an IPv6
    // "2001:db8::42" becomes "2001%3Adb8%3A%3A42" and "*" becomes "%2A" (RFC 9298, 2).
    QString expand(const UriVariables &variables) const;

    // match: the variables of `requestTarget`, or bad_path when the target is not an expansion of
    // this template. When the template is absolute ("https://proxy/..."), its scheme and authority
    // are skipped and only the path and query are matched (the caller checks :authority / Host);
    // malformed_template if that authority itself holds an expression. Variables the target
    // leaves out are absent from the result; an empty simple expression (`/x//` for `/x/{a}/`)
    // gives its first variable as an empty string.
    //
    // Matching is left to right: an expression ends where its characters end (for simple and
    // form-style expressions, the unreserved set plus %XX and "*"), or earlier where the literal
    // after it matches; when the rest does not match, later literal positions are tried, within a
    // fixed step budget (bad_path beyond it), so no request can make matching expensive.
    Result<UriVariables> match(QStringView requestTarget) const;

private:
    QString m_text;
    QList<Part> m_parts;
    // Where match() starts: the part and the offset inside it (past an absolute template's
    // scheme and authority); m_matchable false when the authority holds an expression.
    qsizetype m_matchPart = 0;
    qsizetype m_matchOffset = 0;
    bool m_matchable = true;

    friend class UriMatcher;
};

// percentDecode: decodes %XX triplets once. False on a malformed triplet or on bytes that are not
// UTF-8.
bool percentDecode(QStringView encoded, QString *decoded);

} // namespace qmasque::wire
