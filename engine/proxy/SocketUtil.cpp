#include "proxy/SocketUtil.h"

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <unistd.h>

namespace qmasque {

SocketFd &SocketFd::operator=(SocketFd &&other) noexcept
{
    if (this != &other)
        reset(other.release());
    return *this;
}

void SocketFd::reset(int fd) noexcept
{
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = fd;
}

SocketAddress SocketAddress::from(const QHostAddress &address, quint16 port)
{
    SocketAddress out;
    if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        auto *in = reinterpret_cast<sockaddr_in *>(&out.storage);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(address.toIPv4Address());
        out.length = sizeof(sockaddr_in);
    } else if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(&out.storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        const Q_IPV6ADDR bytes = address.toIPv6Address();
        std::memcpy(&in6->sin6_addr, bytes.c, 16);
        out.length = sizeof(sockaddr_in6);
    }
    return out;
}

Error socketErrorFromErrno(int error, const QString &context)
{
    const QString detail = context + QStringLiteral(": ") + QString::fromLocal8Bit(strerror(error));
    switch (error) {
    case ECONNREFUSED:
        return Error(ErrorCode::ConnectionRefused, detail);
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT:
        return Error(ErrorCode::NetworkUnreachable, detail);
    case ETIMEDOUT:
        return Error(ErrorCode::ConnectTimeout, detail);
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED:
        return Error(ErrorCode::ConnectionLost, detail);
    case EACCES:
    case EPERM:
        return Error(ErrorCode::PermissionDenied, detail);
    default:
        return Error(ErrorCode::Io, detail);
    }
}

Result<SocketFd> openNonBlockingSocket(int family, int type)
{
    const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return socketErrorFromErrno(errno, QStringLiteral("socket"));
    return SocketFd(fd);
}

void setSocketBuffers(int fd, int receiveBytes, int sendBytes) noexcept
{
    if (receiveBytes > 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBytes, sizeof(receiveBytes));
    if (sendBytes > 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sendBytes, sizeof(sendBytes));
}

} // namespace qmasque
