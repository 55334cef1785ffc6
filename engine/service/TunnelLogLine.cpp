#include "service/TunnelLogLine.h"

#include "proxy/ProxyLog.h"
#include "service/EngineMetrics.h"

namespace qmasque::tunnellog {

namespace {

// value: bare when it has no space, quote or equals sign; quoted otherwise; "-" when empty.
QString value(const QString &text)
{
    if (text.isEmpty())
        return QStringLiteral("-");
    for (const QChar c : text) {
        if (c.isSpace() || c == u'"' || c == u'=' || c == u'\\')
            return quoteLogValue(text);
    }
    return text;
}

QString prefix(const char *event, quint64 tunnelId, TunnelProtocol protocol,
               TransportKind transport, const QString &target, const QString &localClient)
{
    return QStringLiteral("%1 id=%2 transport=%3 protocol=%4 target=%5 client=%6")
        .arg(QLatin1StringView(event))
        .arg(tunnelId)
        .arg(QLatin1StringView(transportKindName(transport)),
             QString::fromLatin1(EngineMetrics::protocolLabel(protocol)), value(target),
             value(localClient));
}

} // namespace

QString openLine(quint64 tunnelId, TunnelProtocol protocol, TransportKind transport,
                 const QString &target, const QString &localClient, qint64 latencyMs)
{
    return prefix("tunnel-open", tunnelId, protocol, transport, target, localClient) +
           QStringLiteral(" latency_ms=%1").arg(latencyMs);
}

QString closeLine(const TunnelRecord &record)
{
    const qint64 duration = record.closedAtMs - record.openedAtMs;
    return prefix("tunnel-close", record.tunnelId, record.protocol, record.transport, record.target,
                  record.localClient) +
           QStringLiteral(" reason=%1 duration_ms=%2 bytes_sent=%3 bytes_received=%4 "
                          "datagrams_sent=%5 datagrams_received=%6 drops=%7")
               .arg(value(record.closeReason))
               .arg(qMax<qint64>(duration, 0))
               .arg(record.bytesSent)
               .arg(record.bytesReceived)
               .arg(record.datagramsSent)
               .arg(record.datagramsReceived)
               .arg(record.datagramsDropped);
}

QString failedLine(const TunnelRecord &record)
{
    QString line = prefix("tunnel-failed", record.tunnelId, record.protocol, record.transport,
                          record.target, record.localClient) +
                   QStringLiteral(" reason=") + value(record.closeReason);
    if (record.responseStatus != 0)
        line += QStringLiteral(" status=%1").arg(record.responseStatus);
    if (!record.proxyStatus.isEmpty())
        line += QStringLiteral(" proxy_status=") + value(record.proxyStatus);
    if (!record.closeDetail.isEmpty())
        line += QStringLiteral(" detail=") + quoteLogValue(record.closeDetail);
    return line;
}

QString failedLine(quint64 tunnelId, const Error &error)
{
    QString line = QStringLiteral("tunnel-failed id=%1 reason=%2")
                       .arg(tunnelId)
                       .arg(QLatin1StringView(error.name()));
    if (!error.detail.isEmpty())
        line += QStringLiteral(" detail=") + quoteLogValue(error.detail);
    return line;
}

} // namespace qmasque::tunnellog
