#include "local/TunInterface.h"

#include <cerrno>

#if defined(__linux__)
#include <net/if.h>
#include <unistd.h>
#endif

namespace qmasque {

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
    Result<OpenedTun> opened = openTun(name);
    if (!opened)
        return opened.error();
    const QByteArray name8 = opened.value().name.toLocal8Bit();
    const int ifindex = int(::if_nametoindex(name8.constData()));
    if (ifindex == 0)
        return tunOpenError(errno, QStringLiteral("index of TUN device %1").arg(name));
    m_fd = std::move(opened.value().fd);
    m_name = opened.value().name;
    m_ifindex = ifindex;
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
