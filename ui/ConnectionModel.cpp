#include "ui/ConnectionModel.h"

#include "api/Profile.h"
#include "ui/Format.h"
#include "ui/Icons.h"
#include "ui/Theme.h"

namespace qmasque::ui {

namespace {

QString unknownIfEmpty(const QString &text)
{
    return text.isEmpty() ? QStringLiteral("–") : text;
}

QString limitSourceText(StreamLimitSource source, TransportKind transport)
{
    switch (source) {
    case StreamLimitSource::Fixed:
        return ConnectionModel::tr("configured limit (pool-max-streams)");
    case StreamLimitSource::Peer:
        return transport == TransportKind::H3
                   ? ConnectionModel::tr("the proxy's MAX_STREAMS credit")
                   : ConnectionModel::tr("the proxy's SETTINGS_MAX_CONCURRENT_STREAMS");
    case StreamLimitSource::Default:
        return ConnectionModel::tr("the proxy announced no limit: default 100");
    }
    return {};
}

bool isNumeric(int column)
{
    switch (column) {
    case ConnectionModel::Id:
    case ConnectionModel::Streams:
    case ConnectionModel::Idle:
    case ConnectionModel::Age:
    case ConnectionModel::Rtt:
    case ConnectionModel::MinRtt:
    case ConnectionModel::Loss:
    case ConnectionModel::CongestionWindow:
    case ConnectionModel::PathMtu:
    case ConnectionModel::BytesIn:
    case ConnectionModel::BytesOut:
    case ConnectionModel::DatagramsIn:
    case ConnectionModel::DatagramsOut:
    case ConnectionModel::DatagramsDropped:
        return true;
    default:
        return false;
    }
}

} // namespace

ConnectionModel::ConnectionModel(QObject *parent)
    : KeyedTableModel(parent)
{}

void ConnectionModel::apply(const EngineSnapshot &snapshot)
{
    QList<Row> incoming;
    incoming.reserve(snapshot.pool.connections.size() + snapshot.directConnections.size());
    for (const ConnectionSnapshot &connection : snapshot.pool.connections) {
        incoming.append(Row{connection, false});
        incoming.last().connection.streams = {};
    }
    for (const ConnectionSnapshot &connection : snapshot.directConnections) {
        incoming.append(Row{connection, true});
        incoming.last().connection.streams = {};
    }
    applyRows(
        m_rows, m_index, incoming, [](const Row &row) { return row.connection.id; }, &diffColumns,
        ColumnMask(1) << Age);
}

void ConnectionModel::clear()
{
    QList<Row> none;
    applyRows(
        m_rows, m_index, none, [](const Row &row) { return row.connection.id; }, &diffColumns,
        ColumnMask(1) << Age);
}

KeyedTableModel::ColumnMask ConnectionModel::diffColumns(const Row &a, const Row &b)
{
    const ConnectionSnapshot &x = a.connection;
    const ConnectionSnapshot &y = b.connection;
    const TransportStats &s = x.stats;
    const TransportStats &t = y.stats;
    ColumnMask m = 0;
    const auto mark = [&m](bool differs, int column) {
        if (differs)
            m |= ColumnMask(1) << column;
    };
    mark(x.proxyHost != y.proxyHost || x.proxyPort != y.proxyPort || x.fingerprint != y.fingerprint,
         Proxy);
    mark(x.transport != y.transport || a.direct != b.direct || s.alpn != t.alpn ||
             s.quicVersion != t.quicVersion,
         Transport);
    mark(s.alpn != t.alpn, Alpn);
    mark(s.quicVersion != t.quicVersion, QuicVersion);
    mark(x.state != y.state, State);
    mark(x.streamsInUse != y.streamsInUse || x.streamLimit != y.streamLimit ||
             x.streamLimitSource != y.streamLimitSource,
         Streams);
    mark(x.idleRemainingMs != y.idleRemainingMs, Idle);
    mark(x.ageMs != y.ageMs, Age);
    mark(s.smoothedRttUs != t.smoothedRttUs || s.rttVarianceUs != t.rttVarianceUs, Rtt);
    mark(s.minRttUs != t.minRttUs, MinRtt);
    mark(s.packetsLost != t.packetsLost, Loss);
    mark(s.congestionWindow != t.congestionWindow || s.bytesInFlight != t.bytesInFlight,
         CongestionWindow);
    mark(s.pathMtu != t.pathMtu, PathMtu);
    mark(s.tlsCipher != t.tlsCipher || s.tlsVersion != t.tlsVersion ||
             s.peerCertificate != t.peerCertificate,
         TlsCipher);
    mark(s.tlsGroup != t.tlsGroup, TlsGroup);
    mark(s.bytesReceived != t.bytesReceived || s.framesReceived != t.framesReceived, BytesIn);
    mark(s.bytesSent != t.bytesSent || s.framesSent != t.framesSent, BytesOut);
    mark(s.datagramsReceived != t.datagramsReceived || x.datagramsRouted != y.datagramsRouted,
         DatagramsIn);
    mark(s.datagramsSent != t.datagramsSent, DatagramsOut);
    const DatagramDrops &d = s.datagramDrops;
    const DatagramDrops &e = t.datagramDrops;
    mark(d.tooLarge != e.tooLarge || d.queueFull != e.queueFull ||
             d.unknownStream != e.unknownStream || d.malformed != e.malformed ||
             d.notNegotiated != e.notNegotiated ||
             x.datagramsUnknownStream != y.datagramsUnknownStream,
         DatagramsDropped);
    return m;
}

int ConnectionModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ConnectionModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ConnectionModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows.at(index.row());
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return display(row, column);
    case RawValueRole:
        return raw(row, column);
    case Qt::ToolTipRole:
        return toolTip(row, column);
    case Qt::TextAlignmentRole:
        return isNumeric(column) ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
    case Qt::DecorationRole:
        return column == State ? QVariant(icons::connectionState(row.connection.state))
                               : QVariant();
    case Qt::ForegroundRole:
        return column == State
                   ? QVariant(theme::connectionStateColor(row.connection.state, darkPalette()))
                   : QVariant();
    case StateRole:
        return int(row.connection.state);
    case KeyRole:
        return row.connection.id;
    default:
        return {};
    }
}

