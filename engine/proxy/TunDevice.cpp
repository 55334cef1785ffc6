#include "proxy/TunDevice.h"

#include "core/Log.h"
#include "core/TunOpen.h"

#include <cerrno>
#include <cstring>

#if defined(__linux__)
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace qmasque {

#if defined(__linux__)
namespace {

// in6_ifreq: the argument of SIOCSIFADDR on an AF_INET6 socket (linux/ipv6.h, which clashes
// with the libc headers, so it is spelled out here).
struct In6Ifreq
{
    in6_addr address;
    quint32 prefixLength;
    int ifindex;
};

} // namespace
#endif

TunDevice::TunDevice(QObject *parent)
    : QObject(parent)
{}

TunDevice::~TunDevice()
{
    m_notifier.reset(); // before the descriptor
}

Status TunDevice::open(const QString &name, const QList<wire::IpPrefix> &addresses)
{
#if defined(__linux__)
    Result<OpenedTun> opened = openTun(name);
    if (!opened)
        return opened.error();
    m_fd = std::move(opened.value().fd);
    m_name = opened.value().name;
    if (Status configured = configure(addresses); !configured) {
        m_fd.reset();
        return configured;
    }
    m_notifier = std::make_unique<QSocketNotifier>(m_fd.get(), QSocketNotifier::Read);
    connect(m_notifier.get(), &QSocketNotifier::activated, this, &TunDevice::readable);
    return {};
#else
    Q_UNUSED(name)
    Q_UNUSED(addresses)
    return Error(ErrorCode::NotSupported, QStringLiteral("--tun is only supported on Linux"));
#endif
}

Status TunDevice::configure(const QList<wire::IpPrefix> &addresses)
{
#if defined(__linux__)
    const QByteArray name8 = m_name.toLocal8Bit();
    SocketFd control4(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!control4.isValid())
        return tunOpenError(errno, QStringLiteral("socket"));
    ifreq request{};
    std::memcpy(request.ifr_name, name8.constData(), size_t(name8.size()));
    for (const wire::IpPrefix &prefix : addresses) {
        if (prefix.address.isIpv4()) {
            auto *address = reinterpret_cast<sockaddr_in *>(&request.ifr_addr);
            address->sin_family = AF_INET;
            std::memcpy(&address->sin_addr, prefix.address.bytes().data(), 4);
            if (::ioctl(control4.get(), SIOCSIFADDR, &request) != 0)
                return tunOpenError(errno, QStringLiteral("set the address of %1").arg(m_name));
            auto *mask = reinterpret_cast<sockaddr_in *>(&request.ifr_netmask);
            mask->sin_family = AF_INET;
            const quint32 bits = prefix.length == 0 ? 0 : ~quint32(0) << (32 - prefix.length);
            mask->sin_addr.s_addr = htonl(bits);
            if (::ioctl(control4.get(), SIOCSIFNETMASK, &request) != 0)
                return tunOpenError(errno, QStringLiteral("set the netmask of %1").arg(m_name));
        }
    }
    // Up first: the kernel assigns IPv6 addresses only to interfaces that are up.
    if (::ioctl(control4.get(), SIOCGIFFLAGS, &request) != 0)
        return tunOpenError(errno, QStringLiteral("read the flags of %1").arg(m_name));
    request.ifr_flags = short(request.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(control4.get(), SIOCSIFFLAGS, &request) != 0)
        return tunOpenError(errno, QStringLiteral("bring %1 up").arg(m_name));
    for (const wire::IpPrefix &prefix : addresses) {
        if (!prefix.address.isIpv6())
            continue;
        SocketFd control6(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (!control6.isValid())
            return tunOpenError(errno, QStringLiteral("socket"));
        if (::ioctl(control6.get(), SIOCGIFINDEX, &request) != 0)
            return tunOpenError(errno, QStringLiteral("index of %1").arg(m_name));
        In6Ifreq address{};
        std::memcpy(&address.address, prefix.address.bytes().data(), 16);
        address.prefixLength = quint32(prefix.length);
        address.ifindex = request.ifr_ifindex;
        if (::ioctl(control6.get(), SIOCSIFADDR, &address) != 0 && errno != EEXIST) {
            // Hosts with IPv6 disabled refuse this; IPv4 forwarding still works.
            qCWarning(lcProxy).noquote()
                << QStringLiteral("%1: no IPv6 address: %2")
                       .arg(m_name, QString::fromLocal8Bit(strerror(errno)));
        }
    }
    return {};
#else
    Q_UNUSED(addresses)
    return {};
#endif
}

qint64 TunDevice::read(char *buffer, qint64 max)
{
#if defined(__linux__)
    for (;;) {
        const ssize_t n = ::read(m_fd.get(), buffer, size_t(max));
        if (n >= 0)
            return qint64(n);
        if (errno != EINTR)
            return -1;
    }
#else
    Q_UNUSED(buffer)
    Q_UNUSED(max)
    return -1;
#endif
}

bool TunDevice::write(QByteArrayView packet)
{
#if defined(__linux__)
    return ::write(m_fd.get(), packet.data(), size_t(packet.size())) == ssize_t(packet.size());
#else
    Q_UNUSED(packet)
    return false;
#endif
}

} // namespace qmasque
