#include "ui/RaceModel.h"

#include "ui/Format.h"

#include <algorithm>
#include <vector>

namespace qmasque::ui {

RaceModel::RaceModel(QObject *parent)
    : QAbstractListModel(parent)
{}

void RaceModel::setCapacity(int capacity)
{
    m_capacity = std::max(1, capacity);
    if (m_rows.size() > m_capacity) {
        beginRemoveRows({}, m_capacity, int(m_rows.size()) - 1);
        m_rows.resize(m_capacity);
        endRemoveRows();
        updateScale();
    }
}

void RaceModel::append(const QList<RaceRecord> &races)
{
    if (races.isEmpty())
        return;
    const qsizetype adding = std::min<qsizetype>(races.size(), m_capacity);
    const qsizetype excess = m_rows.size() + adding - m_capacity;
    if (excess > 0) {
        beginRemoveRows({}, int(m_rows.size() - excess), int(m_rows.size()) - 1);
        m_rows.resize(m_rows.size() - excess);
        endRemoveRows();
    }
    // The newest race goes on top: the batch is reversed in front of the current rows.
    beginInsertRows({}, 0, int(adding) - 1);
    QList<RaceRecord> rows;
    rows.reserve(adding + m_rows.size());
    for (qsizetype i = races.size() - 1; i >= races.size() - adding; --i)
        rows << races.at(i);
    rows << m_rows;
    m_rows = std::move(rows);
    endInsertRows();
    updateScale();
}

void RaceModel::clear()
{
    if (m_rows.isEmpty())
        return;
    beginRemoveRows({}, 0, int(m_rows.size()) - 1);
    m_rows.clear();
    endRemoveRows();
    updateScale();
}

int RaceModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant RaceModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const RaceRecord &race = m_rows.at(index.row());
    switch (role) {
    case RaceRole:
        return QVariant::fromValue(race);
    case Qt::DisplayRole:
        return QStringLiteral("%1  %2  %3")
            .arg(formatClock(race.startedAtMs), race.target, raceSummary(race));
    case Qt::ToolTipRole: {
        QStringList lines;
        lines << tr("Tunnel %1 to %2 via %3").arg(race.tunnelId).arg(race.target, race.proxy);
        for (const RaceAttempt &attempt : race.attempts)
            lines << tr("%1: started at +%2 ms, %3 after %4 ms")
                         .arg(QLatin1StringView(transportKindName(attempt.transport)))
                         .arg(attempt.startOffsetMs)
                         .arg(attempt.result)
                         .arg(attempt.durationMs);
        return lines.join(QLatin1Char('\n'));
    }
    default:
        return {};
    }
}

QString RaceModel::raceSummary(const RaceRecord &race)
{
    if (!race.winner)
        return race.error.isEmpty() ? tr("every transport failed")
                                    : tr("failed: %1").arg(race.error);
    for (const RaceAttempt &attempt : race.attempts) {
        if (attempt.transport == *race.winner && attempt.result == u"won")
            return tr("%1 won in %2 ms")
                .arg(QLatin1StringView(transportKindName(attempt.transport)))
                .arg(attempt.startOffsetMs + attempt.durationMs);
    }
    return tr("%1 won").arg(QLatin1StringView(transportKindName(*race.winner)));
}

void RaceModel::updateScale()
{
    // The axis covers 90% of the races: one 5 s race timeout would otherwise squash every
    // 40 ms h3 win into a sliver. Longer bars are clipped and marked by the delegate.
    std::vector<qint64> ends;
    ends.reserve(size_t(m_rows.size()));
    for (const RaceRecord &race : std::as_const(m_rows)) {
        qint64 end = 0;
        for (const RaceAttempt &attempt : race.attempts)
            end = std::max(end, attempt.startOffsetMs + attempt.durationMs);
        ends.push_back(end);
    }
    qint64 scale = 300;
    if (!ends.empty()) {
        const size_t nth = (ends.size() * 9) / 10;
        std::nth_element(ends.begin(), ends.begin() + qsizetype(nth), ends.end());
        scale = std::max<qint64>(scale, ends[std::min(nth, ends.size() - 1)]);
    }
    if (scale != m_scaleMs) {
        m_scaleMs = scale;
        if (!m_rows.isEmpty())
            Q_EMIT dataChanged(index(0), index(int(m_rows.size()) - 1), {RaceRole});
        Q_EMIT scaleChanged(scale);
    }
}

} // namespace qmasque::ui
