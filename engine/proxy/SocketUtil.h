#pragma once

#include "api/Result.h"

#include <QtNetwork/QHostAddress>

#include <sys/socket.h>

namespace qmasque {

// SocketFd: owns a file descriptor (closed on destruction). Move-only.
class SocketFd
{
public:
    SocketFd() = default;
    explicit SocketFd(int fd) noexcept
        : m_fd(fd)
    {}
    SocketFd(SocketFd &&other) noexcept
        : m_fd(other.release())
    {}
    SocketFd &operator=(SocketFd &&other) noexcept;
    SocketFd(const SocketFd &) = delete;
    SocketFd &operator=(const SocketFd &) = delete;
    ~SocketFd() { reset(); }

    int get() const noexcept { return m_fd; }
    bool isValid() const noexcept { return m_fd >= 0; }
    int release() noexcept
    {
        const int fd = m_fd;
        m_fd = -1;
        return fd;
    }
    void reset(int fd = -1) noexcept;

private:
    int m_fd = -1;
};

// SocketAddress: a sockaddr for QHostAddress + port (IPv4 or IPv6, IPv4-mapped kept as given).
struct SocketAddress
{
    sockaddr_storage storage{};
    socklen_t length = 0;

    static SocketAddress from(const QHostAddress &address, quint16 port);
    int family() const noexcept { return storage.ss_family; }
    const sockaddr *get() const noexcept { return reinterpret_cast<const sockaddr *>(&storage); }
};

// socketErrorFromErrno: errno of a socket call as a typed error (connection_refused,
// network_unreachable, connect_timeout, connection_lost for resets, io_error otherwise).
Error socketErrorFromErrno(int error, const QString &context);

// openNonBlockingSocket: socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC); io_error on failure.
Result<SocketFd> openNonBlockingSocket(int family, int type);

// setSocketBuffers: SO_RCVBUF / SO_SNDBUF (best effort; the kernel caps them).
void setSocketBuffers(int fd, int receiveBytes, int sendBytes) noexcept;

} // namespace qmasque
