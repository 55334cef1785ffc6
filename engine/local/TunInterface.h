#pragma once

#include "api/Result.h"
#include "core/TunOpen.h"
#include "proxy/SocketUtil.h"

#include <QtCore/QObject>
#include <QtCore/QSocketNotifier>

#include <memory>

namespace qmasque {

// TunInterface: the client's Linux TUN device: /dev/net/tun with IFF_TUN | IFF_NO_PI, so every
// read and write is one bare IPv4 or IPv6 packet. open() creates the interface (or attaches to
// a persistent one of that name); closing the descriptor removes an interface it created, with
// its addresses and routes. Needs CAP_NET_ADMIN (tunOpenError()). Reads are left to the owner
// (readable(), read() until -1), so it can batch them. Engine thread only.
class TunInterface final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TunInterface)

public:
    static constexpr qint64 kMaxPacket = 65535;

    explicit TunInterface(QObject *parent = nullptr);
    ~TunInterface() override;

    // open: `name` is 1..15 characters. Errors: invalid_config (bad name), permission_denied
    // (no CAP_NET_ADMIN), not_supported (not Linux, no /dev/net/tun), io_error.
    Status open(const QString &name);
    void close();

    // read: one packet: its size, -1 when none is waiting, -2 on an error (the device is gone).
    qint64 read(char *buffer, qint64 max);
    // write: one packet; false when the device did not take it (the packet is dropped).
    bool write(QByteArrayView packet);

    bool isOpen() const noexcept { return m_fd.isValid(); }
    QString name() const { return m_name; }
    int ifindex() const noexcept { return m_ifindex; }
    int lastError() const noexcept { return m_lastError; }

Q_SIGNALS:
    void readable();

private:
    SocketFd m_fd;
    std::unique_ptr<QSocketNotifier> m_notifier;
    QString m_name;
    int m_ifindex = 0;
    int m_lastError = 0;
};

} // namespace qmasque
