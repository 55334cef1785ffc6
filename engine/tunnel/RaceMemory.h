#pragma once

#include "api/Error.h"
#include "api/Types.h"
#include "tunnel/Racer.h"

#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QString>

#include <functional>

namespace qmasque {

// RaceMemory: what past races taught about each proxy, so the next tunnels do not wait for a
// transport that cannot work. The one rule: HTTP/3 is demoted when UDP looks blocked.
//
// - Demotion: a race in which another transport won while the h3 attempt got no answer (it
//   failed with a no-answer error, looksLikeNoAnswer(): timeout, ICMP refused/unreachable; or it
//   was still waiting for its QUIC connection when the winner opened) demotes h3 for that proxy
//   for `rememberMs` (default 5 minutes): order() then puts h3 last, so the next races start with
//   h2 at 0 ms. An HTTP refusal on h3 is an answer and demotes nothing. Every further no-answer
//   renews the demotion; it lapses by itself after rememberMs without new evidence.
// - Restoring: while h3 is demoted, at most once per `probeIntervalMs` (default 30 s) a race
//   asks for a probe (takeProbe()): the owner then checks out an h3 connection to the proxy in
//   the background (UpstreamPool::checkout: a QUIC handshake plus SETTINGS, no tunnel request).
//   recordProbe(true) - UDP works again - restores the profile's order at once, and the warm
//   connection serves the next h3 tunnel; recordProbe(false) keeps (renews) the demotion. A race
//   won by a demoted h3 (it still runs last) restores the order too.
//
// Keyed by the proxy's authority ("host:port", lower case). Times come from `clock` (ms, any
// monotonic origin), injectable for tests. Engine thread only; a plain value object.
class RaceMemory
{
public:
    struct Options
    {
        int rememberMs = 5 * 60 * 1000;
        int probeIntervalMs = 30 * 1000;
    };
    using Clock = std::function<qint64()>;

    RaceMemory();
    explicit RaceMemory(Options options, Clock clock = {});

    void setOptions(const Options &options) { m_options = options; }
    // setClock: tests drive time by hand; a null clock restores the monotonic clock.
    void setClock(Clock clock);
    const Options &options() const noexcept { return m_options; }

    // order: the start order for a race to `proxy`: `preferred` with h3 moved last while it is
    // demoted for that proxy.
    QList<TransportKind> order(const QString &proxy, const QList<TransportKind> &preferred) const;
    bool isDemoted(const QString &proxy) const;
    // takeProbe: true when h3 is demoted for `proxy` and a probe is due; the next one is then
    // due probeIntervalMs later.
    bool takeProbe(const QString &proxy);

    // recordRace: learns from a finished race (Racer::outcomes(), in plan order).
    void recordRace(const QString &proxy, const QList<RaceAttemptOutcome> &outcomes);
    // recordProbe: the background h3 probe's result.
    void recordProbe(const QString &proxy, bool ok, const Error &error = {});

    // why: the failure that demoted h3 (for the log and the dashboard).
    Error why(const QString &proxy) const;

private:
    struct Entry
    {
        qint64 demotedUntilMs = 0;
        qint64 nextProbeMs = 0;
        Error why;
    };

    qint64 now() const;
    void demote(const QString &proxy, const Error &why);
    void restore(const QString &proxy);

    Options m_options;
    Clock m_clock;
    QHash<QString, Entry> m_entries;
};

} // namespace qmasque
