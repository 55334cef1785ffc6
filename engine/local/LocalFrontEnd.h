#pragma once

#include "api/Result.h"

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QPair>
#include <QtCore/QString>

namespace qmasque {

// LocalFrontEnd: something local applications talk to (a SOCKS5 listener, the HTTP proxy port,
// a UDP or TCP port forward, the TUN device), turning what they send into tunnels through the
// TunnelClient. The Engine makes one per listener of the profile, starts them, lists them in the
// snapshot (description()) and stops them on shutdown. Engine thread only.
class LocalFrontEnd : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

    // start: binds / opens the device. Errors: address_in_use, permission_denied (TUN without
    // CAP_NET_ADMIN), invalid_config, io_error; the message names the address or device.
    virtual Status start() = 0;
    // stop: stops accepting and closes every local client and its tunnels gracefully.
    // Idempotent; the object may be deleted afterwards.
    virtual void stop() = 0;
    // description: one line for the snapshot and the log, e.g. "socks5 127.0.0.1:1080" or
    // "udp-forward 127.0.0.1:5353=dns.example:53" (with the bound port when 0 was asked).
    virtual QString description() const = 0;
    // activeClients: local connections (TCP) or peers (UDP) being served now.
    virtual int activeClients() const = 0;
    // drops: what this front end dropped itself (not the tunnels' own drops), by reason, as
    // monotonic counts since start(): e.g. {"socks5_fragmented", 3}. The Engine reports them in
    // the metrics (qmasque_local_drops_total). Default: nothing dropped.
    virtual QList<QPair<QByteArray, quint64>> drops() const { return {}; }

Q_SIGNALS:
    // failed: a runtime failure of the front end itself (not of one client), e.g. the TUN device
    // went away. The Engine logs it and reports it in its state.
    void failed(const qmasque::Error &error);
};

} // namespace qmasque