QVariant ConnectionModel::display(const Row &row, int column) const
{
    const ConnectionSnapshot &c = row.connection;
    const TransportStats &s = c.stats;
    const bool h3 = c.transport == TransportKind::H3;
    switch (column) {
    case Id:
        return QString::number(c.id);
    case Proxy:
        return Endpoint{c.proxyHost, c.proxyPort}.toString();
    case Transport:
        if (row.direct)
            return tr("h1 direct");
        if (h3 && !s.quicVersion.isEmpty())
            return QStringLiteral("h3 · QUIC %1").arg(s.quicVersion);
        return QString::fromLatin1(transportKindName(c.transport));
    case Alpn:
        return unknownIfEmpty(s.alpn);
    case QuicVersion:
        return unknownIfEmpty(s.quicVersion);
    case State:
        return QString::fromLatin1(connectionStateName(c.state));
    case Streams:
        return QStringLiteral("%1 / %2").arg(c.streamsInUse).arg(c.streamLimit);
    case Idle:
        return formatDuration(c.idleRemainingMs);
    case Age:
        return formatDuration(c.ageMs);
    case Rtt:
        return formatRtt(s.smoothedRttUs);
    case MinRtt:
        return formatRtt(s.minRttUs);
    case Loss:
        return h3 ? formatCount(s.packetsLost) : QStringLiteral("–");
    case CongestionWindow:
        return h3 && s.congestionWindow > 0 ? formatBytes(s.congestionWindow) : QStringLiteral("–");
    case PathMtu:
        return s.pathMtu > 0 ? QString::number(s.pathMtu) : QStringLiteral("–");
    case TlsCipher:
        return unknownIfEmpty(s.tlsCipher);
    case TlsGroup:
        return unknownIfEmpty(s.tlsGroup);
    case BytesIn:
        return formatBytes(s.bytesReceived);
    case BytesOut:
        return formatBytes(s.bytesSent);
    case DatagramsIn:
        return formatCount(s.datagramsReceived);
    case DatagramsOut:
        return formatCount(s.datagramsSent);
    case DatagramsDropped:
        return formatCount(s.datagramDrops.total());
    default:
        return {};
    }
}

