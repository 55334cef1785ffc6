#pragma once

#include "api/Error.h"

#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QTimer>
#include <QtNetwork/QHostAddress>

QT_BEGIN_NAMESPACE
class QHostInfo;
QT_END_NAMESPACE

namespace qmasque {

// HostResolver: one asynchronous name resolution for a tunnel's target (QHostInfo's thread
// pool), bounded by a timeout and cancelled when the resolver is destroyed (a tunnel that dies
// while resolving leaves no lookup behind). An IP literal resolves to itself without a lookup.
//
// Result, exactly once and never from inside resolve(): resolved(addresses) (at least one), or
// failed(resolution_failed) with Error::proxyErrorDetails = the DNS RCODE when known
// ("NXDOMAIN"), for Proxy-Status (RFC 9209, 2.3.2). Engine thread only.
class HostResolver final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HostResolver)

public:
    explicit HostResolver(QObject *parent = nullptr);
    ~HostResolver() override;

    void resolve(const QString &host, int timeoutMs);

Q_SIGNALS:
    void resolved(const QList<QHostAddress> &addresses);
    void failed(const qmasque::Error &reason);

private:
    void handleLookup(const QHostInfo &info);

    QString m_host;
    int m_lookupId = -1;
    QTimer m_timer;
    bool m_done = false;
};

} // namespace qmasque
