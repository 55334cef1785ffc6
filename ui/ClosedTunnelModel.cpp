#include "ui/ClosedTunnelModel.h"

#include "ui/Format.h"
#include "ui/KeyedTableModel.h"
#include "ui/StreamModel.h"
#include "ui/Theme.h"

namespace qmasque::ui {

namespace {

bool failed(const TunnelRecord &record)
{
    return record.openLatencyMs < 0 || record.responseStatus >= 300 ||
           !record.proxyStatus.isEmpty();
}

} // namespace

ClosedTunnelModel::ClosedTunnelModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

void ClosedTunnelModel::setCapacity(int capacity)
{
    m_capacity = std::max(1, capacity);
    const int excess = int(m_rows.size()) - m_capacity;
    if (excess > 0) {
        beginRemoveRows({}, 0, excess - 1);
        m_rows.remove(0, excess);
        endRemoveRows();
    }
}

void ClosedTunnelModel::append(const QList<TunnelRecord> &records)
{
    if (records.isEmpty())
        return;
    m_total += quint64(records.size());
    // Only the newest `capacity` records of the batch can stay.
    const qsizetype skip = std::max<qsizetype>(0, records.size() - m_capacity);
    const qsizetype adding = records.size() - skip;
    const qsizetype excess = m_rows.size() + adding - m_capacity;
    if (excess > 0) {
        beginRemoveRows({}, 0, int(excess) - 1);
        m_rows.remove(0, excess);
        endRemoveRows();
    }
    beginInsertRows({}, int(m_rows.size()), int(m_rows.size() + adding) - 1);
    m_rows.append(records.sliced(skip));
    endInsertRows();
}

void ClosedTunnelModel::clear()
{
    if (m_rows.isEmpty())
        return;
    beginRemoveRows({}, 0, int(m_rows.size()) - 1);
    m_rows.clear();
    endRemoveRows();
}

int ClosedTunnelModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ClosedTunnelModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ClosedTunnelModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const TunnelRecord &record = m_rows.at(index.row());
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return display(record, column);
    case RawValueRole:
        return raw(record, column);
    case Qt::ToolTipRole:
        if (column == Reason || column == Status || column == ProxyStatus)
            return record.closeDetail.isEmpty()
                       ? record.closeReason
                       : record.closeReason + QStringLiteral(": ") + record.closeDetail;
        if (column == Closed)
            return tr("Opened %1, closed %2")
                .arg(formatClock(record.openedAtMs), formatClock(record.closedAtMs));
        return {};
    case Qt::ForegroundRole:
        if ((column == Reason || column == Status) && failed(record))
            return theme::errorColor(m_dark);
        return {};
    case Qt::TextAlignmentRole:
        switch (column) {
        case Duration:
        case OpenLatency:
        case BytesOut:
        case BytesIn:
        case Datagrams:
        case Dropped:
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        default:
            return {};
        }
    case KeyRole:
        return record.tunnelId;
    default:
        return {};
    }
}

QVariant ClosedTunnelModel::display(const TunnelRecord &record, int column) const
{
    switch (column) {
    case Closed:
        return formatClock(record.closedAtMs);
    case Duration:
        return formatDuration(record.closedAtMs - record.openedAtMs);
    case Protocol:
        return StreamModel::protocolText(record.protocol);
    case Transport:
        return QString::fromLatin1(transportKindName(record.transport));
    case Target:
        return record.target;
    case LocalClient:
        return record.localClient;
    case Stream:
        return QStringLiteral("%1 / %2").arg(record.connectionId).arg(record.streamId);
    case Status:
        return record.responseStatus > 0 ? QString::number(record.responseStatus)
                                         : QStringLiteral("–");
    case ProxyStatus:
        return record.proxyStatus;
    case Reason:
        return record.closeReason;
    case OpenLatency:
        return record.openLatencyMs < 0 ? QStringLiteral("–")
                                        : formatDuration(record.openLatencyMs);
    case BytesOut:
        return formatBytes(record.bytesSent);
    case BytesIn:
        return formatBytes(record.bytesReceived);
    case Datagrams:
        return QStringLiteral("%1 / %2").arg(formatCount(record.datagramsSent),
                                             formatCount(record.datagramsReceived));
    case Dropped:
        return formatCount(record.datagramsDropped);
    default:
        return {};
    }
}

QVariant ClosedTunnelModel::raw(const TunnelRecord &record, int column) const
{
    switch (column) {
    case Closed:
        return record.closedAtMs;
    case Duration:
        return record.closedAtMs - record.openedAtMs;
    case Protocol:
        return StreamModel::protocolText(record.protocol);
    case Transport:
        return int(record.transport);
    case Target:
        return record.target;
    case LocalClient:
        return record.localClient;
    case Stream:
        return record.connectionId;
    case Status:
        return record.responseStatus;
    case ProxyStatus:
        return record.proxyStatus;
    case Reason:
        return record.closeReason;
    case OpenLatency:
        return record.openLatencyMs;
    case BytesOut:
        return record.bytesSent;
    case BytesIn:
        return record.bytesReceived;
    case Datagrams:
        return record.datagramsSent + record.datagramsReceived;
    case Dropped:
        return record.datagramsDropped;
    default:
        return {};
    }
}

QVariant ClosedTunnelModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount ||
        role != Qt::DisplayRole)
        return {};
    static const char *const kTitles[ColumnCount] = {QT_TR_NOOP("Closed"),
                                                     QT_TR_NOOP("Duration"),
                                                     QT_TR_NOOP("Protocol"),
                                                     QT_TR_NOOP("Via"),
                                                     QT_TR_NOOP("Target"),
                                                     QT_TR_NOOP("Client"),
                                                     QT_TR_NOOP("Conn / stream"),
                                                     QT_TR_NOOP("Status"),
                                                     QT_TR_NOOP("Proxy-Status"),
                                                     QT_TR_NOOP("Close reason"),
                                                     QT_TR_NOOP("Opened in"),
                                                     QT_TR_NOOP("Out"),
                                                     QT_TR_NOOP("In"),
                                                     QT_TR_NOOP("Dgrams out / in"),
                                                     QT_TR_NOOP("Dropped")};
    return tr(kTitles[section]);
}

} // namespace qmasque::ui
