#include "local/LocalStreamSocket.h"

#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace qmasque {

LocalStreamSocket::LocalStreamSocket(SocketFd fd, QObject *parent)
    : QObject(parent)
    , m_fd(std::move(fd))
{
    if (!m_fd.isValid())
        return;
    const int flags = ::fcntl(m_fd.get(), F_GETFL, 0);
    if (flags >= 0)
        (void)::fcntl(m_fd.get(), F_SETFL, flags | O_NONBLOCK);
    (void)::fcntl(m_fd.get(), F_SETFD, FD_CLOEXEC);

    sockaddr_storage peer{};
    socklen_t length = sizeof(peer);
    if (::getpeername(m_fd.get(), reinterpret_cast<sockaddr *>(&peer), &length) == 0) {
        m_peerAddress.setAddress(reinterpret_cast<const sockaddr *>(&peer));
        if (peer.ss_family == AF_INET)
            m_peerPort = ntohs(reinterpret_cast<const sockaddr_in *>(&peer)->sin_port);
        else if (peer.ss_family == AF_INET6)
            m_peerPort = ntohs(reinterpret_cast<const sockaddr_in6 *>(&peer)->sin6_port);
    }

    m_readNotifier = std::make_unique<QSocketNotifier>(m_fd.get(), QSocketNotifier::Read);
    m_readNotifier->setEnabled(false);
    connect(m_readNotifier.get(), &QSocketNotifier::activated, this, &LocalStreamSocket::readable);
    m_writeNotifier = std::make_unique<QSocketNotifier>(m_fd.get(), QSocketNotifier::Write);
    m_writeNotifier->setEnabled(false);
    connect(m_writeNotifier.get(), &QSocketNotifier::activated, this, &LocalStreamSocket::writable);
}

LocalStreamSocket::~LocalStreamSocket()
{
    close();
}

qint64 LocalStreamSocket::read(char *buffer, qint64 max)
{
    if (!m_fd.isValid())
        return -2;
    for (;;) {
        const ssize_t n = ::recv(m_fd.get(), buffer, size_t(max), 0);
        if (n >= 0)
            return qint64(n);
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -1;
        m_error = socketErrorFromErrno(errno, QStringLiteral("read from ") + peerString());
        return -2;
    }
}

qint64 LocalStreamSocket::write(const char *data, qint64 size)
{
    if (!m_fd.isValid() || m_writeShut)
        return -1;
    for (;;) {
        // MSG_NOSIGNAL: a closed application is an EPIPE error here, not a SIGPIPE.
        const ssize_t n = ::send(m_fd.get(), data, size_t(size), MSG_NOSIGNAL);
        if (n >= 0)
            return qint64(n);
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        m_error = socketErrorFromErrno(errno, QStringLiteral("write to ") + peerString());
        return -1;
    }
}

void LocalStreamSocket::shutdownWrite()
{
    if (!m_fd.isValid() || std::exchange(m_writeShut, true))
        return;
    (void)::shutdown(m_fd.get(), SHUT_WR);
    setWriteNotification(false);
}

void LocalStreamSocket::abortOnClose()
{
    if (!m_fd.isValid())
        return;
    // RFC 9293, 3.6: closing with a zero linger time aborts the connection (RST).
    linger option{1, 0};
    (void)::setsockopt(m_fd.get(), SOL_SOCKET, SO_LINGER, &option, sizeof(option));
}

void LocalStreamSocket::close()
{
    m_readNotifier.reset(); // before the descriptor they watch
    m_writeNotifier.reset();
    m_fd.reset();
}

void LocalStreamSocket::setReadEnabled(bool enabled)
{
    if (m_readNotifier)
        m_readNotifier->setEnabled(enabled);
}

void LocalStreamSocket::setWriteNotification(bool enabled)
{
    if (m_writeNotifier)
        m_writeNotifier->setEnabled(enabled && !m_writeShut);
}

QString LocalStreamSocket::peerString() const
{
    if (m_peerAddress.protocol() == QAbstractSocket::IPv6Protocol)
        return QStringLiteral("[%1]:%2").arg(m_peerAddress.toString()).arg(m_peerPort);
    return QStringLiteral("%1:%2").arg(m_peerAddress.toString()).arg(m_peerPort);
}

} // namespace qmasque
