#pragma once

#include "api/Error.h"

#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QTimer>
#include <QtNetwork/QHostAddress>

namespace qmasque {

class TcpTargetSocket;

// TcpDialer: connects to one of a target's addresses the Happy Eyeballs way (RFC 8305): the
// addresses are interleaved by family, IPv6 first (4), one attempt starts at once and the next
// after kAttemptDelayMs (5: "Connection Attempt Delay", 250 ms) or as soon as the previous one
// failed; the first connection wins, the others are abandoned. The whole dial is bounded by
// `timeoutMs`.
//
// Result, exactly once and never from inside dial(): succeeded(socket) hands the connected
// socket over (the receiver re-parents it), or failed(error): upstream_timeout when the deadline
// passed with attempts pending or an attempt timed out, connection_refused when any address
// refused, else the last attempt's error (network_unreachable, ...). Engine thread only.
class TcpDialer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TcpDialer)

public:
    static constexpr int kAttemptDelayMs = 250;

    explicit TcpDialer(QObject *parent = nullptr);
    ~TcpDialer() override;

    // dial: `addresses` as resolved (already filtered by access control), `port`.
    void dial(const QList<QHostAddress> &addresses, quint16 port, int timeoutMs);

    // interleave: RFC 8305, 4: alternate the families, starting with IPv6.
    static QList<QHostAddress> interleave(const QList<QHostAddress> &addresses);

Q_SIGNALS:
    void succeeded(qmasque::TcpTargetSocket *socket);
    void failed(const qmasque::Error &reason);

private:
    void startNextAttempt();
    void handleAttemptFailed(TcpTargetSocket *attempt, const Error &reason);
    void handleAttemptConnected(TcpTargetSocket *attempt);
    void finish(const Error &reason);

    QList<QHostAddress> m_queue;
    quint16 m_port = 0;
    QList<TcpTargetSocket *> m_attempts; // children, in flight
    QTimer m_staggerTimer;
    QTimer m_deadline;
    bool m_done = false;
    bool m_sawRefused = false;
    bool m_sawTimeout = false;
    Error m_lastError;
};

} // namespace qmasque
