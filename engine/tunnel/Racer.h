#pragma once

#include "api/EngineEvents.h"
#include "api/Error.h"
#include "api/Types.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QTimer>

#include <functional>
#include <optional>

namespace qmasque {

class TunnelSession;

// RacePlan: which transports a race tries, in start order, and when. Times in milliseconds.
struct RacePlan
{
    QList<TransportKind> order = {TransportKind::H3, TransportKind::H2, TransportKind::H1};
    // secondDelayMs: the 2nd attempt starts this long after the 1st (Profile::h2HeadStartMs).
    int secondDelayMs = 250;
    // laterDelayMs: each further attempt starts this long after the previous one
    // (Profile::h1HeadStartMs): h1 at 250 + 500 = 750 ms by default.
    int laterDelayMs = 500;
    // deadlineMs: the whole race (Profile::connectTimeoutMs); every attempt's handshake timeout
    // is what is left of it when the attempt starts, plus kAttemptGraceMs, so the race's own
    // deadline (race_timeout) decides, not the attempts' timers.
    int deadlineMs = 5000;

    static constexpr int kAttemptGraceMs = 250;
};

// RaceAttemptOutcome: how one planned attempt ended, for RaceMemory.
struct RaceAttemptOutcome
{
    TransportKind transport = TransportKind::H3;
    bool started = false;
    bool won = false;
    bool cancelled = false; // lost to the winner or to the deadline while still running
    // reachedProxy: a connection (or a pooled stream) existed: the proxy answered at the
    // transport level, whatever happened next.
    bool reachedProxy = false;
    std::optional<Error> error; // the attempt's failure
};

// errorRank: how informative a failure is, for the one error a failed race reports (higher wins;
// ties go to the attempt that started first, i.e. the preferred transport):
//   4  the proxy answered the tunnel request: handshake_rejected (with the HTTP status and
//      Proxy-Status), malformed_response, capsule_protocol_*, bad_response,
//      bad_upgrade_response, no_extended_connect, no_h3_datagram, mtu_too_low;
//   3  a server answered but the secure connection failed: tls_*, alpn_mismatch,
//      quic_handshake_failed, bad_status_line, head_too_large;
//   2  an explicit negative answer: connection_refused, dns_failed, network_unreachable,
//      peer_reset, connection_closed, goaway, stream_limit, and everything not listed;
//   1  silence: connect_timeout, handshake_timeout, checkout_timeout, timeout, idle_timeout;
//   0  cancelled.
int errorRank(const Error &error) noexcept;

// looksLikeNoAnswer: a failure that says "nothing answered" (timeouts, ICMP refused or
// unreachable): over h3 the sign that UDP is blocked on the way to the proxy.
bool looksLikeNoAnswer(const Error &error) noexcept;

// Racer: races one tunnel over several transports (h3 -> h2 -> h1) and keeps the first that
// opens (erlang-masque.md 4.3, with its pitfalls fixed).
//
// - Attempt i starts at its head start (RacePlan); the first opened() wins; every other attempt
//   is aborted at once (its pool ticket cancelled, its stream reset, its socket closed) and
//   deleted, and the head-start timer stops, so nothing of the losers is left behind.
// - When every started attempt has failed and a transport is still waiting for its head start,
//   it starts at once (the erlang racer waited for the timer).
// - When all fail, the error is the most informative one (errorRank), not the last one. At the
//   deadline every running attempt is aborted; the race reports the best failure so far when it
//   ranks 3 or more (the proxy or a TLS peer gave a definite answer), else race_timeout.
// - finished() reports the result once, from the event loop, never inside start() or a
//   transport callback; after it (and after cancel() or destruction) nothing is signalled.
//   Events the winner receives between its 2xx and the report are kept by the tunnel itself
//   (held data, held datagrams, its IP state), so none is lost.
//
// Ownership: attempts are the racer's children. On success the winner is unparented and handed
// to the receiver of finished(), which owns it from then on. Destroying the racer aborts every
// attempt (and a winner not yet handed over). Engine thread only.
class Racer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Racer)

public:
    // AttemptFactory: makes an unstarted session for `transport` whose handshake may take
    // `handshakeTimeoutMs`, parented to `parent`.
    using AttemptFactory = std::function<TunnelSession *(TransportKind transport,
                                                         int handshakeTimeoutMs, QObject *parent)>;

    // `record` names the race (tunnelId, proxy, target); the racer fills in the rest.
    Racer(RacePlan plan, AttemptFactory factory, RaceRecord record, QObject *parent = nullptr);
    ~Racer() override;

    // start: starts the first attempt now. Call once.
    void start();
    // cancel: aborts every attempt; finished() is not emitted; record() is complete afterwards
    // (error "cancelled"). Idempotent.
    void cancel();

    bool isFinished() const noexcept { return m_finished; }
    // record: the race timeline (complete once finished).
    const RaceRecord &record() const noexcept { return m_record; }
    // outcomes: one entry per planned transport, in plan order.
    QList<RaceAttemptOutcome> outcomes() const;
    // failedRecord: the TunnelRecord of the attempt whose error the race reports (a failed
    // race), for the "closed tunnels" list. Empty after a win.
    const std::optional<TunnelRecord> &failedRecord() const noexcept { return m_failedRecord; }
    // runningAttempts: attempts alive now (tests: no leftovers after the race).
    int runningAttempts() const;

Q_SIGNALS:
    // finished: `winner` (now owned by the receiver) or nullptr and `error`.
    void finished(qmasque::TunnelSession *winner, const qmasque::Error &error);

private:
    struct Attempt
    {
        TransportKind transport = TransportKind::H3;
        QPointer<TunnelSession> session;
        bool started = false;
        bool ended = false;
        bool won = false;
        bool cancelled = false;
        bool reachedProxy = false;
        qint64 startMs = 0;
        qint64 endMs = 0;
        std::optional<Error> error;
        std::optional<TunnelRecord> record;
    };

    void startNext();
    void armHeadStart();
    void handleOpened(int index);
    void handleClosed(int index, const Error &reason);
    void handleDeadline();
    void abortAttempt(Attempt &attempt, const QString &result);
    void finishWith(TunnelSession *winner, const Error &error);
    void finalizeRecord(const Error *error);
    int bestFailure() const;
    bool anyRunning() const;

    const RacePlan m_plan;
    const AttemptFactory m_factory;
    RaceRecord m_record;
    QList<Attempt> m_attempts; // one per planned transport
    int m_next = 0;            // the next attempt to start
    QElapsedTimer m_clock;
    QTimer m_headStart;
    QTimer m_deadline;
    bool m_started = false;
    bool m_finished = false;
    bool m_cancelled = false;
    QPointer<TunnelSession> m_winner; // between the win and the report
    std::optional<TunnelRecord> m_failedRecord;
};

} // namespace qmasque
