#include "service/ProxyProbe.h"

#include "core/Log.h"

namespace qmasque {

ProxyProbe::ProxyProbe(UpstreamPool *pool, TransportFactory factory, QObject *parent)
    : QObject(parent)
    , m_pool(pool)
    , m_factory(std::move(factory))
{
    m_stagger.setSingleShot(true);
    m_deadline.setSingleShot(true);
    connect(&m_stagger, &QTimer::timeout, this, [this] { launch(m_launched); });
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        for (int i = m_launched; i < m_plan.order.size(); ++i)
            m_errors[i] = Error(ErrorCode::ConnectTimeout, QStringLiteral("not tried in time"));
        // The first transport's own error if it has one, else its timeout.
        for (int i = 0; i < m_errors.size(); ++i) {
            if (!m_errors[i])
                m_errors[i] =
                    Error(ErrorCode::ConnectTimeout,
                          QStringLiteral("no answer within %1 ms").arg(m_plan.deadlineMs));
        }
        finish(false, m_plan.order.value(0), *m_errors.value(0));
    });
}

ProxyProbe::~ProxyProbe()
{
    for (PoolTicket ticket : std::as_const(m_tickets)) {
        if (ticket != 0 && m_pool)
            m_pool->cancel(ticket);
    }
}

void ProxyProbe::start(const ConnectOptions &connect, const Plan &plan)
{
    m_connect = connect;
    m_plan = plan;
    m_tickets = QList<PoolTicket>(plan.order.size(), 0);
    m_direct = QList<QPointer<Transport>>(plan.order.size());
    m_errors = QList<std::optional<Error>>(plan.order.size());
    if (plan.order.isEmpty()) {
        QMetaObject::invokeMethod(
            this,
            [this] {
                finish(false, TransportKind::H3,
                       Error(ErrorCode::InvalidConfig, QStringLiteral("transports: none given")));
            },
            Qt::QueuedConnection);
        return;
    }
    m_deadline.start(plan.deadlineMs);
    launch(0);
}

void ProxyProbe::launch(int index)
{
    if (m_done || index >= m_plan.order.size())
        return;
    m_launched = index + 1;
    const TransportKind kind = m_plan.order[index];
    if (kind == TransportKind::H1 || !m_pool) {
        // HTTP/1.1 is never pooled: one TLS connection, closed again once it answered.
        Transport *transport = m_factory ? m_factory(kind, this) : nullptr;
        if (!transport) {
            const Error error(ErrorCode::DialCrashed, QStringLiteral("no transport"));
            QMetaObject::invokeMethod(
                this, [this, index, error] { handleResult(index, &error); }, Qt::QueuedConnection);
        } else {
            m_direct[index] = transport;
            connect(transport, &HttpConnection::connected, this,
                    [this, index] { handleResult(index, nullptr); });
            connect(transport, &HttpConnection::closed, this,
                    [this, index](const Error &error) { handleResult(index, &error); });
            transport->connectToProxy(m_connect);
        }
    } else {
        UpstreamEndpoint endpoint;
        endpoint.transport = kind;
        endpoint.connect = m_connect;
        m_tickets[index] = m_pool->checkout(
            endpoint, this,
            [this, index](const Result<UpstreamOwner *> &owner) {
                m_tickets[index] = 0;
                if (owner)
                    handleResult(index, nullptr);
                else
                    handleResult(index, &owner.error());
            },
            QDeadlineTimer(m_plan.deadlineMs));
    }
    // RFC 8305-style staggering, as the race does: the next transport gets its head start.
    if (m_launched < m_plan.order.size())
        m_stagger.start(m_launched == 1 ? m_plan.secondDelayMs : m_plan.laterDelayMs);
}

void ProxyProbe::handleResult(int index, const Error *error)
{
    if (m_done)
        return;
    if (Transport *transport = m_direct.value(index)) {
        m_direct[index] = nullptr;
        transport->disconnect(this);
        transport->close();
        transport->deleteLater();
    }
    if (!error) {
        finish(true, m_plan.order[index], Error());
        return;
    }
    qCDebug(lcEngine, "probe %s: %s", transportKindName(m_plan.order[index]),
            qPrintable(error->toString()));
    m_errors[index] = *error;
    ++m_failed;
    if (m_failed == m_launched && m_launched < m_plan.order.size()) {
        // Everything launched so far failed: no reason to wait for the head start.
        m_stagger.stop();
        launch(m_launched);
        return;
    }
    if (m_failed == m_plan.order.size())
        finish(false, m_plan.order.first(), *m_errors.first());
}

void ProxyProbe::finish(bool ok, TransportKind transport, const Error &error)
{
    if (m_done)
        return;
    m_done = true;
    m_stagger.stop();
    m_deadline.stop();
    for (int i = 0; i < m_tickets.size(); ++i) {
        if (m_tickets[i] != 0 && m_pool)
            m_pool->cancel(m_tickets[i]);
        m_tickets[i] = 0;
    }
    for (QPointer<Transport> &direct : m_direct) {
        if (direct) {
            direct->disconnect(this);
            direct->close();
            direct->deleteLater();
        }
        direct = nullptr;
    }
    emit finished(ok, transport, error);
}

} // namespace qmasque
