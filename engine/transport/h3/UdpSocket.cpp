#include "transport/h3/UdpSocket.h"

#include "core/Log.h"

#include <QtCore/QSocketNotifier>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

namespace qmasque::h3 {

namespace {

constexpr int kBatch = 32;                       // datagrams per recvmmsg
constexpr int kMaxPacketsPerWakeup = 8 * kBatch; // then yield to the event loop
constexpr int kSocketBufferBytes = 8 * 1024 * 1024;

std::atomic_bool g_bufferCapLogged{false};
std::atomic_bool g_gsoFallbackLogged{false};

// setBuffer: asks for `bytes` of kernel buffer, first past the sysctl cap (root), then within
// it; returns what the kernel granted (it reports twice the usable size).
int setBuffer(int fd, int forceOption, int option, int bytes)
{
    if (::setsockopt(fd, SOL_SOCKET, forceOption, &bytes, sizeof(bytes)) != 0)
        ::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof(bytes));
    int granted = 0;
    socklen_t length = sizeof(granted);
    ::getsockopt(fd, SOL_SOCKET, option, &granted, &length);
    return granted / 2;
}

Error errnoError(ErrorCode code, const char *what, int error)
{
    return Error(code, QStringLiteral("%1: %2").arg(QLatin1String(what),
                                                    QString::fromLocal8Bit(std::strerror(error))));
}

bool isBlocked(int error)
{
    return error == EAGAIN || error == EWOULDBLOCK;
}

// isDroppable: kernel refusals that must look like packet loss to QUIC, never like a stall.
bool isDroppable(int error)
{
    return error == EMSGSIZE || error == ENOBUFS || error == EPERM;
}

} // namespace

SocketAddress SocketAddress::fromHostAddress(const QHostAddress &address, quint16 port)
{
    SocketAddress result;
    if (address.protocol() == QAbstractSocket::IPv4Protocol || address == QHostAddress::AnyIPv4) {
        auto *in = reinterpret_cast<sockaddr_in *>(&result.storage);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(address.toIPv4Address());
        result.length = sizeof(sockaddr_in);
        return result;
    }
    auto *in6 = reinterpret_cast<sockaddr_in6 *>(&result.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        const Q_IPV6ADDR bytes = address.toIPv6Address();
        std::memcpy(&in6->sin6_addr, bytes.c, sizeof(bytes.c));
        bool ok = false;
        const uint scope = address.scopeId().toUInt(&ok);
        if (ok)
            in6->sin6_scope_id = scope;
    } // else: QHostAddress::Any, the IPv6 wildcard (in6addr_any is all zero)
    result.length = sizeof(sockaddr_in6);
    return result;
}

SocketAddress SocketAddress::fromNative(const sockaddr *address, socklen_t length)
{
    SocketAddress result;
    if (length > 0 && length <= socklen_t(sizeof(result.storage))) {
        std::memcpy(&result.storage, address, length);
        result.length = length;
    }
    return result;
}

QHostAddress SocketAddress::hostAddress() const
{
    return length > 0 ? QHostAddress(data()) : QHostAddress();
}

quint16 SocketAddress::port() const noexcept
{
    if (family() == AF_INET)
        return ntohs(reinterpret_cast<const sockaddr_in *>(&storage)->sin_port);
    if (family() == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6 *>(&storage)->sin6_port);
    return 0;
}

