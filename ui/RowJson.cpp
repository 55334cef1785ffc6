#include "ui/RowJson.h"

namespace qmasque::ui {

namespace {

// 64-bit counters become JSON numbers (doubles): exact below 2^53, which byte counters of a
// desktop session stay under.
QJsonValue number(quint64 value)
{
    return QJsonValue(double(value));
}

QJsonValue number(qint64 value)
{
    return QJsonValue(double(value));
}

QString name(const char *text)
{
    return QString::fromLatin1(text);
}

} // namespace

QJsonObject connectionToJson(const ConnectionSnapshot &c, bool direct)
{
    const TransportStats &s = c.stats;
    const DatagramDrops &d = s.datagramDrops;
    const QJsonObject drops{{QStringLiteral("too_large"), number(d.tooLarge)},
                            {QStringLiteral("queue_full"), number(d.queueFull)},
                            {QStringLiteral("unknown_stream"), number(d.unknownStream)},
                            {QStringLiteral("malformed"), number(d.malformed)},
                            {QStringLiteral("not_negotiated"), number(d.notNegotiated)},
                            {QStringLiteral("total"), number(d.total())}};
    const QJsonObject stats{{QStringLiteral("alpn"), s.alpn},
                            {QStringLiteral("quic_version"), s.quicVersion},
                            {QStringLiteral("tls_version"), s.tlsVersion},
                            {QStringLiteral("tls_cipher"), s.tlsCipher},
                            {QStringLiteral("tls_group"), s.tlsGroup},
                            {QStringLiteral("peer_certificate"), s.peerCertificate},
                            {QStringLiteral("bytes_sent"), number(s.bytesSent)},
                            {QStringLiteral("bytes_received"), number(s.bytesReceived)},
                            {QStringLiteral("frames_sent"), number(s.framesSent)},
                            {QStringLiteral("frames_received"), number(s.framesReceived)},
                            {QStringLiteral("streams_open"), number(quint64(s.streamsOpen))},
                            {QStringLiteral("smoothed_rtt_us"), number(s.smoothedRttUs)},
                            {QStringLiteral("rtt_variance_us"), number(s.rttVarianceUs)},
                            {QStringLiteral("min_rtt_us"), number(s.minRttUs)},
                            {QStringLiteral("congestion_window"), number(s.congestionWindow)},
                            {QStringLiteral("bytes_in_flight"), number(s.bytesInFlight)},
                            {QStringLiteral("packets_lost"), number(s.packetsLost)},
                            {QStringLiteral("path_mtu"), number(quint64(s.pathMtu))},
                            {QStringLiteral("datagrams_sent"), number(s.datagramsSent)},
                            {QStringLiteral("datagrams_received"), number(s.datagramsReceived)},
                            {QStringLiteral("datagram_drops"), drops}};
    return {
        {QStringLiteral("id"), number(c.id)},
        {QStringLiteral("direct"), direct},
        {QStringLiteral("transport"), name(transportKindName(c.transport))},
        {QStringLiteral("proxy_host"), c.proxyHost},
        {QStringLiteral("proxy_port"), int(c.proxyPort)},
        {QStringLiteral("fingerprint"), c.fingerprint},
        {QStringLiteral("state"), name(connectionStateName(c.state))},
        {QStringLiteral("streams_in_use"), number(c.streamsInUse)},
        {QStringLiteral("stream_limit"), number(c.streamLimit)},
        {QStringLiteral("stream_limit_source"), name(streamLimitSourceName(c.streamLimitSource))},
        {QStringLiteral("idle_remaining_ms"), number(c.idleRemainingMs)},
        {QStringLiteral("age_ms"), number(c.ageMs)},
        {QStringLiteral("datagrams_routed"), number(c.datagramsRouted)},
        {QStringLiteral("datagrams_unknown_stream"), number(c.datagramsUnknownStream)},
        {QStringLiteral("stats"), stats}};
}

QJsonObject streamToJson(const StreamSnapshot &s, quint64 connectionId, TransportKind transport)
{
    return {{QStringLiteral("connection_id"), number(connectionId)},
            {QStringLiteral("transport"), name(transportKindName(transport))},
            {QStringLiteral("stream_id"), number(s.streamId)},
            {QStringLiteral("protocol"), name(tunnelProtocolName(s.protocol))},
            {QStringLiteral("target"), s.target},
            {QStringLiteral("local_client"), s.localClient},
            {QStringLiteral("state"), name(streamStateName(s.state))},
            {QStringLiteral("response_status"), s.responseStatus},
            {QStringLiteral("proxy_status"), s.proxyStatus},
            {QStringLiteral("datagram_path"), name(datagramPathName(s.datagramPath))},
            {QStringLiteral("bytes_sent"), number(s.bytesSent)},
            {QStringLiteral("bytes_received"), number(s.bytesReceived)},
            {QStringLiteral("datagrams_sent"), number(s.datagramsSent)},
            {QStringLiteral("datagrams_received"), number(s.datagramsReceived)},
            {QStringLiteral("datagrams_dropped"), number(s.datagramsDropped)},
            {QStringLiteral("age_ms"), number(s.ageMs)}};
}

QJsonObject tunnelRecordToJson(const TunnelRecord &r)
{
    return {{QStringLiteral("tunnel_id"), number(r.tunnelId)},
            {QStringLiteral("protocol"), name(tunnelProtocolName(r.protocol))},
            {QStringLiteral("transport"), name(transportKindName(r.transport))},
            {QStringLiteral("connection_id"), number(r.connectionId)},
            {QStringLiteral("stream_id"), number(r.streamId)},
            {QStringLiteral("target"), r.target},
            {QStringLiteral("local_client"), r.localClient},
            {QStringLiteral("opened_at_ms"), number(r.openedAtMs)},
            {QStringLiteral("closed_at_ms"), number(r.closedAtMs)},
            {QStringLiteral("open_latency_ms"), number(r.openLatencyMs)},
            {QStringLiteral("response_status"), r.responseStatus},
            {QStringLiteral("proxy_status"), r.proxyStatus},
            {QStringLiteral("close_reason"), r.closeReason},
            {QStringLiteral("close_detail"), r.closeDetail},
            {QStringLiteral("bytes_sent"), number(r.bytesSent)},
            {QStringLiteral("bytes_received"), number(r.bytesReceived)},
            {QStringLiteral("datagrams_sent"), number(r.datagramsSent)},
            {QStringLiteral("datagrams_received"), number(r.datagramsReceived)},
            {QStringLiteral("datagrams_dropped"), number(r.datagramsDropped)}};
}

} // namespace qmasque::ui