QVariant ConnectionModel::raw(const Row &row, int column) const
{
    const ConnectionSnapshot &c = row.connection;
    const TransportStats &s = c.stats;
    switch (column) {
    case Id:
        return c.id;
    case Proxy:
        return Endpoint{c.proxyHost, c.proxyPort}.toString();
    case Transport:
        return int(c.transport);
    case Alpn:
        return s.alpn;
    case QuicVersion:
        return s.quicVersion;
    case State:
        return int(c.state);
    case Streams:
        return c.streamsInUse;
    case Idle:
        return c.idleRemainingMs;
    case Age:
        return c.ageMs;
    case Rtt:
        return s.smoothedRttUs;
    case MinRtt:
        return s.minRttUs;
    case Loss:
        return s.packetsLost;
    case CongestionWindow:
        return s.congestionWindow;
    case PathMtu:
        return s.pathMtu;
    case TlsCipher:
        return s.tlsCipher;
    case TlsGroup:
        return s.tlsGroup;
    case BytesIn:
        return s.bytesReceived;
    case BytesOut:
        return s.bytesSent;
    case DatagramsIn:
        return s.datagramsReceived;
    case DatagramsOut:
        return s.datagramsSent;
    case DatagramsDropped:
        return s.datagramDrops.total();
    default:
        return {};
    }
}

QVariant ConnectionModel::toolTip(const Row &row, int column) const
{
    const ConnectionSnapshot &c = row.connection;
    const TransportStats &s = c.stats;
    switch (column) {
    case Proxy:
        return tr("Pool key: %1").arg(c.fingerprint);
    case Transport: {
        const QString kind =
            row.direct
                ? tr("HTTP/1.1 tunnel on its own TLS connection (never pooled)")
                : tr("Pooled %1 connection").arg(QLatin1StringView(transportKindName(c.transport)));
        const QString quic =
            s.quicVersion.isEmpty() ? QString() : tr(", QUIC version %1").arg(s.quicVersion);
        return QString(kind + tr("\nALPN %1%2").arg(unknownIfEmpty(s.alpn), quic));
    }
    case State:
        switch (c.state) {
        case ConnectionState::Dialing:
            return tr("Connecting to the proxy");
        case ConnectionState::Ready:
            return tr("Takes new streams");
        case ConnectionState::Full:
            return tr("At its stream limit: new tunnels go to another connection");
        case ConnectionState::Draining:
            return tr("GOAWAY: its streams finish, no new ones");
        case ConnectionState::Closing:
            return tr("Closing");
        }
        return {};
    case Streams:
        return tr("%1 streams in use; limit %2 from %3")
            .arg(c.streamsInUse)
            .arg(c.streamLimit)
            .arg(limitSourceText(c.streamLimitSource, c.transport));
    case Idle:
        return c.idleRemainingMs < 0
                   ? tr("Idle timer not armed (streams in use, or disabled)")
                   : tr("Closes when unused for %1 more").arg(formatDuration(c.idleRemainingMs));
    case Rtt:
        return tr("Smoothed RTT %1, variance %2")
            .arg(formatRtt(s.smoothedRttUs), formatRtt(s.rttVarianceUs));
    case CongestionWindow:
        return tr("Congestion window %1, %2 in flight")
            .arg(formatBytes(s.congestionWindow), formatBytes(s.bytesInFlight));
    case TlsCipher:
    case TlsGroup:
        return tr("%1 %2, group %3\nPeer: %4")
            .arg(unknownIfEmpty(s.tlsVersion), unknownIfEmpty(s.tlsCipher),
                 unknownIfEmpty(s.tlsGroup), unknownIfEmpty(s.peerCertificate));
    case BytesIn:
    case BytesOut:
        return tr("On the wire: %1 in (%2 frames/packets), %3 out (%4)")
            .arg(formatBytes(s.bytesReceived), formatCount(s.framesReceived),
                 formatBytes(s.bytesSent), formatCount(s.framesSent));
    case DatagramsIn:
        return tr("%1 datagrams received, %2 delivered to a stream")
            .arg(formatCount(s.datagramsReceived), formatCount(c.datagramsRouted));
    case DatagramsDropped: {
        const DatagramDrops &d = s.datagramDrops;
        return tr("Dropped datagrams:\n  too large: %1\n  send queue full: %2\n"
                  "  unknown stream: %3\n  malformed: %4\n  not negotiated: %5")
            .arg(formatCount(d.tooLarge), formatCount(d.queueFull), formatCount(d.unknownStream),
                 formatCount(d.malformed), formatCount(d.notNegotiated));
    }
    default:
        return {};
    }
}

