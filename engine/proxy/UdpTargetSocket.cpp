#include "proxy/UdpTargetSocket.h"

#include <cerrno>
#include <sys/socket.h>

namespace qmasque {

namespace {

constexpr int kSocketBuffer = 4 * 1024 * 1024;

} // namespace

UdpTargetSocket::UdpTargetSocket(QObject *parent)
    : QObject(parent)
{}

UdpTargetSocket::~UdpTargetSocket()
{
    m_notifier.reset(); // before the descriptor
}

Status UdpTargetSocket::open(const QHostAddress &address, quint16 port)
{
    const SocketAddress to = SocketAddress::from(address, port);
    if (to.length == 0)
        return Error(ErrorCode::NetworkUnreachable, QStringLiteral("not an IP address"));
    auto fd = openNonBlockingSocket(to.family(), SOCK_DGRAM);
    if (!fd)
        return fd.error();
    m_fd = std::move(fd.value());
    setSocketBuffers(m_fd.get(), kSocketBuffer, kSocketBuffer);
    if (::connect(m_fd.get(), to.get(), to.length) != 0)
        return socketErrorFromErrno(errno, QStringLiteral("connect %1").arg(address.toString()));
    m_notifier = std::make_unique<QSocketNotifier>(m_fd.get(), QSocketNotifier::Read);
    connect(m_notifier.get(), &QSocketNotifier::activated, this, &UdpTargetSocket::readable);
    return {};
}

qint64 UdpTargetSocket::receive(char *buffer, qint64 max)
{
    for (;;) {
        const ssize_t n = ::recv(m_fd.get(), buffer, size_t(max), MSG_TRUNC);
        if (n >= 0)
            return n > max ? -2 : qint64(n);
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -1;
        if (errno != ECONNREFUSED && errno != EHOSTUNREACH && errno != ENETUNREACH)
            return -1;
        // RFC 9298 leaves ICMP handling to the proxy; a connected UDP socket reports the
        // errors of earlier sends here. They do not end the tunnel.
        ++m_icmpErrors;
    }
}

bool UdpTargetSocket::send(const char *data, qint64 size)
{
    return ::send(m_fd.get(), data, size_t(size), MSG_NOSIGNAL) == ssize_t(size);
}

void UdpTargetSocket::setReadEnabled(bool enabled)
{
    if (m_notifier)
        m_notifier->setEnabled(enabled);
}

} // namespace qmasque
