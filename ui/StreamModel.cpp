#include "ui/StreamModel.h"

#include "ui/Format.h"
#include "ui/Icons.h"
#include "ui/Theme.h"

#include <QtCore/QHashFunctions>

namespace qmasque::ui {

namespace {

constexpr KeyedTableModel::ColumnMask kTickColumns = KeyedTableModel::ColumnMask(1)
                                                     << StreamModel::Age;

StreamKey keyOf(const StreamModel::Row &row)
{
    return row.key();
}

bool isNumeric(int column)
{
    switch (column) {
    case StreamModel::Stream:
    case StreamModel::BytesOut:
    case StreamModel::BytesIn:
    case StreamModel::DatagramsOut:
    case StreamModel::DatagramsIn:
    case StreamModel::Dropped:
    case StreamModel::Age:
        return true;
    default:
        return false;
    }
}

bool refused(const StreamSnapshot &stream)
{
    return stream.responseStatus >= 300 || !stream.proxyStatus.isEmpty();
}

} // namespace

size_t qHash(const StreamKey &key, size_t seed) noexcept
{
    return qHashMulti(seed, key.connectionId, key.streamId);
}

StreamModel::StreamModel(QObject *parent)
    : KeyedTableModel(parent)
{}

void StreamModel::apply(const EngineSnapshot &snapshot)
{
    QList<Row> incoming;
    qsizetype count = snapshot.directConnections.size();
    for (const ConnectionSnapshot &connection : snapshot.pool.connections)
        count += connection.streams.size();
    incoming.reserve(count);
    const auto add = [&incoming](const ConnectionSnapshot &connection, bool direct) {
        for (const StreamSnapshot &stream : connection.streams)
            incoming.append(Row{connection.id, connection.transport, direct, stream});
    };
    for (const ConnectionSnapshot &connection : snapshot.pool.connections)
        add(connection, false);
    for (const ConnectionSnapshot &connection : snapshot.directConnections)
        add(connection, true);
    applyRows(m_rows, m_index, incoming, &keyOf, &diffColumns, kTickColumns);
}

void StreamModel::clear()
{
    QList<Row> none;
    applyRows(m_rows, m_index, none, &keyOf, &diffColumns, kTickColumns);
}

KeyedTableModel::ColumnMask StreamModel::diffColumns(const Row &a, const Row &b)
{
    const StreamSnapshot &x = a.stream;
    const StreamSnapshot &y = b.stream;
    ColumnMask m = 0;
    const auto mark = [&m](bool differs, int column) {
        if (differs)
            m |= ColumnMask(1) << column;
    };
    mark(a.transport != b.transport || a.direct != b.direct, Connection);
    mark(x.protocol != y.protocol, Protocol);
    mark(x.target != y.target, Target);
    mark(x.localClient != y.localClient, LocalClient);
    mark(x.state != y.state, State);
    mark(x.responseStatus != y.responseStatus, Status);
    mark(x.proxyStatus != y.proxyStatus, ProxyStatus);
    mark(x.datagramPath != y.datagramPath, DatagramPath);
    mark(x.bytesSent != y.bytesSent, BytesOut);
    mark(x.bytesReceived != y.bytesReceived, BytesIn);
    mark(x.datagramsSent != y.datagramsSent, DatagramsOut);
    mark(x.datagramsReceived != y.datagramsReceived, DatagramsIn);
    mark(x.datagramsDropped != y.datagramsDropped, Dropped);
    mark(x.ageMs != y.ageMs, Age);
    return m;
}

QString StreamModel::protocolText(TunnelProtocol protocol)
{
    return QString::fromLatin1(tunnelProtocolName(protocol));
}

QString StreamModel::datagramPathText(qmasque::DatagramPath path)
{
    switch (path) {
    case qmasque::DatagramPath::None:
        return QStringLiteral("–");
    case qmasque::DatagramPath::QuicDatagram:
        return tr("QUIC DATAGRAM");
    case qmasque::DatagramPath::Capsule:
        return tr("capsule");
    }
    return {};
}

int StreamModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int StreamModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant StreamModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    return cellData(m_rows.at(index.row()), index.column(), role, darkPalette());
}

QVariant StreamModel::cellData(const Row &row, int column, int role, bool dark)
{
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
        return column == State ? QVariant(icons::streamState(row.stream.state)) : QVariant();
    case Qt::ForegroundRole:
        if (column == State)
            return theme::streamStateColor(row.stream.state, dark);
        if (column == Status && refused(row.stream))
            return theme::errorColor(dark);
        return {};
    case StateRole:
        return int(row.stream.state);
    case KeyRole:
        return QStringLiteral("%1/%2").arg(row.connectionId).arg(row.stream.streamId);
    default:
        return {};
    }
}

QVariant StreamModel::display(const Row &row, int column)
{
    const StreamSnapshot &s = row.stream;
    switch (column) {
    case Connection:
        return QStringLiteral("%1 · %2")
            .arg(row.connectionId)
            .arg(QLatin1StringView(transportKindName(row.transport)));
    case Stream:
        return QString::number(s.streamId);
    case Protocol:
        return protocolText(s.protocol);
    case Target:
        return s.target;
    case LocalClient:
        return s.localClient;
    case State:
        return QString::fromLatin1(streamStateName(s.state));
    case Status:
        return s.responseStatus > 0 ? QString::number(s.responseStatus) : QStringLiteral("–");
    case ProxyStatus:
        return s.proxyStatus;
    case DatagramPath:
        return datagramPathText(s.datagramPath);
    case BytesOut:
        return formatBytes(s.bytesSent);
    case BytesIn:
        return formatBytes(s.bytesReceived);
    case DatagramsOut:
        return formatCount(s.datagramsSent);
    case DatagramsIn:
        return formatCount(s.datagramsReceived);
    case Dropped:
        return formatCount(s.datagramsDropped);
    case Age:
        return formatDuration(s.ageMs);
    default:
        return {};
    }
}