bool SocketAddress::isWildcard() const noexcept
{
    if (family() == AF_INET)
        return reinterpret_cast<const sockaddr_in *>(&storage)->sin_addr.s_addr == INADDR_ANY;
    if (family() == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(
            &reinterpret_cast<const sockaddr_in6 *>(&storage)->sin6_addr);
    return false;
}

bool operator==(const SocketAddress &a, const SocketAddress &b) noexcept
{
    return a.length == b.length && std::memcmp(&a.storage, &b.storage, a.length) == 0;
}

UdpSocket::UdpSocket(Receiver *receiver, QObject *parent)
    : QObject(parent)
    , m_receiver(receiver)
{}

UdpSocket::~UdpSocket()
{
    close();
}

Status UdpSocket::open(int family)
{
    close();
    m_fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (m_fd < 0)
        return errnoError(ErrorCode::Io, "socket", errno);
    configure();

    m_rxBuffer.resize(size_t(kBatch) * kSlotSize);
    m_rxMessages.resize(kBatch);
    m_rxVectors.resize(kBatch);
    m_rxNames.resize(kBatch);
    m_txMessages.resize(kMaxSegments);
    m_txVectors.resize(kMaxSegments);

    m_readNotifier = std::make_unique<QSocketNotifier>(m_fd, QSocketNotifier::Read);
    connect(m_readNotifier.get(), &QSocketNotifier::activated, this, &UdpSocket::handleReadable);
    m_writeNotifier = std::make_unique<QSocketNotifier>(m_fd, QSocketNotifier::Write);
    m_writeNotifier->setEnabled(false);
    connect(m_writeNotifier.get(), &QSocketNotifier::activated, this,
            &UdpSocket::handleWritableNotification);
    return {};
}

void UdpSocket::configure()
{
    // RFC 9000, 14: QUIC packets must not be fragmented; DF also makes PMTUD probes meaningful
    // (PMTUDISC_PROBE: set DF but do not clamp to the kernel's cached path MTU). An IPv6 socket
    // takes both, for the IPv4-mapped traffic of a dual-stack bind.
    const int probe = IP_PMTUDISC_PROBE;
    ::setsockopt(m_fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe));
    if (m_local.family() == AF_INET6) {
        const int one = 1;
        const int probe6 = IPV6_PMTUDISC_PROBE;
        ::setsockopt(m_fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &probe6, sizeof(probe6));
        ::setsockopt(m_fd, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof(one));
    }

    const int rcv = setBuffer(m_fd, SO_RCVBUFFORCE, SO_RCVBUF, kSocketBufferBytes);
    const int snd = setBuffer(m_fd, SO_SNDBUFFORCE, SO_SNDBUF, kSocketBufferBytes);
    if ((rcv < kSocketBufferBytes || snd < kSocketBufferBytes) &&
        !g_bufferCapLogged.exchange(true)) {
        qCInfo(lcQuic,
               "UDP socket buffers capped by the kernel at %d/%d bytes (receive/send); "
               "raise net.core.rmem_max and net.core.wmem_max for full throughput",
               rcv, snd);
    }

    // UDP_SEGMENT (Linux 4.18+) is readable exactly where it is supported.
    int segment = 0;
    socklen_t length = sizeof(segment);
    m_gso = ::getsockopt(m_fd, SOL_UDP, UDP_SEGMENT, &segment, &length) == 0;
}

