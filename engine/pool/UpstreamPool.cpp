#include "pool/UpstreamPool.h"

#include "core/Log.h"

#include <QtCore/QDateTime>

#include <algorithm>
#include <utility>

namespace qmasque {

namespace {

// Failures another owner may not have: the owner was full (stream_limit), draining (goaway), or
// went away between checkout and acquire (owner_gone). Retried once, transparently.
bool isRetryable(ErrorCode code)
{
    return code == ErrorCode::StreamLimit || code == ErrorCode::Goaway ||
           code == ErrorCode::OwnerGone;
}

} // namespace

UpstreamPool::UpstreamPool(PoolOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
{
    m_clock.start();
    m_deadlineTimer.setSingleShot(true);
    connect(&m_deadlineTimer, &QTimer::timeout, this, &UpstreamPool::handleDeadlines);
}

UpstreamPool::~UpstreamPool()
{
    m_deadlineTimer.stop();
    // Waiters are dropped silently: calling back into users from a destructor is not safe.
    for (auto &[ticket, waiter] : m_waiters)
        QObject::disconnect(waiter.contextWatch);
    m_waiters.clear();
    // Owners are our children and die with us; each tells its sessions (~UpstreamOwner).
    for (auto it = m_owners.cbegin(); it != m_owners.cend(); ++it)
        disconnect(it.key(), nullptr, this, nullptr);
    m_owners.clear();
}

PoolTicket UpstreamPool::checkout(const UpstreamEndpoint &endpoint, QObject *context,
                                  CheckoutCallback done, QDeadlineTimer deadline)
{
    Waiter waiter;
    waiter.endpoint = endpoint;
    waiter.context = context;
    waiter.hasContext = context != nullptr;
    waiter.onCheckout = std::move(done);
    return enqueue(std::move(waiter), deadline, std::nullopt);
}

PoolTicket UpstreamPool::openStream(const UpstreamEndpoint &endpoint, const Request &request,
                                    StreamHandler *handler, QObject *session,
                                    OpenStreamCallback done, QDeadlineTimer deadline)
{
    Waiter waiter;
    waiter.endpoint = endpoint;
    waiter.opensStream = true;
    waiter.request = request;
    waiter.handler = handler;
    waiter.context = session;
    waiter.hasContext = session != nullptr;
    waiter.onOpen = std::move(done);
    std::optional<Error> failure;
    if (!handler || !session)
        failure = Error(ErrorCode::InvalidArgument, QStringLiteral("a stream needs a session"));
    return enqueue(std::move(waiter), deadline, std::move(failure));
}

PoolTicket UpstreamPool::enqueue(Waiter waiter, QDeadlineTimer deadline,
                                 std::optional<Error> failure)
{
    ++m_counters.checkouts;
    const PoolTicket ticket = m_nextTicket++;
    if (!failure && waiter.endpoint.transport == TransportKind::H1) {
        failure = Error(ErrorCode::PoolUnsupportedForTransport,
                        QStringLiteral("HTTP/1.1 carries one tunnel per connection"));
    }
    if (!failure) {
        waiter.key = Fingerprint::of(waiter.endpoint);
        if (waiter.key.isNull())
            failure = Error(ErrorCode::NoProxy, QStringLiteral("no proxy host"));
    }

    if (waiter.hasContext) {
        waiter.contextWatch = connect(waiter.context.data(), &QObject::destroyed, this,
                                      [this, ticket] { takeWaiter(ticket); });
    }
    waiter.deadline = m_deadlines.end();

    if (failure) {
        // Refusals are delivered from the event loop too, like every other outcome.
        m_waiters.emplace(ticket, std::move(waiter));
        m_failures.emplace_back(ticket, std::move(*failure));
        if (m_failures.size() == 1) {
            QMetaObject::invokeMethod(
                this,
                [this] {
                    const auto failures = std::exchange(m_failures, {});
                    for (const auto &[failed, error] : failures) {
                        if (std::optional<Waiter> taken = takeWaiter(failed))
                            deliver(*taken, error);
                    }
                },
                Qt::QueuedConnection);
        }
        return ticket;
    }

    // The pool's checkout timeout, capped by the caller's own deadline.
    qint64 timeoutMs = m_options.checkoutTimeoutMs > 0 ? m_options.checkoutTimeoutMs : -1;
    if (!deadline.isForever()) {
        const qint64 remaining = std::max<qint64>(0, deadline.remainingTime());
        timeoutMs = timeoutMs < 0 ? remaining : std::min(timeoutMs, remaining);
    }
    if (timeoutMs >= 0)
        waiter.deadline = m_deadlines.emplace(nowMs() + timeoutMs, ticket);

    const Fingerprint key = waiter.key;
    auto &slot = m_entries[key];
    if (!slot) {
        slot = std::make_unique<Entry>();
        slot->key = key;
    }
    slot->queue.push_back(ticket);
    ++slot->waiters;
    m_waiters.emplace(ticket, std::move(waiter));
    armDeadlineTimer();
    schedulePump(key);
    return ticket;
}

void UpstreamPool::cancel(PoolTicket ticket)
{
    takeWaiter(ticket);
}

std::optional<UpstreamPool::Waiter> UpstreamPool::takeWaiter(PoolTicket ticket)
{
    const auto it = m_waiters.find(ticket);
    if (it == m_waiters.end())
        return std::nullopt;
    Waiter waiter = std::move(it->second);
    m_waiters.erase(it);
    QObject::disconnect(waiter.contextWatch);
    if (waiter.deadline != m_deadlines.end())
        m_deadlines.erase(waiter.deadline);
    waiter.deadline = m_deadlines.end();
    if (Entry *entry = findEntry(waiter.key)) {
        --entry->waiters;
        if (entry->waiters == 0) {
            entry->queue.clear();
            maybeEraseEntry(waiter.key);
        }
    }
    return waiter;
}

UpstreamPool::Entry *UpstreamPool::findEntry(const Fingerprint &key) const
{
    if (key.isNull())
        return nullptr;
    const auto it = m_entries.find(key);
    return it == m_entries.end() ? nullptr : it->second.get();
}

void UpstreamPool::maybeEraseEntry(const Fingerprint &key)
{
    const auto it = m_entries.find(key);
    if (it == m_entries.end())
        return;
    const Entry &entry = *it->second;
    if (entry.owners.isEmpty() && !entry.dialing && entry.waiters == 0 && !entry.pumpPosted)
        m_entries.erase(it);
}

void UpstreamPool::schedulePump(const Fingerprint &key)
{
    Entry *entry = findEntry(key);
    if (!entry || entry->pumpPosted || entry->waiters == 0)
        return;
    entry->pumpPosted = true;
    // Waiters are served from the event loop only: never inside checkout() or inside an owner's
    // signal (a session releasing a stream must not find another session's callback on its stack).
    QMetaObject::invokeMethod(
        this,
        [this, key] {
            if (Entry *posted = findEntry(key))
                posted->pumpPosted = false;
            pump(key);
            maybeEraseEntry(key);
        },
        Qt::QueuedConnection);
}

UpstreamOwner *UpstreamPool::pickOwner(const Entry &entry) const
{
    // The oldest owner with a free slot fills first, so younger ones can go idle and close.
    for (UpstreamOwner *owner : entry.owners) {
        if (owner->canOpenStream())
            return owner;
    }
    return nullptr;
}

void UpstreamPool::pump(const Fingerprint &key)
{
    for (;;) {
        // Callbacks may change anything (closeAll, new checkouts): look the entry up every turn.
        Entry *entry = findEntry(key);
        if (!entry)
            return;
        while (!entry->queue.empty() && m_waiters.count(entry->queue.front()) == 0)
            entry->queue.pop_front();
        if (entry->queue.empty())
            return;
        const PoolTicket ticket = entry->queue.front();

        UpstreamOwner *owner = pickOwner(*entry);
        if (!owner) {
            maybeDial(*entry, m_waiters.at(ticket).endpoint);
            return;
        }

        const Waiter &waiter = m_waiters.at(ticket);
        if (!waiter.opensStream) {
            std::optional<Waiter> taken = takeWaiter(ticket);
            if (Entry *current = findEntry(key);
                current && !current->queue.empty() && current->queue.front() == ticket)
                current->queue.pop_front();
            taken->onCheckout(owner);
            continue;
        }

        // Copies: a replayed event inside the acquire may cancel the waiter.
        const Request request = waiter.request;
        StreamHandler *handler = waiter.handler;
        QObject *session = waiter.context.data();
        Result<AcquiredStream> acquired = owner->acquireStream(request, handler, session);
        const auto still = m_waiters.find(ticket);
        if (still == m_waiters.end()) {
            // Cancelled from inside the acquire (a replayed event): nobody wants the stream.
            if (acquired && acquired->owner)
                acquired->owner->releaseStream(acquired->id);
            continue;
        }
        if (!acquired && acquired.error().code == ErrorCode::StreamLimit &&
            !owner->canOpenStream() && owner->streamsReleased() > 0) {
            // The transport had less room than the owner counted because streams our sessions
            // let go of are still closing on the wire: a passing refusal, not a peer that gives
            // no credit (which the single retry below is for). That owner is full now and
            // pickOwner() skips it until a slot frees (settingsChanged), so this loop ends. The
            // waiter keeps its place and its retry: another owner, a new dial, or the freed
            // slot serves it.
            ++m_counters.retries;
            qCDebug(lcPool, "%s: an owner was full, trying the next", qPrintable(key.toString()));
            continue;
        }
        if (!acquired && isRetryable(acquired.error().code) && !still->second.retried) {
            // Another owner (or the next dial) gets one more try; the waiter keeps its place.
            still->second.retried = true;
            ++m_counters.retries;
            qCDebug(lcPool, "retrying %s after %s", qPrintable(key.toString()),
                    acquired.error().name());
            continue;
        }
        std::optional<Waiter> taken = takeWaiter(ticket);
        if (Entry *current = findEntry(key);
            current && !current->queue.empty() && current->queue.front() == ticket)
            current->queue.pop_front();
        if (acquired)
            ++m_counters.streamsOpened;
        taken->onOpen(acquired);
    }
}

void UpstreamPool::maybeDial(Entry &entry, const UpstreamEndpoint &endpoint)
{
    if (entry.dialing)
        return; // single flight: the waiters join the dial in flight
    const auto usable =
        std::count_if(entry.owners.cbegin(), entry.owners.cend(), [](const UpstreamOwner *owner) {
            const ConnectionState state = owner->state();
            return state == ConnectionState::Ready || state == ConnectionState::Full;
        });
    if (usable >= m_options.maxConnectionsPerFingerprint)
        return; // the waiters wait for a free slot (stateChanged) or their deadline

    auto *owner = new UpstreamOwner(endpoint, entry.key, m_options.owner, m_options.factory, this);
    entry.dialing = owner;
    entry.dialStartedMs = nowMs();
    m_owners.insert(owner, OwnerRecord{entry.key, owner->id(), false});
    ++m_counters.dialsStarted;

    connect(owner, &UpstreamOwner::dialFinished, this,
            [this, owner](bool ok, const Error &error) { handleDialFinished(owner, ok, error); });
    connect(owner, &UpstreamOwner::connectionClosed, this,
            [this, owner](const Error &reason) { handleOwnerGone(owner, reason); });
    connect(owner, &QObject::destroyed, this, [this, owner] {
        // `owner` is only a key here: the object is being destroyed.
        handleOwnerGone(owner, Error(ErrorCode::DialFailed, QStringLiteral("owner destroyed")));
    });
    connect(owner, &UpstreamOwner::stateChanged, this, [this, owner] {
        // A slot came free, or the owner started draining (another connection may be dialed).
        const auto it = m_owners.constFind(owner);
        if (it != m_owners.cend())
            schedulePump(it->key);
    });
    const quint64 ownerId = owner->id();
    connect(owner, &UpstreamOwner::streamAcquired, this,
            [this, ownerId](StreamId id) { emit streamOpened(ownerId, id); });
    connect(owner, &UpstreamOwner::streamReleased, this,
            [this, ownerId](StreamId id, const Error &reason) {
                emit streamClosed(ownerId, id, reason);
            });
    owner->dial();
}

void UpstreamPool::handleDialFinished(UpstreamOwner *owner, bool ok, const Error &error)
{
    const auto record = m_owners.find(owner);
    Entry *entry = record != m_owners.end() ? findEntry(record->key) : nullptr;
    if (!entry || entry->dialing != owner) {
        // A dial nobody waits for any more (closeAll): a connection would only leak.
        if (record != m_owners.end())
            m_owners.erase(record);
        disconnect(owner, nullptr, this, nullptr);
        if (ok)
            owner->stop(Error(ErrorCode::Shutdown, QStringLiteral("pool closed")));
        return;
    }
    entry->dialing = nullptr;
    const Fingerprint key = entry->key;
    if (!ok) {
        ++m_counters.dialsFailed;
        m_owners.erase(record);
        disconnect(owner, nullptr, this, nullptr);
        qCInfo(lcPool, "dial %s failed: %s", qPrintable(key.toString()),
               qPrintable(error.toString()));
        emit dialFailed(key.toString(), error);
        failWaiters(key, error);
        maybeEraseEntry(key);
        return;
    }
    record->dialed = true;
    entry->owners.append(owner);
    emit connectionAdded(owner->id(), key.toString());
    pump(key); // we are in a queued slot already
    maybeEraseEntry(key);
}

void UpstreamPool::handleOwnerGone(UpstreamOwner *owner, const Error &reason)
{
    const auto record = m_owners.find(owner);
    if (record == m_owners.end())
        return;
    const OwnerRecord gone = *record;
    m_owners.erase(record);
    Entry *entry = findEntry(gone.key);
    if (entry && entry->dialing == owner) {
        // Destroyed before it reported (killed while dialing): the key must not stay "dialing".
        entry->dialing = nullptr;
        ++m_counters.dialsFailed;
        const Error failed(ErrorCode::DialFailed,
                           QStringLiteral("upstream owner went away while dialing: ") +
                               reason.toString());
        emit dialFailed(gone.key.toString(), failed);
        failWaiters(gone.key, failed);
    } else if (gone.dialed) {
        ++m_counters.connectionsClosed;
        if (entry)
            entry->owners.removeOne(owner);
        emit connectionRemoved(gone.id, reason);
        schedulePump(gone.key); // waiters at the connection limit may dial now
    }
    maybeEraseEntry(gone.key);
}

void UpstreamPool::failWaiters(const Fingerprint &key, const Error &error)
{
    Entry *entry = findEntry(key);
    if (!entry)
        return;
    // Mutate first, then notify: callbacks may check out again.
    const std::deque<PoolTicket> queue = std::exchange(entry->queue, {});
    std::vector<Waiter> failed;
    failed.reserve(queue.size());
    for (const PoolTicket ticket : queue) {
        if (std::optional<Waiter> taken = takeWaiter(ticket))
            failed.push_back(std::move(*taken));
    }
    for (Waiter &waiter : failed)
        deliver(waiter, error);
}

void UpstreamPool::deliver(Waiter &waiter, const Error &error)
{
    if (waiter.hasContext && !waiter.context)
        return;
    if (waiter.opensStream)
        waiter.onOpen(error);
    else
        waiter.onCheckout(error);
}

void UpstreamPool::armDeadlineTimer()
{
    if (m_deadlines.empty()) {
        m_deadlineTimer.stop();
        return;
    }
    const qint64 wait = std::max<qint64>(0, m_deadlines.begin()->first - nowMs());
    if (!m_deadlineTimer.isActive() || m_deadlineTimer.remainingTime() > wait)
        m_deadlineTimer.start(static_cast<int>(std::min<qint64>(wait, 24 * 3600 * 1000)));
}

void UpstreamPool::handleDeadlines()
{
    const qint64 now = nowMs();
    std::vector<Waiter> expired;
    while (!m_deadlines.empty() && m_deadlines.begin()->first <= now) {
        const PoolTicket ticket = m_deadlines.begin()->second;
        if (std::optional<Waiter> taken = takeWaiter(ticket))
            expired.push_back(std::move(*taken)); // takeWaiter() erased the deadline
        else
            m_deadlines.erase(m_deadlines.begin());
    }
    armDeadlineTimer();
    m_counters.checkoutTimeouts += expired.size();
    for (Waiter &waiter : expired) {
        deliver(waiter, Error(ErrorCode::CheckoutTimeout,
                              QStringLiteral("no upstream connection for %1 in time")
                                  .arg(waiter.key.toString())));
    }
}

void UpstreamPool::closeAll()
{
    // Mutate first: every index is emptied before anyone is called.
    std::map<PoolTicket, Waiter> waiters = std::exchange(m_waiters, {});
    m_deadlines.clear();
    m_deadlineTimer.stop();
    m_failures.clear();
    m_entries.clear();
    const QList<UpstreamOwner *> owners = m_owners.keys();
    qCInfo(lcPool, "closing all: %lld owners, %lld waiters", static_cast<qint64>(owners.size()),
           static_cast<qint64>(waiters.size()));

    const Error shutdown(ErrorCode::Shutdown, QStringLiteral("pool closed"));
    for (UpstreamOwner *owner : owners) {
        // stop() tells the owner's sessions; dialed owners report connectionClosed, which
        // removes them (handleOwnerGone); dials report dialFinished(false) later, ignored.
        if (m_owners.contains(owner))
            owner->stop(shutdown);
    }
    for (auto &[ticket, waiter] : waiters) {
        QObject::disconnect(waiter.contextWatch);
        deliver(waiter, shutdown);
    }
}

void UpstreamPool::closeConnection(quint64 ownerId)
{
    if (UpstreamOwner *found = owner(ownerId))
        found->stop(Error(ErrorCode::LocalClose, QStringLiteral("closed by user")));
}

void UpstreamPool::closeStream(quint64 ownerId, StreamId streamId)
{
    if (UpstreamOwner *found = owner(ownerId))
        found->closeStream(streamId);
}

UpstreamOwner *UpstreamPool::owner(quint64 ownerId) const
{
    for (auto it = m_owners.cbegin(); it != m_owners.cend(); ++it) {
        if (it->id == ownerId)
            return it.key();
    }
    return nullptr;
}

QList<UpstreamOwner *> UpstreamPool::owners() const
{
    QList<UpstreamOwner *> result;
    for (const auto &[key, entry] : m_entries)
        result += entry->owners;
    return result;
}

qint64 UpstreamPool::dialsInFlight() const
{
    qint64 dials = 0;
    for (const auto &[key, entry] : m_entries)
        dials += entry->dialing ? 1 : 0;
    return dials;
}

PoolSnapshot UpstreamPool::snapshot() const
{
    PoolSnapshot snapshot;
    snapshot.takenAtMs = QDateTime::currentMSecsSinceEpoch();
    snapshot.counters = m_counters;
    const qint64 now = nowMs();
    for (const auto &[key, entry] : m_entries) {
        for (const UpstreamOwner *owner : entry->owners)
            snapshot.connections.append(owner->info());
        if (entry->dialing || entry->waiters > 0) {
            DialSnapshot &dial = snapshot.dials.emplace_back();
            dial.fingerprint = key.toString();
            dial.transport = key.transport();
            dial.proxyHost = key.host();
            dial.proxyPort = key.port();
            dial.dialing = entry->dialing != nullptr;
            dial.ownerId = entry->dialing ? entry->dialing->id() : 0;
            dial.ageMs = entry->dialing ? now - entry->dialStartedMs : 0;
            dial.waiters = entry->waiters;
        }
    }
    std::sort(snapshot.connections.begin(), snapshot.connections.end(),
              [](const ConnectionSnapshot &a, const ConnectionSnapshot &b) { return a.id < b.id; });
    std::sort(
        snapshot.dials.begin(), snapshot.dials.end(),
        [](const DialSnapshot &a, const DialSnapshot &b) { return a.fingerprint < b.fingerprint; });
    for (const ConnectionSnapshot &connection : snapshot.connections) {
        ++snapshot.totals.connections;
        snapshot.totals.streams += connection.streamsInUse;
        snapshot.totals.streamLimit += connection.streamLimit;
    }
    for (const DialSnapshot &dial : snapshot.dials) {
        snapshot.totals.dials += dial.dialing ? 1 : 0;
        snapshot.totals.waiters += dial.waiters;
    }
    return snapshot;
}

} // namespace qmasque
