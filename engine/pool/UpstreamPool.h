#pragma once

#include "api/Result.h"
#include "api/Snapshot.h"
#include "pool/Fingerprint.h"
#include "pool/UpstreamOwner.h"

#include <QtCore/QDeadlineTimer>
#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QTimer>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace qmasque {

// PoolOptions: how the pool shares upstream connections. Times in milliseconds.
struct PoolOptions
{
    // maxConnectionsPerFingerprint: connections per fingerprint that take streams (draining ones
    // do not count). When all are full, checkouts wait for a free stream slot. Sized so that
    // thousands of tunnels fit at a proxy's usual 100 streams per connection (Profile
    // pool-max-connections); it bounds what one client can ask of a proxy, not what it needs.
    int maxConnectionsPerFingerprint = 128;
    // checkoutTimeoutMs: how long a checkout waits for a connection (dial, free slot); 0 = no
    // pool limit. The caller's own deadline caps it.
    int checkoutTimeoutMs = 60000;
    OwnerOptions owner;
    // factory: makes the transports (required; the engine passes defaultTransportFactory(), unit
    // tests a MockTransport factory).
    TransportFactory factory;
};

// PoolTicket: names one checkout or openStream call, for cancel(). Never 0.
using PoolTicket = quint64;

// UpstreamPool: hands out pooled h2/h3 connections (UpstreamOwner) by fingerprint.
//
// - checkout: the oldest owner of the fingerprint with a free stream slot; else the dial in flight
//   for the fingerprint is joined (single flight: one dial per fingerprint, every waiter gets the
//   result, in arrival order); else a new owner is dialed, up to maxConnectionsPerFingerprint.
//   Waiters beyond the new owner's capacity are served by the next dial, not refused.
// - openStream: checkout + UpstreamOwner::acquireStream in one step, with one transparent retry on
//   another owner for stream_limit, goaway and owner_gone (an owner that went away between
//   checkout and acquire); only a second failure reaches the caller. Tunnel sessions use this.
// - Owners that go away (idle, closed, GOAWAY drained) are dropped; closeAll() ends every owner
//   and every dial, and waiters get shutdown. HTTP/1.1 is never pooled
//   (pool_unsupported_for_transport).
//
// Callbacks: called exactly once per ticket, on the engine thread, always from the event loop
// (never from inside checkout()/openStream()), unless the ticket was cancelled or its context
// object was destroyed first: then nothing is called and nothing is kept. A waiter that times
// out gets checkout_timeout.
//
// Threading: lives on the engine thread; call checkout/openStream/cancel/snapshot from there.
// closeAll, closeConnection and closeStream are slots the GUI may invoke queued.
// Ownership: owners are the pool's children. Destroying the pool drops pending waiters without
// calling them and closes every connection (sessions get onConnectionClosed).
class UpstreamPool final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamPool)

public:
    using CheckoutCallback = std::function<void(const Result<UpstreamOwner *> &)>;
    using OpenStreamCallback = std::function<void(const Result<AcquiredStream> &)>;

    explicit UpstreamPool(PoolOptions options, QObject *parent = nullptr);
    ~UpstreamPool() override;

    // checkout: finds or dials an owner for `endpoint`. The owner is delivered with a free slot;
    // acquire right away inside the callback (another caller may take the slot later), or use
    // openStream(). `context` (may be null) bounds the waiter's life. `deadline` caps the
    // checkout timeout (the tunnel's own deadline).
    PoolTicket checkout(const UpstreamEndpoint &endpoint, QObject *context, CheckoutCallback done,
                        QDeadlineTimer deadline = QDeadlineTimer(QDeadlineTimer::Forever));

    // openStream: checkout + acquire + the single retry. `handler` and `session` as in
    // UpstreamOwner::acquireStream (`session` is also the waiter's context: when it is destroyed
    // before the stream opened, nothing is opened). On success the session owns the stream and
    // must release it (AcquiredStream::owner->releaseStream) or be destroyed.
    PoolTicket openStream(const UpstreamEndpoint &endpoint, const Request &request,
                          StreamHandler *handler, QObject *session, OpenStreamCallback done,
                          QDeadlineTimer deadline = QDeadlineTimer(QDeadlineTimer::Forever));

    // cancel: forgets a pending checkout/openStream; its callback is not called. Idempotent.
    void cancel(PoolTicket ticket);

    // snapshot: every owner's info() (by owner id), every fingerprint with a dial in flight or
    // waiters, totals and counters.
    PoolSnapshot snapshot() const;

    // owners: the dialed owners (not the ones still dialing), oldest first per fingerprint.
    QList<UpstreamOwner *> owners() const;
    UpstreamOwner *owner(quint64 ownerId) const;
    qint64 pendingCount() const { return static_cast<qint64>(m_waiters.size()); }
    qint64 dialsInFlight() const;
    const PoolOptions &options() const noexcept { return m_options; }