QVariant ConnectionModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    static const char *const kTitles[ColumnCount] = {
        QT_TR_NOOP("ID"),        QT_TR_NOOP("Proxy"),      QT_TR_NOOP("Transport"),
        QT_TR_NOOP("ALPN"),      QT_TR_NOOP("QUIC"),       QT_TR_NOOP("State"),
        QT_TR_NOOP("Streams"),   QT_TR_NOOP("Idle in"),    QT_TR_NOOP("Age"),
        QT_TR_NOOP("RTT"),       QT_TR_NOOP("Min RTT"),    QT_TR_NOOP("Lost"),
        QT_TR_NOOP("Cwnd"),      QT_TR_NOOP("PMTU"),       QT_TR_NOOP("TLS cipher"),
        QT_TR_NOOP("Group"),     QT_TR_NOOP("In"),         QT_TR_NOOP("Out"),
        QT_TR_NOOP("Dgrams in"), QT_TR_NOOP("Dgrams out"), QT_TR_NOOP("Dropped")};
    static const char *const kTips[ColumnCount] = {
        QT_TR_NOOP("Connection id (close commands name it)"),
        QT_TR_NOOP("Proxy host and port"),
        QT_TR_NOOP("HTTP version"),
        QT_TR_NOOP("Negotiated ALPN"),
        QT_TR_NOOP("QUIC version (h3)"),
        QT_TR_NOOP("dialing, ready, full, draining (GOAWAY) or closing"),
        QT_TR_NOOP("Streams in use / limit"),
        QT_TR_NOOP("Until the idle timer closes the unused connection"),
        QT_TR_NOOP("Since the dial started"),
        QT_TR_NOOP("Smoothed round-trip time"),
        QT_TR_NOOP("Minimum round-trip time"),
        QT_TR_NOOP("QUIC packets declared lost"),
        QT_TR_NOOP("QUIC congestion window"),
        QT_TR_NOOP("Largest UDP payload the path carries"),
        QT_TR_NOOP("TLS cipher suite"),
        QT_TR_NOOP("TLS key exchange group"),
        QT_TR_NOOP("Bytes received on the wire"),
        QT_TR_NOOP("Bytes sent on the wire"),
        QT_TR_NOOP("HTTP datagrams received"),
        QT_TR_NOOP("HTTP datagrams sent"),
        QT_TR_NOOP("HTTP datagrams dropped (all reasons)")};
    if (section < 0 || section >= ColumnCount)
        return {};
    if (role == Qt::DisplayRole)
        return tr(kTitles[section]);
    if (role == Qt::ToolTipRole)
        return tr(kTips[section]);
    return {};
}

} // namespace qmasque::ui
