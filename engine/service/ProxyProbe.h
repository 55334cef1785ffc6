#pragma once

#include "api/Error.h"
#include "pool/UpstreamPool.h"
#include "transport/Transport.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QTimer>

namespace qmasque {

// ProxyProbe: "is the proxy reachable?" at engine start: the profile's transports are dialed the
// way a tunnel race would (the first at once, the second after the h2 head start, the rest after
// the h1 head start), and the first connection that completes its handshake answers yes. h2/h3
// dials go through the pool, so the winner stays pooled (idle timer armed) for the first
// tunnels; an h1 probe connection is closed again. When every attempt failed (or the deadline
// passed) the answer is the error of the first transport in the profile's order, e.g.
// connection_refused or tls_pin_mismatch.
//
// One probe per object; finished() is emitted exactly once, from the event loop. Engine thread
// only. The pool (not owned) must outlive the probe.
class ProxyProbe final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProxyProbe)

public:
    struct Plan
    {
        QList<TransportKind> order; // the profile's transports
        int secondDelayMs = 250;
        int laterDelayMs = 500;
        int deadlineMs = 5000;
    };

    ProxyProbe(UpstreamPool *pool, TransportFactory factory, QObject *parent = nullptr);
    ~ProxyProbe() override;

    void start(const ConnectOptions &connect, const Plan &plan);

Q_SIGNALS:
    // finished: ok with the transport that answered first, or the error of the first transport.
    void finished(bool ok, qmasque::TransportKind transport, const qmasque::Error &error);

private:
    void launch(int index);
    void handleResult(int index, const Error *error);
    void finish(bool ok, TransportKind transport, const Error &error);

    QPointer<UpstreamPool> m_pool; // not owned
    TransportFactory m_factory;
    ConnectOptions m_connect;
    Plan m_plan;
    QList<PoolTicket> m_tickets;         // per attempt; 0 when none (h1 or done)
    QList<QPointer<Transport>> m_direct; // h1 attempts, children
    QList<std::optional<Error>> m_errors;
    int m_launched = 0;
    int m_failed = 0;
    bool m_done = false;
    QTimer m_stagger;
    QTimer m_deadline;
};

} // namespace qmasque
