#include "tunnel/RaceMemory.h"

#include "core/Log.h"

#include <QtCore/QElapsedTimer>

namespace qmasque {

RaceMemory::RaceMemory()
    : RaceMemory(Options())
{}

RaceMemory::RaceMemory(Options options, Clock clock)
    : m_options(options)
{
    setClock(std::move(clock));
}

void RaceMemory::setClock(Clock clock)
{
    m_clock = std::move(clock);
    if (!m_clock) {
        // QElapsedTimer's monotonic clock reading, in ms.
        m_clock = [] {
            QElapsedTimer timer;
            timer.start();
            return timer.msecsSinceReference();
        };
    }
}

qint64 RaceMemory::now() const
{
    return m_clock();
}

bool RaceMemory::isDemoted(const QString &proxy) const
{
    const auto it = m_entries.constFind(proxy);
    return it != m_entries.cend() && now() < it->demotedUntilMs;
}

QList<TransportKind> RaceMemory::order(const QString &proxy,
                                       const QList<TransportKind> &preferred) const
{
    if (!isDemoted(proxy) || !preferred.contains(TransportKind::H3) || preferred.size() < 2)
        return preferred;
    QList<TransportKind> order = preferred;
    order.removeAll(TransportKind::H3);
    order.append(TransportKind::H3);
    return order;
}

bool RaceMemory::takeProbe(const QString &proxy)
{
    const auto it = m_entries.find(proxy);
    if (it == m_entries.end() || now() >= it->demotedUntilMs || now() < it->nextProbeMs)
        return false;
    it->nextProbeMs = now() + m_options.probeIntervalMs;
    return true;
}

void RaceMemory::recordRace(const QString &proxy, const QList<RaceAttemptOutcome> &outcomes)
{
    const RaceAttemptOutcome *h3 = nullptr;
    bool otherWon = false;
    for (const RaceAttemptOutcome &outcome : outcomes) {
        if (outcome.transport == TransportKind::H3)
            h3 = &outcome;
        else if (outcome.won)
            otherWon = true;
    }
    if (!h3 || !h3->started)
        return;
    if (h3->won) {
        restore(proxy);
        return;
    }
    if (!otherWon || h3->reachedProxy)
        return; // the proxy answered over h3 (e.g. a refusal), or nothing worked at all
    const bool silent = h3->cancelled || (h3->error && looksLikeNoAnswer(*h3->error));
    if (silent)
        demote(proxy, h3->error && !h3->cancelled
                          ? *h3->error
                          : Error(ErrorCode::Timeout,
                                  QStringLiteral("no QUIC answer before another transport won")));
}

void RaceMemory::recordProbe(const QString &proxy, bool ok, const Error &error)
{
    if (ok) {
        restore(proxy);
        return;
    }
    if (m_entries.contains(proxy) && looksLikeNoAnswer(error))
        demote(proxy, error);
}

Error RaceMemory::why(const QString &proxy) const
{
    return m_entries.value(proxy).why;
}

void RaceMemory::demote(const QString &proxy, const Error &why)
{
    Entry &entry = m_entries[proxy];
    const bool wasDemoted = now() < entry.demotedUntilMs;
    entry.demotedUntilMs = now() + m_options.rememberMs;
    if (!wasDemoted)
        entry.nextProbeMs = now() + m_options.probeIntervalMs;
    entry.why = why;
    if (!wasDemoted) {
        qCInfo(lcRacer, "%s: UDP looks blocked (%s): h3 goes last for %d s", qPrintable(proxy),
               qPrintable(why.toString()), m_options.rememberMs / 1000);
    }
}

void RaceMemory::restore(const QString &proxy)
{
    if (m_entries.remove(proxy) > 0)
        qCInfo(lcRacer, "%s: h3 answers again: the profile's order is back", qPrintable(proxy));
}

} // namespace qmasque
