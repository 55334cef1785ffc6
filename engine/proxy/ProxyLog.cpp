#include "proxy/ProxyLog.h"

#include "core/Log.h"
#include "proxy/ProxyMetrics.h"

namespace qmasque {

namespace {

QString prefix(const char *event, const TunnelLogFields &fields)
{
    return QStringLiteral("%1 id=%2 client=%3 transport=%4 protocol=%5 target=%6")
        .arg(QLatin1StringView(event), fields.id, fields.client,
             QLatin1StringView(transportKindName(fields.transport)),
             fields.protocol.isEmpty() ? QStringLiteral("-") : fields.protocol,
             fields.target.isEmpty() ? QStringLiteral("-") : fields.target);
}

} // namespace

QString formatEndpoint(const QHostAddress &address, quint16 port)
{
    if (address == QHostAddress(QHostAddress::Any)) // the dual-stack wildcard
        return QStringLiteral("[::]:") + QString::number(port);
    QHostAddress shown = address;
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    if (isV4)
        shown = QHostAddress(v4); // ::ffff:a.b.c.d from a dual-stack socket
    if (shown.protocol() == QAbstractSocket::IPv6Protocol)
        return u'[' + shown.toString() + QStringLiteral("]:") + QString::number(port);
    return shown.toString() + u':' + QString::number(port);
}

QString quoteLogValue(const QString &text)
{
    QString out;
    out.reserve(text.size() + 2);
    out += u'"';
    for (const QChar c : text) {
        if (c == u'"' || c == u'\\')
            out += u'\\';
        out += (c == u'\n' || c == u'\r') ? QChar(u' ') : c;
    }
    out += u'"';
    return out;
}

void logTunnelOpen(const TunnelLogFields &fields, const QString &peer)
{
    qCInfo(lcProxy).noquote() << prefix("tunnel-open", fields) + QStringLiteral(" peer=") +
                                     (peer.isEmpty() ? QStringLiteral("-") : peer);
}

void logTunnelClose(const TunnelLogFields &fields, const Error &reason, qint64 durationMs,
                    const ProxyTunnelCounters &counters, quint64 drops)
{
    qCInfo(lcProxy).noquote() << prefix("tunnel-close", fields) +
                                     QStringLiteral(
                                         " reason=%1 duration_ms=%2 bytes_up=%3 bytes_down=%4 "
                                         "datagrams_up=%5 datagrams_down=%6 drops=%7")
                                         .arg(QLatin1StringView(reason.name()))
                                         .arg(durationMs)
                                         .arg(counters.bytesUp)
                                         .arg(counters.bytesDown)
                                         .arg(counters.datagramsUp)
                                         .arg(counters.datagramsDown)
                                         .arg(drops);
}

void logTunnelRefused(const TunnelLogFields &fields, int status, const Error &reason)
{
    qCInfo(lcProxy).noquote() << prefix("tunnel-refused", fields) +
                                     QStringLiteral(" status=%1 reason=%2 detail=%3")
                                         .arg(status)
                                         .arg(QLatin1StringView(reason.name()),
                                              quoteLogValue(reason.detail));
}

} // namespace qmasque
