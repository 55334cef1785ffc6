#include "api/Snapshot.h"

#include "api/EngineEvents.h"

#include <array>
#include <charconv>
#include <vector>

namespace qmasque {

const char *connectionStateName(ConnectionState state) noexcept
{
    switch (state) {
    case ConnectionState::Dialing:
        return "dialing";
    case ConnectionState::Ready:
        return "ready";
    case ConnectionState::Full:
        return "full";
    case ConnectionState::Draining:
        return "draining";
    case ConnectionState::Closing:
        return "closing";
    }
    return "unknown";
}

const char *streamStateName(StreamState state) noexcept
{
    switch (state) {
    case StreamState::Connecting:
        return "connecting";
    case StreamState::Open:
        return "open";
    case StreamState::Closing:
        return "closing";
    }
    return "unknown";
}

const char *datagramPathName(DatagramPath path) noexcept
{
    switch (path) {
    case DatagramPath::None:
        return "none";
    case DatagramPath::QuicDatagram:
        return "quic_datagram";
    case DatagramPath::Capsule:
        return "capsule";
    }
    return "unknown";
}

const char *streamLimitSourceName(StreamLimitSource source) noexcept
{
    switch (source) {
    case StreamLimitSource::Fixed:
        return "fixed";
    case StreamLimitSource::Peer:
        return "peer";
    case StreamLimitSource::Default:
        return "default";
    }
    return "unknown";
}

namespace {

// JsonWriter: appends JSON to one growing buffer. Numbers are formatted in place with
// std::to_chars (no temporary strings): a 10 000-stream snapshot writes ~200 000 numbers.
class JsonWriter
{
public:
    JsonWriter(QByteArray &out, bool indented)
        : m_out(out)
        , m_indented(indented)
    {}

    void beginObject(const char *key = nullptr) { open(key, '{'); }
    void endObject() { close('}'); }
    void beginArray(const char *key) { open(key, '['); }
    void endArray() { close(']'); }

    void field(const char *key, qint64 value)
    {
        prefix(key);
        appendNumber(value);
    }
    void field(const char *key, quint64 value)
    {
        prefix(key);
        appendNumber(value);
    }
    void field(const char *key, int value) { field(key, static_cast<qint64>(value)); }
    void field(const char *key, quint32 value) { field(key, static_cast<quint64>(value)); }
    void field(const char *key, quint16 value) { field(key, static_cast<quint64>(value)); }
    void field(const char *key, bool value)
    {
        prefix(key);
        m_out.append(value ? "true" : "false");
    }
    void field(const char *key, const char *value)
    {
        prefix(key);
        appendString(QByteArrayView(value));
    }
    void field(const char *key, const QString &value)
    {
        prefix(key);
        appendString(value.toUtf8());
    }

private:
    template<typename T>
    void appendNumber(T value)
    {
        std::array<char, 24> digits{};
        const auto result = std::to_chars(digits.data(), digits.data() + digits.size(), value);
        m_out.append(digits.data(), result.ptr - digits.data());
    }

    void appendString(QByteArrayView utf8)
    {
        // RFC 8259, 7: quotation mark, reverse solidus and the control characters are escaped.
        static constexpr char kHex[] = "0123456789abcdef";
        m_out.append('"');
        for (const char c : utf8) {
            const auto byte = static_cast<unsigned char>(c);
            if (byte == '"' || byte == '\\') {
                m_out.append('\\');
                m_out.append(c);
            } else if (byte == '\n') {
                m_out.append("\\n");
            } else if (byte == '\r') {
                m_out.append("\\r");
            } else if (byte == '\t') {
                m_out.append("\\t");
            } else if (byte < 0x20) {
                m_out.append("\\u00");
                m_out.append(kHex[byte >> 4]);
                m_out.append(kHex[byte & 0xf]);
            } else {
                m_out.append(c);
            }
        }
        m_out.append('"');
    }

    void prefix(const char *key)
    {
        if (!m_first.empty()) {
            if (!m_first.back())
                m_out.append(',');
            m_first.back() = false;
            newline();
        }
        if (key) {
            m_out.append('"');
            m_out.append(key);
            m_out.append(m_indented ? "\": " : "\":");
        }
    }

