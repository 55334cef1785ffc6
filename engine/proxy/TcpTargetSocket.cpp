#include "proxy/TcpTargetSocket.h"

#include <QtCore/QMetaObject>

#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace qmasque {

namespace {

constexpr int kSocketBuffer = 4 * 1024 * 1024;

} // namespace

TcpTargetSocket::TcpTargetSocket(QObject *parent)
    : QObject(parent)
{}

TcpTargetSocket::~TcpTargetSocket()
{
    // Notifiers go before the descriptor they watch.
    m_readNotifier.reset();
    m_writeNotifier.reset();
}

void TcpTargetSocket::connectTo(const QHostAddress &address, quint16 port)
{
    m_address = address;
    m_port = port;
    const SocketAddress to = SocketAddress::from(address, port);
    if (to.length == 0) {
        fail(Error(ErrorCode::NetworkUnreachable, QStringLiteral("not an IP address")));
        return;
    }
    auto fd = openNonBlockingSocket(to.family(), SOCK_STREAM);
    if (!fd) {
        fail(fd.error());
        return;
    }
    m_fd = std::move(fd.value());
    const int one = 1;
    // Tunnel bytes are forwarded as they come: no Nagle delay on the target side.
    (void)::setsockopt(m_fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setSocketBuffers(m_fd.get(), kSocketBuffer, kSocketBuffer);
    if (::connect(m_fd.get(), to.get(), to.length) != 0 && errno != EINPROGRESS) {
        fail(socketErrorFromErrno(errno, QStringLiteral("connect %1").arg(address.toString())));
        return;
    }
    m_readNotifier = std::make_unique<QSocketNotifier>(m_fd.get(), QSocketNotifier::Read);
    m_readNotifier->setEnabled(false);
    connect(m_readNotifier.get(), &QSocketNotifier::activated, this, [this] {
        if (!m_failed)
            Q_EMIT readable();
    });
    m_writeNotifier = std::make_unique<QSocketNotifier>(m_fd.get(), QSocketNotifier::Write);
    connect(m_writeNotifier.get(), &QSocketNotifier::activated, this,
            &TcpTargetSocket::handleWritable);
}

void TcpTargetSocket::handleWritable()
{
    if (m_failed)
        return;
    if (m_connected) {
        Q_EMIT writable();
        return;
    }
    // The non-blocking connect finished: SO_ERROR says how (connect(2), EINPROGRESS).
    int error = 0;
    socklen_t length = sizeof(error);
    if (::getsockopt(m_fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0)
        error = errno;
    if (error != 0) {
        fail(socketErrorFromErrno(error, QStringLiteral("connect %1").arg(m_address.toString())));
        return;
    }
    m_connected = true;
    m_writeNotifier->setEnabled(false);
    Q_EMIT connected();
}

qint64 TcpTargetSocket::read(char *buffer, qint64 max)
{
    if (m_failed || !m_connected)
        return -2;
    const ssize_t n = ::recv(m_fd.get(), buffer, size_t(max), 0);
    if (n >= 0)
        return qint64(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return -1;
    m_failed = true;
    m_error = socketErrorFromErrno(errno, QStringLiteral("read from the target"));
    return -2;
}

qint64 TcpTargetSocket::write(const char *data, qint64 size)
{
    if (m_failed || !m_connected || m_writeShut)
        return -1;
    // MSG_NOSIGNAL: a target that went away is an error, not a SIGPIPE.
    const ssize_t n = ::send(m_fd.get(), data, size_t(size), MSG_NOSIGNAL);
    if (n >= 0)
        return qint64(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    m_failed = true;
    m_error = socketErrorFromErrno(errno, QStringLiteral("write to the target"));
    return -1;
}

void TcpTargetSocket::shutdownWrite()
{
    if (m_writeShut || !m_fd.isValid())
        return;
    m_writeShut = true;
    (void)::shutdown(m_fd.get(), SHUT_WR);
}

void TcpTargetSocket::abortOnClose()
{
    if (!m_fd.isValid())
        return;
    const linger option{1, 0};
    (void)::setsockopt(m_fd.get(), SOL_SOCKET, SO_LINGER, &option, sizeof(option));
}

void TcpTargetSocket::setReadEnabled(bool enabled)
{
    if (m_readNotifier && m_connected)
        m_readNotifier->setEnabled(enabled && !m_failed);
}

void TcpTargetSocket::setWriteNotification(bool enabled)
{
    if (m_writeNotifier && m_connected)
        m_writeNotifier->setEnabled(enabled && !m_failed);
}

void TcpTargetSocket::fail(const Error &reason)
{
    if (m_failed)
        return;
    m_failed = true;
    m_error = reason;
    if (m_readNotifier)
        m_readNotifier->setEnabled(false);
    if (m_writeNotifier)
        m_writeNotifier->setEnabled(false);
    // Queued: connectTo() callers and notifier slots never see the signal inside their call.
    QMetaObject::invokeMethod(
        this, [this, reason] { Q_EMIT failed(reason); }, Qt::QueuedConnection);
}

} // namespace qmasque
