#include "wire/ProxyStatus.h"

namespace qmasque::wire {

namespace {

Error malformed(const QString &detail)
{
    return Error(ErrorCode::MalformedProxyStatus, detail);
}

Status wrongType(const QString &key, const char *expected)
{
    return malformed(
        QStringLiteral("Proxy-Status parameter '%1' must be %2").arg(key, QLatin1String(expected)));
}

// takeParameter: files one parameter into `entry` (RFC 9209, 2.1 and 2.3.2).
Status takeParameter(ProxyStatusEntry &entry, const QString &key, const SfBareItem &value)
{
    if (key == u"error") {
        if (!value.isText())
            return wrongType(key, "a token");
        entry.error = value.text;
    } else if (key == u"details") {
        if (!value.isText())
            return wrongType(key, "a string");
        entry.details = value.text;
    } else if (key == u"next-hop") {
        if (!value.isText())
            return wrongType(key, "a string or token");
        entry.nextHop = value.text;
    } else if (key == u"received-status") {
        if (!value.isInteger())
            return wrongType(key, "an integer");
        entry.receivedStatus = value.integer;
    } else if (key == u"rcode") {
        if (value.isText())
            entry.rcode = value.text;
        else if (value.isInteger())
            entry.rcode = QString::number(value.integer);
        else
            return wrongType(key, "a string");
    } else if (key == u"info-code") {
        if (!value.isInteger())
            return wrongType(key, "an integer");
        entry.infoCode = value.integer;
    } else {
        entry.otherParameters.append({key, value});
    }
    return {};
}

void appendTokenOrString(QByteArray &out, const QString &text)
{
    if (isSfToken(text))
        out.append(text.toLatin1());
    else
        appendSfString(out, text);
}

} // namespace

Result<QList<ProxyStatusEntry>> parseProxyStatus(QByteArrayView fieldValue)
{
    auto list = parseSfList(fieldValue);
    if (!list)
        return malformed(QStringLiteral("Proxy-Status: %1").arg(list.error().detail));
    QList<ProxyStatusEntry> entries;
    entries.reserve(list->size());
    for (const SfListMember &member : *list) {
        // RFC 9209, 2: each member is an sf-string or sf-token naming the intermediary.
        if (member.isInnerList || !member.item.value.isText())
            return malformed(QStringLiteral("Proxy-Status member is not a token or string"));
        ProxyStatusEntry entry;
        entry.proxy = member.item.value.text;
        for (const auto &[key, value] : member.item.parameters) {
            if (Status s = takeParameter(entry, key, value); !s)
                return s.error();
        }
        entries.append(std::move(entry));
    }
    return entries;
}

QByteArray formatProxyStatus(const QList<ProxyStatusEntry> &entries)
{
    QByteArray out;
    for (const ProxyStatusEntry &entry : entries) {
        if (!out.isEmpty())
            out.append(", ");
        appendTokenOrString(out, entry.proxy);
        if (!entry.error.isEmpty()) {
            out.append("; error=");
            appendTokenOrString(out, entry.error);
        }
        if (!entry.details.isEmpty()) {
            out.append("; details=");
            appendSfString(out, entry.details);
        }
        if (!entry.nextHop.isEmpty()) {
            out.append("; next-hop=");
            appendTokenOrString(out, entry.nextHop);
        }
        if (entry.receivedStatus) {
            out.append("; received-status=");
            out.append(QByteArray::number(*entry.receivedStatus));
        }
        if (!entry.rcode.isEmpty()) {
            out.append("; rcode=");
            appendSfString(out, entry.rcode);
        }
        if (entry.infoCode) {
            out.append("; info-code=");
            out.append(QByteArray::number(*entry.infoCode));
        }
        for (const auto &[key, value] : entry.otherParameters) {
            if (!isSfKey(key))
                continue;
            out.append("; ");
            out.append(key.toLatin1());
            if (value.isBoolean() && value.boolean)
                continue;
            out.append('=');
            appendSfBareItem(out, value);
        }
    }
    return out;
}

QByteArray buildProxyStatus(QStringView proxy, QStringView errorType, QStringView details)
{
    ProxyStatusEntry entry;
    entry.proxy = proxy.toString();
    entry.error = errorType.toString();
    entry.details = details.toString();
    return formatProxyStatus({entry});
}

} // namespace qmasque::wire