QVariant StreamModel::raw(const Row &row, int column)
{
    const StreamSnapshot &s = row.stream;
    switch (column) {
    case Connection:
        return row.connectionId;
    case Stream:
        return s.streamId;
    case Protocol:
        return protocolText(s.protocol);
    case Target:
        return s.target;
    case LocalClient:
        return s.localClient;
    case State:
        return int(s.state);
    case Status:
        return s.responseStatus;
    case ProxyStatus:
        return s.proxyStatus;
    case DatagramPath:
        return int(s.datagramPath);
    case BytesOut:
        return s.bytesSent;
    case BytesIn:
        return s.bytesReceived;
    case DatagramsOut:
        return s.datagramsSent;
    case DatagramsIn:
        return s.datagramsReceived;
    case Dropped:
        return s.datagramsDropped;
    case Age:
        return s.ageMs;
    default:
        return {};
    }
}

QVariant StreamModel::toolTip(const Row &row, int column)
{
    const StreamSnapshot &s = row.stream;
    switch (column) {
    case Connection:
        return row.direct
                   ? tr("Direct HTTP/1.1 tunnel %1 (its own TLS connection)").arg(row.connectionId)
                   : tr("Stream of pooled %1 connection %2")
                         .arg(QLatin1StringView(transportKindName(row.transport)))
                         .arg(row.connectionId);
    case Protocol:
        switch (s.protocol) {
        case TunnelProtocol::Udp:
            return tr("UDP proxying over HTTP (RFC 9298)");
        case TunnelProtocol::Tcp:
            return tr("TCP: classic CONNECT (RFC 9110) or templated connect-tcp");
        case TunnelProtocol::Ip:
            return tr("IP proxying over HTTP (RFC 9484)");
        }
        return {};
    case State:
        switch (s.state) {
        case StreamState::Connecting:
            return tr("Request sent, waiting for the final response");
        case StreamState::Open:
            return tr("2xx received: data flows");
        case StreamState::Closing:
            return tr("FIN sent or received: finishing");
        }
        return {};
    case Status:
    case ProxyStatus:
        return s.proxyStatus.isEmpty()
                   ? QVariant()
                   : QVariant(tr("Proxy-Status (RFC 9209): %1").arg(s.proxyStatus));
    case DatagramPath:
        switch (s.datagramPath) {
        case qmasque::DatagramPath::None:
            return tr("No datagrams (TCP)");
        case qmasque::DatagramPath::QuicDatagram:
            return tr("HTTP datagrams in QUIC DATAGRAM frames (RFC 9297, 2.1)");
        case qmasque::DatagramPath::Capsule:
            return tr("HTTP datagrams in DATAGRAM capsules on the stream (RFC 9297, 3.5)");
        }
        return {};
    case Dropped:
        return tr("Datagrams of this stream dropped (too large, queue full, unknown context)");
    default:
        return {};
    }
}

QVariant StreamModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return {};
    static const char *const kTitles[ColumnCount] = {
        QT_TR_NOOP("Connection"), QT_TR_NOOP("Stream"),       QT_TR_NOOP("Protocol"),
        QT_TR_NOOP("Target"),     QT_TR_NOOP("Client"),       QT_TR_NOOP("State"),
        QT_TR_NOOP("Status"),     QT_TR_NOOP("Proxy-Status"), QT_TR_NOOP("Datagrams via"),
        QT_TR_NOOP("Out"),        QT_TR_NOOP("In"),           QT_TR_NOOP("Dgrams out"),
        QT_TR_NOOP("Dgrams in"),  QT_TR_NOOP("Dropped"),      QT_TR_NOOP("Age")};
    static const char *const kTips[ColumnCount] = {
        QT_TR_NOOP("Connection id and HTTP version"),
        QT_TR_NOOP("HTTP/2 or QUIC stream id (h1 tunnels: 1)"),
        QT_TR_NOOP("connect-udp, connect-tcp (CONNECT) or connect-ip"),
        QT_TR_NOOP("What the tunnel reaches"),
        QT_TR_NOOP("Local front end and client address"),
        QT_TR_NOOP("connecting, open or closing"),
        QT_TR_NOOP("Final HTTP status of the tunnel request"),
        QT_TR_NOOP("The proxy's Proxy-Status header (RFC 9209)"),
        QT_TR_NOOP("QUIC DATAGRAM frames or DATAGRAM capsules"),
        QT_TR_NOOP("Tunnel payload bytes sent"),
        QT_TR_NOOP("Tunnel payload bytes received"),
        QT_TR_NOOP("Datagrams sent"),
        QT_TR_NOOP("Datagrams received"),
        QT_TR_NOOP("Datagrams dropped"),
        QT_TR_NOOP("Since the stream was opened")};
    if (role == Qt::DisplayRole)
        return tr(kTitles[section]);
    if (role == Qt::ToolTipRole)
        return tr(kTips[section]);
    return {};
}

} // namespace qmasque::ui
