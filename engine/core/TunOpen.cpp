#include "core/TunOpen.h"

#include <cerrno>
#include <cstring>

#if defined(__linux__)
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
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

Result<OpenedTun> openTun(const QString &name)
{
#if defined(__linux__)
    const QByteArray name8 = name.toLocal8Bit();
    if (name8.isEmpty() || name8.size() >= IFNAMSIZ || name8.contains('/') || name8.contains(' '))
        return Error(ErrorCode::InvalidConfig,
                     QStringLiteral("TUN device name \"%1\": 1 to %2 characters, without '/' or "
                                    "spaces")
                         .arg(name)
                         .arg(IFNAMSIZ - 1));
    SocketFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd.isValid())
        return tunOpenError(errno, QStringLiteral("open /dev/net/tun"));
    ifreq request{};
    std::memcpy(request.ifr_name, name8.constData(), size_t(name8.size()));
    request.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (::ioctl(fd.get(), TUNSETIFF, &request) != 0)
        return tunOpenError(errno, QStringLiteral("create TUN device %1").arg(name));
    return OpenedTun{std::move(fd), QString::fromLocal8Bit(request.ifr_name)};
#else
    Q_UNUSED(name)
    return Error(ErrorCode::NotSupported,
                 QStringLiteral("TUN devices are supported on Linux only"));
#endif
}

} // namespace qmasque