Status UdpSocket::bind(const SocketAddress &local)
{
    m_local = local;
    if (Status opened = open(local.family()); !opened)
        return opened;
    if (local.family() == AF_INET6) {
        // QHostAddress::Any binds the IPv6 wildcard dual stack; an explicit "::" does too.
        const int v6only = 0;
        ::setsockopt(m_fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    }
    if (::bind(m_fd, local.data(), local.length) != 0) {
        const int error = errno;
        close();
        if (error == EADDRINUSE)
            return errnoError(ErrorCode::AddressInUse, "bind", error);
        if (error == EACCES || error == EPERM)
            return errnoError(ErrorCode::PermissionDenied, "bind", error);
        return errnoError(ErrorCode::Io, "bind", error);
    }
    m_local.length = sizeof(m_local.storage);
    ::getsockname(m_fd, m_local.data(), &m_local.length);
    return {};
}

Status UdpSocket::connectTo(const SocketAddress &remote)
{
    m_local = SocketAddress();
    m_local.storage.ss_family = sa_family_t(remote.family());
    if (Status opened = open(remote.family()); !opened)
        return opened;
    if (::connect(m_fd, remote.data(), remote.length) != 0) {
        const int error = errno;
        close();
        if (error == ENETUNREACH || error == EHOSTUNREACH)
            return errnoError(ErrorCode::NetworkUnreachable, "connect", error);
        return errnoError(ErrorCode::Io, "connect", error);
    }
    m_connected = true;
    m_local.length = sizeof(m_local.storage);
    ::getsockname(m_fd, m_local.data(), &m_local.length);
    return {};
}

void UdpSocket::close()
{
    m_readNotifier.reset();
    m_writeNotifier.reset();
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
    m_connected = false;
}

void UdpSocket::handleReadable()
{
    int received = 0;
    while (m_fd >= 0 && received < kMaxPacketsPerWakeup) {
        for (int i = 0; i < kBatch; ++i) {
            m_rxVectors[i].iov_base = m_rxBuffer.data() + size_t(i) * kSlotSize;
            m_rxVectors[i].iov_len = kSlotSize;
            msghdr &header = m_rxMessages[i].msg_hdr;
            header = msghdr{};
            header.msg_name = &m_rxNames[i].storage;
            header.msg_namelen = sizeof(m_rxNames[i].storage);
            header.msg_iov = &m_rxVectors[i];
            header.msg_iovlen = 1;
        }
        const int count = ::recvmmsg(m_fd, m_rxMessages.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (count < 0) {
            const int error = errno;
            if (error == EINTR)
                continue;
            if (!isBlocked(error))
                m_receiver->handleSocketError(error);
            break;
        }
        for (int i = 0; i < count; ++i) {
            const msghdr &header = m_rxMessages[i].msg_hdr;
            if (header.msg_flags & MSG_TRUNC)
                continue; // larger than any QUIC packet we accept
            m_rxNames[i].length = header.msg_namelen;
            m_receiver->handleDatagram(m_rxNames[i], m_rxBuffer.data() + size_t(i) * kSlotSize,
                                       qsizetype(m_rxMessages[i].msg_len));
        }
        received += count;
        if (count < kBatch)
            break;
    }
    m_receiver->handleReadFinished();
}

void UdpSocket::waitForWritable()
{
    if (m_writeNotifier)
        m_writeNotifier->setEnabled(true);
}

void UdpSocket::handleWritableNotification()
{
    m_writeNotifier->setEnabled(false);
    m_receiver->handleWritable();
}

UdpSocket::SendResult UdpSocket::send(const SocketAddress *to, const quint8 *data, qsizetype size,
                                      qsizetype segmentSize)
{
    if (m_fd < 0)
        return {0, EBADF};
    if (m_connected)
        to = nullptr;
    if (segmentSize <= 0 || segmentSize >= size)
        segmentSize = size;
    if (m_gso && segmentSize < size) {
        SendResult result = sendGso(to, data, size, segmentSize);
        if (result.error != EIO && result.error != EINVAL)
            return result;
        // The device cannot segment (no checksum offload, say): send the same bytes one
        // packet per message from now on.
        m_gso = false;
        if (!g_gsoFallbackLogged.exchange(true))
            qCInfo(lcQuic, "UDP GSO unavailable on this path; sending packets one by one");
    }
    return sendEach(to, data, size, segmentSize);
}

UdpSocket::SendResult UdpSocket::sendGso(const SocketAddress *to, const quint8 *data,
                                         qsizetype size, qsizetype segmentSize)
{
    iovec vector{const_cast<quint8 *>(data), size_t(size)};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(quint16))] = {};
    msghdr header{};
    if (to) {
        header.msg_name = const_cast<sockaddr *>(to->data());
        header.msg_namelen = to->length;
    }
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = sizeof(control);
    cmsghdr *message = CMSG_FIRSTHDR(&header);
    message->cmsg_level = SOL_UDP;
    message->cmsg_type = UDP_SEGMENT;
    message->cmsg_len = CMSG_LEN(sizeof(quint16));
    const quint16 segment = quint16(segmentSize);
    std::memcpy(CMSG_DATA(message), &segment, sizeof(segment));

    for (;;) {
        if (::sendmsg(m_fd, &header, MSG_DONTWAIT) >= 0)
            return {size, 0};
        const int error = errno;
        if (error == EINTR)
            continue;
        if (isDroppable(error))
            return {size, 0};
        return {0, error};
    }
}

UdpSocket::SendResult UdpSocket::sendEach(const SocketAddress *to, const quint8 *data,
                                          qsizetype size, qsizetype segmentSize)
{
    qsizetype sent = 0;
    while (sent < size) {
        int count = 0;
        for (qsizetype offset = sent; offset < size && count < kMaxSegments;
             offset += segmentSize, ++count) {
            const qsizetype length = std::min(segmentSize, size - offset);
            m_txVectors[count].iov_base = const_cast<quint8 *>(data + offset);
            m_txVectors[count].iov_len = size_t(length);
            msghdr &header = m_txMessages[count].msg_hdr;
            header = msghdr{};
            if (to) {
                header.msg_name = const_cast<sockaddr *>(to->data());
                header.msg_namelen = to->length;
            }
            header.msg_iov = &m_txVectors[count];
            header.msg_iovlen = 1;
        }
        const int done = ::sendmmsg(m_fd, m_txMessages.data(), unsigned(count), MSG_DONTWAIT);
        if (done < 0) {
            const int error = errno;
            if (error == EINTR)
                continue;
            if (isDroppable(error)) {
                // The first message was refused: account it as sent (lost) and go on.
                sent = std::min(size, sent + segmentSize);
                continue;
            }
            return {sent, error};
        }
        sent = std::min(size, sent + qsizetype(done) * segmentSize);
    }
    return {sent, 0};
}

} // namespace qmasque::h3
