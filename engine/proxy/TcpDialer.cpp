#include "proxy/TcpDialer.h"

#include "proxy/TcpTargetSocket.h"

namespace qmasque {

TcpDialer::TcpDialer(QObject *parent)
    : QObject(parent)
    , m_lastError(ErrorCode::NetworkUnreachable, QStringLiteral("no address to connect to"))
{
    m_staggerTimer.setSingleShot(true);
    m_deadline.setSingleShot(true);
    connect(&m_staggerTimer, &QTimer::timeout, this, &TcpDialer::startNextAttempt);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        finish(Error(ErrorCode::UpstreamTimeout,
                     QStringLiteral("no connection within %1 ms").arg(m_deadline.interval())));
    });
}

TcpDialer::~TcpDialer() = default;

QList<QHostAddress> TcpDialer::interleave(const QList<QHostAddress> &addresses)
{
    QList<QHostAddress> v6;
    QList<QHostAddress> v4;
    for (const QHostAddress &address : addresses)
        (address.protocol() == QAbstractSocket::IPv6Protocol ? v6 : v4).append(address);
    QList<QHostAddress> out;
    out.reserve(addresses.size());
    for (qsizetype i = 0; i < qMax(v6.size(), v4.size()); ++i) {
        if (i < v6.size())
            out.append(v6[i]);
        if (i < v4.size())
            out.append(v4[i]);
    }
    return out;
}

void TcpDialer::dial(const QList<QHostAddress> &addresses, quint16 port, int timeoutMs)
{
    m_queue = interleave(addresses);
    m_port = port;
    m_deadline.start(timeoutMs);
    // Queued: the result never comes from inside dial().
    QMetaObject::invokeMethod(this, &TcpDialer::startNextAttempt, Qt::QueuedConnection);
}

void TcpDialer::startNextAttempt()
{
    if (m_done)
        return;
    if (m_queue.isEmpty()) {
        if (m_attempts.isEmpty())
            finish(m_lastError);
        return;
    }
    auto *attempt = new TcpTargetSocket(this);
    m_attempts.append(attempt);
    connect(attempt, &TcpTargetSocket::connected, this,
            [this, attempt] { handleAttemptConnected(attempt); });
    connect(attempt, &TcpTargetSocket::failed, this,
            [this, attempt](const Error &reason) { handleAttemptFailed(attempt, reason); });
    attempt->connectTo(m_queue.takeFirst(), m_port);
    if (!m_queue.isEmpty())
        m_staggerTimer.start(kAttemptDelayMs); // RFC 8305, 5
}

void TcpDialer::handleAttemptFailed(TcpTargetSocket *attempt, const Error &reason)
{
    m_attempts.removeOne(attempt);
    attempt->deleteLater(); // we are inside its signal
    if (m_done)
        return;
    m_lastError = reason;
    m_sawRefused = m_sawRefused || reason.code == ErrorCode::ConnectionRefused;
    m_sawTimeout = m_sawTimeout || reason.code == ErrorCode::ConnectTimeout;
    // RFC 8305, 5: a failed attempt lets the next one start without waiting for the delay.
    m_staggerTimer.stop();
    startNextAttempt();
}

void TcpDialer::handleAttemptConnected(TcpTargetSocket *attempt)
{
    if (m_done)
        return;
    m_done = true;
    m_staggerTimer.stop();
    m_deadline.stop();
    m_attempts.removeOne(attempt);
    for (TcpTargetSocket *loser : std::as_const(m_attempts))
        loser->deleteLater();
    m_attempts.clear();
    attempt->disconnect(this);
    attempt->setParent(nullptr); // the receiver adopts it
    Q_EMIT succeeded(attempt);
}

void TcpDialer::finish(const Error &reason)
{
    if (m_done)
        return;
    m_done = true;
    m_staggerTimer.stop();
    m_deadline.stop();
    for (TcpTargetSocket *attempt : std::as_const(m_attempts))
        attempt->deleteLater();
    m_attempts.clear();
    Error result = reason;
    if (reason.code != ErrorCode::UpstreamTimeout) {
        if (m_sawRefused)
            result = Error(ErrorCode::ConnectionRefused, m_lastError.detail);
        else if (m_sawTimeout)
            result = Error(ErrorCode::UpstreamTimeout, m_lastError.detail);
    }
    Q_EMIT failed(result);
}

} // namespace qmasque