    void open(const char *key, char bracket)
    {
        prefix(key);
        m_out.append(bracket);
        m_first.push_back(true);
    }

    void close(char bracket)
    {
        const bool empty = m_first.back();
        m_first.pop_back();
        if (!empty)
            newline();
        m_out.append(bracket);
    }

    void newline()
    {
        if (!m_indented)
            return;
        m_out.append('\n');
        m_out.append(QByteArray(static_cast<qsizetype>(2 * m_first.size()), ' '));
    }

    QByteArray &m_out;
    const bool m_indented;
    std::vector<bool> m_first; // per open container: nothing written into it yet
};

void writeStats(JsonWriter &json, const TransportStats &stats)
{
    json.beginObject("stats");
    json.field("alpn", stats.alpn);
    json.field("quic_version", stats.quicVersion);
    json.field("tls_version", stats.tlsVersion);
    json.field("tls_cipher", stats.tlsCipher);
    json.field("tls_group", stats.tlsGroup);
    json.field("peer_certificate", stats.peerCertificate);
    json.field("bytes_sent", stats.bytesSent);
    json.field("bytes_received", stats.bytesReceived);
    json.field("frames_sent", stats.framesSent);
    json.field("frames_received", stats.framesReceived);
    json.field("streams_open", stats.streamsOpen);
    json.field("smoothed_rtt_us", stats.smoothedRttUs);
    json.field("rtt_variance_us", stats.rttVarianceUs);
    json.field("min_rtt_us", stats.minRttUs);
    json.field("congestion_window", stats.congestionWindow);
    json.field("bytes_in_flight", stats.bytesInFlight);
    json.field("packets_lost", stats.packetsLost);
    json.field("path_mtu", stats.pathMtu);
    json.field("datagrams_sent", stats.datagramsSent);
    json.field("datagrams_received", stats.datagramsReceived);
    json.beginObject("datagram_drops");
    json.field("too_large", stats.datagramDrops.tooLarge);
    json.field("queue_full", stats.datagramDrops.queueFull);
    json.field("unknown_stream", stats.datagramDrops.unknownStream);
    json.field("malformed", stats.datagramDrops.malformed);
    json.field("not_negotiated", stats.datagramDrops.notNegotiated);
    json.field("total", stats.datagramDrops.total());
    json.endObject();
    json.endObject();
}

void writeStream(JsonWriter &json, const StreamSnapshot &row)
{
    json.beginObject();
    json.field("stream_id", static_cast<qint64>(row.streamId));
    json.field("protocol", tunnelProtocolName(row.protocol));
    json.field("target", row.target);
    json.field("local_client", row.localClient);
    json.field("state", streamStateName(row.state));
    json.field("response_status", row.responseStatus);
    json.field("proxy_status", row.proxyStatus);
    json.field("datagram_path", datagramPathName(row.datagramPath));
    json.field("bytes_sent", row.bytesSent);
    json.field("bytes_received", row.bytesReceived);
    json.field("datagrams_sent", row.datagramsSent);
    json.field("datagrams_received", row.datagramsReceived);
    json.field("datagrams_dropped", row.datagramsDropped);
    json.field("age_ms", row.ageMs);
    json.endObject();
}

void writeConnection(JsonWriter &json, const ConnectionSnapshot &connection)
{
    json.beginObject();
    json.field("id", connection.id);
    json.field("transport", transportKindName(connection.transport));
    json.field("proxy_host", connection.proxyHost);
    json.field("proxy_port", connection.proxyPort);
    json.field("fingerprint", connection.fingerprint);
    json.field("state", connectionStateName(connection.state));
    json.field("streams_in_use", connection.streamsInUse);
    json.field("stream_limit", connection.streamLimit);
    json.field("stream_limit_source", streamLimitSourceName(connection.streamLimitSource));
    json.field("idle_remaining_ms", connection.idleRemainingMs);
    json.field("age_ms", connection.ageMs);
    json.field("datagrams_routed", connection.datagramsRouted);
    json.field("datagrams_unknown_stream", connection.datagramsUnknownStream);
    writeStats(json, connection.stats);
    json.beginArray("streams");
    for (const StreamSnapshot &row : connection.streams)
        writeStream(json, row);
    json.endArray();
    json.endObject();
}

void writeDial(JsonWriter &json, const DialSnapshot &dial)
{
    json.beginObject();
    json.field("fingerprint", dial.fingerprint);
    json.field("transport", transportKindName(dial.transport));
    json.field("proxy_host", dial.proxyHost);
    json.field("proxy_port", dial.proxyPort);
    json.field("dialing", dial.dialing);
    json.field("owner_id", dial.ownerId);
    json.field("age_ms", dial.ageMs);
    json.field("waiters", dial.waiters);
    json.endObject();
}

} // namespace

namespace {

qsizetype estimateJsonSize(const QList<ConnectionSnapshot> &connections)
{
    qint64 rows = 0;
    for (const ConnectionSnapshot &connection : connections)
        rows += connection.streams.size();
    // About 400 bytes per stream row, 1 KiB per connection: one allocation in the common case.
    return static_cast<qsizetype>(1024 + 1024 * connections.size() + 400 * rows);
}

// writePoolFields: the pool snapshot's keys, inside an object the caller opened.
void writePoolFields(JsonWriter &json, const PoolSnapshot &snapshot)
{
    json.field("taken_at_ms", snapshot.takenAtMs);
    json.beginObject("totals");
    json.field("connections", snapshot.totals.connections);
    json.field("streams", snapshot.totals.streams);
    json.field("stream_limit", snapshot.totals.streamLimit);
    json.field("dials", snapshot.totals.dials);
    json.field("waiters", snapshot.totals.waiters);
    json.endObject();
    json.beginObject("counters");
    json.field("checkouts", snapshot.counters.checkouts);
    json.field("streams_opened", snapshot.counters.streamsOpened);
    json.field("dials_started", snapshot.counters.dialsStarted);
    json.field("dials_failed", snapshot.counters.dialsFailed);
    json.field("retries", snapshot.counters.retries);
    json.field("checkout_timeouts", snapshot.counters.checkoutTimeouts);
    json.field("connections_closed", snapshot.counters.connectionsClosed);
    json.endObject();
    json.beginArray("connections");
    for (const ConnectionSnapshot &connection : snapshot.connections)
        writeConnection(json, connection);
    json.endArray();
    json.beginArray("dials");
    for (const DialSnapshot &dial : snapshot.dials)
        writeDial(json, dial);
    json.endArray();
}

} // namespace

QByteArray snapshotToJson(const PoolSnapshot &snapshot, bool indented)
{
    QByteArray out;
    out.reserve(estimateJsonSize(snapshot.connections));
    JsonWriter json(out, indented);
    json.beginObject();
    writePoolFields(json, snapshot);
    json.endObject();
    if (indented)
        out.append('\n');
    return out;
}

QByteArray engineSnapshotToJson(const EngineSnapshot &snapshot, bool indented)
{
    QByteArray out;
    out.reserve(estimateJsonSize(snapshot.pool.connections) +
                estimateJsonSize(snapshot.directConnections));
    JsonWriter json(out, indented);
    json.beginObject();
    writePoolFields(json, snapshot.pool);
    json.beginObject("engine");
    json.field("state", engineStateName(snapshot.state));
    json.field("profile", snapshot.profileName);
    json.field("proxy", snapshot.proxy);
    json.field("tunnels_opened", snapshot.tunnelsOpened);
    json.field("tunnels_failed", snapshot.tunnelsFailed);
    json.field("bytes_sent", snapshot.bytesSent);
    json.field("bytes_received", snapshot.bytesReceived);
    json.beginArray("listeners");
    for (const QString &listener : snapshot.listeners)
        json.field(nullptr, listener);
    json.endArray();
    json.endObject();
    json.beginArray("direct_connections");
    for (const ConnectionSnapshot &connection : snapshot.directConnections)
        writeConnection(json, connection);
    json.endArray();
    json.endObject();
    if (indented)
        out.append('\n');
    return out;
}

void registerSnapshotMetaTypes()
{
    qRegisterMetaType<ConnectionState>();
    qRegisterMetaType<StreamSnapshot>();
    qRegisterMetaType<ConnectionSnapshot>();
    qRegisterMetaType<DialSnapshot>();
    qRegisterMetaType<PoolSnapshot>();
}

} // namespace qmasque
