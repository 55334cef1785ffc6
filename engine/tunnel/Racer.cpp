#include "tunnel/Racer.h"

#include "core/Log.h"
#include "tunnel/TunnelSession.h"

#include <QtCore/QDateTime>

namespace qmasque {

int errorRank(const Error &error) noexcept
{
    switch (error.code) {
    case ErrorCode::HandshakeRejected:
    case ErrorCode::MalformedResponse:
    case ErrorCode::CapsuleProtocolNotAcknowledged:
    case ErrorCode::CapsuleProtocolMissing:
    case ErrorCode::BadResponse:
    case ErrorCode::BadUpgradeResponse:
    case ErrorCode::NoExtendedConnect:
    case ErrorCode::NoH3Datagram:
    case ErrorCode::MtuTooLow:
        return 4;
    case ErrorCode::TlsHandshakeFailed:
    case ErrorCode::TlsUntrustedCertificate:
    case ErrorCode::TlsHostnameMismatch:
    case ErrorCode::TlsCertificateExpired:
    case ErrorCode::TlsPinMismatch:
    case ErrorCode::TlsClientCertificate:
    case ErrorCode::AlpnMismatch:
    case ErrorCode::QuicHandshakeFailed:
    case ErrorCode::BadStatusLine:
    case ErrorCode::HeadTooLarge:
        return 3;
    case ErrorCode::ConnectTimeout:
    case ErrorCode::HandshakeTimeout:
    case ErrorCode::CheckoutTimeout:
    case ErrorCode::Timeout:
    case ErrorCode::IdleTimeout:
    case ErrorCode::RaceTimeout:
        return 1;
    case ErrorCode::Cancelled:
        return 0;
    default:
        return 2;
    }
}

bool looksLikeNoAnswer(const Error &error) noexcept
{
    switch (error.code) {
    case ErrorCode::ConnectTimeout:
    case ErrorCode::HandshakeTimeout:
    case ErrorCode::CheckoutTimeout:
    case ErrorCode::Timeout:
    case ErrorCode::IdleTimeout:
    case ErrorCode::ConnectionRefused:  // ICMP port unreachable on UDP
    case ErrorCode::NetworkUnreachable: // ICMP unreachable / no route
        return true;
    default:
        return false;
    }
}

Racer::Racer(RacePlan plan, AttemptFactory factory, RaceRecord record, QObject *parent)
    : QObject(parent)
    , m_plan(std::move(plan))
    , m_factory(std::move(factory))
    , m_record(std::move(record))
{
    for (TransportKind transport : m_plan.order) {
        Attempt attempt;
        attempt.transport = transport;
        m_attempts.append(attempt);
    }
    m_headStart.setSingleShot(true);
    m_headStart.setTimerType(Qt::PreciseTimer);
    connect(&m_headStart, &QTimer::timeout, this, &Racer::startNext);
    m_deadline.setSingleShot(true);
    m_deadline.setTimerType(Qt::PreciseTimer);
    connect(&m_deadline, &QTimer::timeout, this, &Racer::handleDeadline);
}

Racer::~Racer()
{
    // Attempts (and a winner not handed over yet) are children: their destructors abort them.
    m_finished = true;
    m_headStart.stop();
    m_deadline.stop();
    for (Attempt &attempt : m_attempts) {
        if (attempt.session)
            disconnect(attempt.session, nullptr, this, nullptr);
    }
}

void Racer::start()
{
    if (std::exchange(m_started, true))
        return;
    m_clock.start();
    m_record.startedAtMs = QDateTime::currentMSecsSinceEpoch();
    m_deadline.start(qMax(1, m_plan.deadlineMs));
    if (m_attempts.isEmpty()) {
        finishWith(nullptr, Error(ErrorCode::InvalidConfig, QStringLiteral("no transport")));
        return;
    }
    startNext();
}

void Racer::startNext()
{
    if (m_finished || m_next >= m_attempts.size())
        return;
    const int index = m_next++;
    Attempt &attempt = m_attempts[index];
    attempt.started = true;
    attempt.startMs = m_clock.elapsed();
    const int remaining =
        qMax(1, int(m_plan.deadlineMs - attempt.startMs)) + RacePlan::kAttemptGraceMs;
    TunnelSession *session = m_factory ? m_factory(attempt.transport, remaining, this) : nullptr;
    armHeadStart();
    if (!session) {
        // Reported like any failure, from the event loop.
        QMetaObject::invokeMethod(
            this,
            [this, index] {
                handleClosed(index, Error(ErrorCode::Internal, QStringLiteral("no session")));
            },
            Qt::QueuedConnection);
        return;
    }
    attempt.session = session;
    connect(session, &TunnelSession::opened, this, [this, index] { handleOpened(index); });
    connect(session, &TunnelSession::closed, this,
            [this, index](const Error &reason) { handleClosed(index, reason); });
    qCDebug(lcRacer, "tunnel#%llu race: %s starts at %lld ms", m_record.tunnelId,
            transportKindName(attempt.transport), static_cast<long long>(attempt.startMs));
    session->start();
}

void Racer::armHeadStart()
{
    if (m_next >= m_attempts.size()) {
        m_headStart.stop();
        return;
    }
    m_headStart.start(qMax(0, m_next == 1 ? m_plan.secondDelayMs : m_plan.laterDelayMs));
}

void Racer::handleOpened(int index)
{
    if (m_finished)
        return;
    Attempt &winner = m_attempts[index];
    winner.ended = true;
    winner.won = true;
    winner.reachedProxy = true;
    winner.endMs = m_clock.elapsed();
    m_headStart.stop();
    m_deadline.stop();
    // The winner's later events are its new owner's business, not ours.
    disconnect(winner.session, nullptr, this, nullptr);
    for (Attempt &attempt : m_attempts) {
        if (attempt.started && !attempt.ended)
            abortAttempt(attempt, QStringLiteral("cancelled"));
    }
    m_winner = winner.session;
    m_record.winner = winner.transport;
    m_finished = true;
    // Reported from the event loop: we are inside the winner's transport callback.
    QMetaObject::invokeMethod(
        this,
        [this] {
            if (!m_cancelled)
                finishWith(m_winner, Error());
        },
        Qt::QueuedConnection);
}

void Racer::handleClosed(int index, const Error &reason)
{
    if (m_finished)
        return;
    Attempt &attempt = m_attempts[index];
    if (attempt.ended)
        return;
    attempt.ended = true;
    attempt.endMs = m_clock.elapsed();
    attempt.error = reason;
    if (TunnelSession *session = attempt.session) {
        attempt.reachedProxy = session->reachedProxy();
        attempt.record = session->record();
        disconnect(session, nullptr, this, nullptr);
        session->deleteLater();
    }
    attempt.session = nullptr;
    qCDebug(lcRacer, "tunnel#%llu race: %s failed: %s", m_record.tunnelId,
            transportKindName(attempt.transport), qPrintable(reason.toString()));
    if (anyRunning())
        return;
    if (m_next < m_attempts.size()) {
        // Every started attempt failed: do not wait for the next head start.
        m_headStart.stop();
        startNext();
        return;
    }
    const int best = bestFailure();
    m_finished = true;
    m_headStart.stop();
    m_deadline.stop();
    if (best >= 0)
        m_failedRecord = m_attempts[best].record;
    finishWith(nullptr, best >= 0 ? *m_attempts[best].error : Error(ErrorCode::Internal));
}

void Racer::handleDeadline()
{
    if (m_finished)
        return;
    QStringList summary;
    for (Attempt &attempt : m_attempts) {
        if (attempt.started && !attempt.ended)
            abortAttempt(attempt, QStringLiteral("timeout"));
        if (attempt.started) {
            summary << QStringLiteral("%1: %2").arg(
                QLatin1StringView(transportKindName(attempt.transport)),
                attempt.error ? QLatin1StringView(attempt.error->name())
                              : QLatin1StringView("no answer"));
        }
    }
    m_finished = true;
    m_headStart.stop();
    const int best = bestFailure();
    Error error;
    if (best >= 0 && errorRank(*m_attempts[best].error) >= 3) {
        // A definite answer (a refusal, a TLS failure) says more than "too slow".
        error = *m_attempts[best].error;
        m_failedRecord = m_attempts[best].record;
    } else {
        error =
            Error(ErrorCode::RaceTimeout, QStringLiteral("no transport opened within %1 ms (%2)")
                                              .arg(m_plan.deadlineMs)
                                              .arg(summary.join(QStringLiteral(", "))));
        for (const Attempt &attempt : m_attempts) {
            if (attempt.record) {
                m_failedRecord = attempt.record;
                break;
            }
        }
        if (m_failedRecord) {
            m_failedRecord->closeReason = QLatin1StringView(error.name());
            m_failedRecord->closeDetail = error.toString();
        }
    }
    finishWith(nullptr, error);
}

void Racer::abortAttempt(Attempt &attempt, const QString &result)
{
    attempt.ended = true;
    attempt.cancelled = true;
    attempt.endMs = m_clock.elapsed();
    if (!attempt.error)
        attempt.error =
            Error(result == QStringLiteral("timeout") ? ErrorCode::Timeout : ErrorCode::Cancelled,
                  result);
    if (TunnelSession *session = attempt.session) {
        attempt.reachedProxy = session->reachedProxy();
        disconnect(session, nullptr, this, nullptr);
        // Synchronous: the ticket is cancelled, the stream reset, the socket closed now.
        session->abort(Error(ErrorCode::Cancelled, QStringLiteral("lost the race")));
        attempt.record = session->record();
        session->deleteLater();
    }
    attempt.session = nullptr;
}

void Racer::cancel()
{
    if (m_cancelled || (m_finished && !m_winner))
        return;
    m_finished = true;
    m_cancelled = true;
    m_headStart.stop();
    m_deadline.stop();
    for (Attempt &attempt : m_attempts) {
        if (attempt.started && !attempt.ended)
            abortAttempt(attempt, QStringLiteral("cancelled"));
    }
    if (TunnelSession *winner = m_winner) {
        // Won but not handed over yet: nobody will own it.
        disconnect(winner, nullptr, this, nullptr);
        winner->abort(Error(ErrorCode::Cancelled, QStringLiteral("race cancelled")));
        winner->deleteLater();
        m_winner = nullptr;
        m_record.winner.reset();
    }
    const Error cancelled(ErrorCode::Cancelled, QStringLiteral("the race was cancelled"));
    finalizeRecord(&cancelled);
}

void Racer::finishWith(TunnelSession *winner, const Error &error)
{
    m_finished = true;
    m_winner = nullptr;
    finalizeRecord(winner ? nullptr : &error);
    if (winner) {
        winner->setParent(nullptr);
        qCInfo(lcRacer, "tunnel#%llu race won by %s after %lld ms", m_record.tunnelId,
               transportKindName(winner->transport()), static_cast<long long>(m_clock.elapsed()));
    } else {
        qCInfo(lcRacer, "tunnel#%llu race failed: %s", m_record.tunnelId,
               qPrintable(m_record.error));
    }
    emit finished(winner, error);
}

void Racer::finalizeRecord(const Error *error)
{
    m_record.attempts.clear();
    for (const Attempt &attempt : m_attempts) {
        if (!attempt.started)
            continue;
        RaceAttempt entry;
        entry.transport = attempt.transport;
        entry.startOffsetMs = attempt.startMs;
        entry.durationMs = attempt.endMs - attempt.startMs;
        if (attempt.won)
            entry.result = QStringLiteral("won");
        else if (attempt.cancelled && attempt.error && attempt.error->code == ErrorCode::Timeout)
            entry.result = QStringLiteral("timeout");
        else if (attempt.cancelled || !attempt.error)
            entry.result = QStringLiteral("cancelled");
        else
            entry.result = QString::fromLatin1(attempt.error->name());
        m_record.attempts.append(entry);
    }
    m_record.error = error ? error->toString() : QString();
}

int Racer::bestFailure() const
{
    int best = -1;
    for (int i = 0; i < m_attempts.size(); ++i) {
        const Attempt &attempt = m_attempts[i];
        if (!attempt.error || attempt.cancelled)
            continue;
        if (best < 0 || errorRank(*attempt.error) > errorRank(*m_attempts[best].error))
            best = i;
    }
    return best;
}

bool Racer::anyRunning() const
{
    for (const Attempt &attempt : m_attempts) {
        if (attempt.started && !attempt.ended)
            return true;
    }
    return false;
}

int Racer::runningAttempts() const
{
    int running = 0;
    for (const Attempt &attempt : m_attempts)
        running += attempt.session && !attempt.won ? 1 : 0;
    if (m_winner)
        ++running;
    return running;
}

QList<RaceAttemptOutcome> Racer::outcomes() const
{
    QList<RaceAttemptOutcome> outcomes;
    for (const Attempt &attempt : m_attempts) {
        RaceAttemptOutcome outcome;
        outcome.transport = attempt.transport;
        outcome.started = attempt.started;
        outcome.won = attempt.won;
        outcome.cancelled = attempt.cancelled;
        outcome.reachedProxy = attempt.reachedProxy;
        outcome.error = attempt.error;
        outcomes.append(outcome);
    }
    return outcomes;
}

} // namespace qmasque
