#pragma once

#include "api/Result.h"
#include "wire/StructuredFields.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>
#include <QtCore/QString>

#include <optional>

namespace qmasque::wire {

// The Proxy-Status response header field (RFC 9209): an sf-list with one member per
// intermediary, nearest to the origin first, each a Token or String naming the intermediary,
// with parameters describing what it did.

// ProxyStatusEntry: one list member with the parameters RFC 9209 defines pulled out.
struct ProxyStatusEntry
{
    QString proxy;                        // the intermediary's name
    QString error;                        // Proxy Error Type (2.3), "dns_error"; empty if none
    QString details;                      // free text (2.1.5)
    QString nextHop;                      // the next hop selected (2.1.2)
    QString rcode;                        // dns_error: the DNS RCODE, e.g. "NXDOMAIN" (2.3.2)
    std::optional<qint64> infoCode;       // dns_error: the Extended DNS Error info-code (2.3.2)
    std::optional<qint64> receivedStatus; // status received from the next hop (2.1.4)
    SfParameters otherParameters;         // every other parameter, in order of appearance

    friend bool operator==(const ProxyStatusEntry &, const ProxyStatusEntry &) = default;
};

// parseProxyStatus: the entries of a Proxy-Status field value (repeated field lines joined with
// ", "). malformed_proxy_status on a structured-field syntax error, a member that is not a Token
// or String, or a known parameter of the wrong type. Types accepted: error Token or String;
// details String or Token; next-hop String or Token; received-status and info-code Integer;
// rcode String (RFC 9209), also a Token or Integer, kept as text.
Result<QList<ProxyStatusEntry>> parseProxyStatus(QByteArrayView fieldValue);

// formatProxyStatus: the field value for `entries` (", " between members). Names and error types
// are written as Tokens when valid Tokens, else as Strings; free text is escaped as an sf-string
// (characters a String cannot carry become '?'); other parameters with invalid keys are skipped.
QByteArray formatProxyStatus(const QList<ProxyStatusEntry> &entries);

// buildProxyStatus: the one-entry value a refusing proxy sends, e.g.
// buildProxyStatus(u"qmasque", u"dns_error", u"no such host") ->
// `qmasque; error=dns_error; details="no such host"` (details omitted when empty).
QByteArray buildProxyStatus(QStringView proxy, QStringView errorType, QStringView details = {});

} // namespace qmasque::wire
