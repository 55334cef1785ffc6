#include "local/TunInterface.h"

#include <cerrno>
#include <cstring>

#if defined(__linux__)
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>
#endif

namespace qmasque {

Error tunOpenError(int error, const QString &what)
{
    const QString reason = QString::fromLocal8Bit(strerror(error));
    if (error == EPERM || error == EACCES)
        return Error(ErrorCode::PermissionDenied,
                     QStringLiteral("%1: %2 (a TUN device needs CAP_NET_ADMIN: run as root or "
                                    "grant it with setcap cap_net_admin+ep)")
                         .arg(what, reason));
    if (error == ENOENT || error == ENODEV || error == ENXIO)
        return Error(ErrorCode::NotSupported,
                     QStringLiteral("%1: %2 (no TUN driver: modprobe tun)").arg(what, reason));
    return Error(ErrorCode::Io, what + QStringLiteral(": ") + reason);
}

TunInterface::TunInterface(QObject *parent)
    : QObject(parent)
{}

TunInterface::~TunInterface()
{
    close();
}

Status TunInterface::open(const QString &name)
{
#if defined(__linux__)
    const QByteArray name8 = name.toLocal8Bit();
    if (name8.isEmpty() || name8.size() >= IFNAMSIZ || name8.contains('/') || name8.contains(' '))
        return Error(ErrorCode::InvalidConfig,
                     QStringLiteral("tun \"%1\": a device name has 1 to %2 characters, without "
                                    "'/' or spaces")
                         .arg(name)
                         .arg(IFNAMSIZ - 1));
    const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return tunOpenError(errno, QStringLiteral("open /dev/net/tun"));
    SocketFd owned(fd);
    ifreq request{};
    std::memcpy(request.ifr_name, name8.constData(), size_t(name8.size()));
    request.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (::ioctl(owned.get(), TUNSETIFF, &request) != 0)
        return tunOpenError(errno, QStringLiteral("create TUN device %1").arg(name));
    m_name = QString::fromLocal8Bit(request.ifr_name);
    m_ifindex = int(::if_nametoindex(request.ifr_name));
    if (m_ifindex == 0)
        return tunOpenError(errno, QStringLiteral("index of TUN device %1").arg(name));
    m_fd = std::move(owned);
    m_notifier = std::make_unique<QSocketNotifier>(m_fd.get(), QSocketNotifier::Read);
    connect(m_notifier.get(), &QSocketNotifier::activated, this, &TunInterface::readable);
    return {};
#else
    Q_UNUSED(name)
    return Error(ErrorCode::NotSupported,
                 QStringLiteral("TUN devices are supported on Linux only"));
#endif
}

void TunInterface::close()
{
    m_notifier.reset(); // before the descriptor
    m_fd.reset();
}

qint64 TunInterface::read(char *buffer, qint64 max)
{
#if defined(__linux__)
    for (;;) {
        const ssize_t n = ::read(m_fd.get(), buffer, size_t(max));
        if (n >= 0)
            return qint64(n);
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -1;
        m_lastError = errno;
        return -2;
    }
#else
    Q_UNUSED(buffer)
    Q_UNUSED(max)
    return -2;
#endif
}

bool TunInterface::write(QByteArrayView packet)
{
#if defined(__linux__)
    return ::write(m_fd.get(), packet.data(), size_t(packet.size())) == ssize_t(packet.size());
#else
    Q_UNUSED(packet)
    return false;
#endif
}

} // namespace qmasque