public Q_SLOTS:
    // closeAll: stops every owner (sessions are told) and every dial; waiters get shutdown. The
    // pool stays usable: later checkouts dial again.
    void closeAll();
    // closeConnection / closeStream: the dashboard's commands (local_close). Unknown ids are
    // ignored.
    void closeConnection(quint64 ownerId);
    void closeStream(quint64 ownerId, qmasque::StreamId streamId);

Q_SIGNALS:
    void connectionAdded(quint64 ownerId, const QString &fingerprint);
    void connectionRemoved(quint64 ownerId, const qmasque::Error &reason);
    void dialFailed(const QString &fingerprint, const qmasque::Error &error);
    void streamOpened(quint64 ownerId, qmasque::StreamId streamId);
    void streamClosed(quint64 ownerId, qmasque::StreamId streamId, const qmasque::Error &reason);

private:
    struct Waiter
    {
        Fingerprint key;
        UpstreamEndpoint endpoint;
        bool opensStream = false;
        Request request;
        StreamHandler *handler = nullptr; // not owned; lives as long as `context` (the session)
        QPointer<QObject> context;
        bool hasContext = false;
        QMetaObject::Connection contextWatch;
        CheckoutCallback onCheckout;
        OpenStreamCallback onOpen;
        std::multimap<qint64, PoolTicket>::iterator deadline; // into m_deadlines, or end()
        bool retried = false;
    };

    // Entry: one fingerprint's owners, dial and queue.
    struct Entry
    {
        Fingerprint key;
        QList<UpstreamOwner *> owners;    // dialed, oldest first; removed when they go away
        UpstreamOwner *dialing = nullptr; // the single dial in flight, or nullptr
        qint64 dialStartedMs = 0;
        std::deque<PoolTicket> queue; // arrival order; cancelled tickets are skipped lazily
        qint64 waiters = 0;           // live tickets in `queue`
        bool pumpPosted = false;
    };

    struct OwnerRecord
    {
        Fingerprint key;
        quint64 id = 0;
        bool dialed = false;
    };

    PoolTicket enqueue(Waiter waiter, QDeadlineTimer deadline, std::optional<Error> failure);
    Entry *findEntry(const Fingerprint &key) const;
    void schedulePump(const Fingerprint &key);
    void pump(const Fingerprint &key);
    UpstreamOwner *pickOwner(const Entry &entry) const;
    void maybeDial(Entry &entry, const UpstreamEndpoint &endpoint);
    void handleDialFinished(UpstreamOwner *owner, bool ok, const Error &error);
    void handleOwnerGone(UpstreamOwner *owner, const Error &reason);
    void handleDeadlines();
    void armDeadlineTimer();
    // takeWaiter: removes a waiter from every index (not from its entry queue: skipped lazily).
    std::optional<Waiter> takeWaiter(PoolTicket ticket);
    void failWaiters(const Fingerprint &key, const Error &error);
    void maybeEraseEntry(const Fingerprint &key);
    static void deliver(Waiter &waiter, const Error &error);
    qint64 nowMs() const { return m_clock.elapsed(); }

    const PoolOptions m_options;
    QElapsedTimer m_clock;
    PoolTicket m_nextTicket = 1;
    std::map<PoolTicket, Waiter> m_waiters;               // every pending ticket
    std::multimap<qint64, PoolTicket> m_deadlines;        // m_clock ms -> ticket
    std::vector<std::pair<PoolTicket, Error>> m_failures; // refused up front, delivered queued
    std::unordered_map<Fingerprint, std::unique_ptr<Entry>, FingerprintHash> m_entries;
    QHash<UpstreamOwner *, OwnerRecord> m_owners; // every owner we made that is not gone
    QTimer m_deadlineTimer;
    PoolCounters m_counters;
};

} // namespace qmasque
