#pragma once

#include "api/Result.h"
#include "proxy/SocketUtil.h"
#include "wire/IpAddress.h"

#include <QtCore/QObject>
#include <QtCore/QSocketNotifier>

#include <memory>

namespace qmasque {

// TunDevice: a Linux TUN interface (IFF_TUN | IFF_NO_PI: every read and write is one bare IPv4
// or IPv6 packet) that CONNECT-IP packets are forwarded to. open() creates or attaches to the
// interface, gives it the proxy's gateway addresses (the first host address of each pool, with
// the pool's prefix length, so the kernel routes the pool's addresses to the device) and brings
// it up. Routing and NAT between the device and the outside are the host's configuration (see
// README). Needs CAP_NET_ADMIN: without it open() fails with permission_denied and a message
// saying so. Engine thread only; not thread-safe.
class TunDevice final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TunDevice)

public:
    static constexpr qint64 kMaxPacket = 65535;

    explicit TunDevice(QObject *parent = nullptr);
    ~TunDevice() override;

    // open: `name` (at most 15 characters); `addresses` are the gateway prefixes to configure.
    // Errors: permission_denied (no CAP_NET_ADMIN), not_supported (not Linux), io_error.
    Status open(const QString &name, const QList<wire::IpPrefix> &addresses);

    // read: one packet into `buffer` (kMaxPacket bytes): its size, or -1 when none is waiting.
    qint64 read(char *buffer, qint64 max);
    // write: one packet; false when the device refused it (queue full: the packet is dropped).
    bool write(QByteArrayView packet);

    QString name() const { return m_name; }

Q_SIGNALS:
    void readable();

private:
    Status configure(const QList<wire::IpPrefix> &addresses);

    SocketFd m_fd;
    std::unique_ptr<QSocketNotifier> m_notifier;
    QString m_name;
};

} // namespace qmasque
