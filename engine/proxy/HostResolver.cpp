#include "proxy/HostResolver.h"

#include <QtNetwork/QHostInfo>

namespace qmasque {

HostResolver::HostResolver(QObject *parent)
    : QObject(parent)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        if (m_done)
            return;
        m_done = true;
        if (m_lookupId >= 0)
            QHostInfo::abortHostLookup(m_lookupId);
        m_lookupId = -1;
        Q_EMIT failed(
            Error(ErrorCode::ResolutionFailed, QStringLiteral("resolving %1 took longer than %2 ms")
                                                   .arg(m_host)
                                                   .arg(m_timer.interval())));
    });
}

HostResolver::~HostResolver()
{
    if (m_lookupId >= 0)
        QHostInfo::abortHostLookup(m_lookupId);
}

void HostResolver::resolve(const QString &host, int timeoutMs)
{
    m_host = host;
    if (QHostAddress literal; literal.setAddress(host)) {
        QMetaObject::invokeMethod(
            this,
            [this, literal] {
                m_done = true;
                Q_EMIT resolved({literal});
            },
            Qt::QueuedConnection);
        return;
    }
    m_timer.start(timeoutMs);
    // The context object (this) makes QHostInfo drop the answer if we are gone by then.
    m_lookupId = QHostInfo::lookupHost(host, this, &HostResolver::handleLookup);
}

void HostResolver::handleLookup(const QHostInfo &info)
{
    m_lookupId = -1;
    if (m_done)
        return;
    m_done = true;
    m_timer.stop();
    QList<QHostAddress> addresses;
    for (const QHostAddress &address : info.addresses()) {
        if (!addresses.contains(address))
            addresses.append(address);
    }
    if (info.error() == QHostInfo::NoError && !addresses.isEmpty()) {
        Q_EMIT resolved(addresses);
        return;
    }
    Error reason(ErrorCode::ResolutionFailed,
                 QStringLiteral("cannot resolve %1: %2").arg(m_host, info.errorString()));
    if (info.error() == QHostInfo::HostNotFound)
        reason.proxyErrorDetails = QStringLiteral("NXDOMAIN");
    Q_EMIT failed(reason);
}

} // namespace qmasque
