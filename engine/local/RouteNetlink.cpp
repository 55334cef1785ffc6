#include "local/RouteNetlink.h"

#include <cerrno>
#include <cstring>

#if defined(__linux__)
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#endif

namespace qmasque {

#if defined(__linux__)
namespace {

// The message is built in a QByteArray: a header, the family-specific struct, then attributes,
// each aligned to 4 bytes (NLMSG_ALIGN / RTA_ALIGN).
template<typename T>
QByteArray newMessage(quint16 type, quint16 flags, const T &body)
{
    QByteArray message(int(NLMSG_SPACE(sizeof(T))), '\0');
    auto *header = reinterpret_cast<nlmsghdr *>(message.data());
    header->nlmsg_type = type;
    header->nlmsg_flags = quint16(NLM_F_REQUEST | NLM_F_ACK | flags);
    std::memcpy(message.data() + NLMSG_HDRLEN, &body, sizeof(T));
    return message;
}

void addAttribute(QByteArray &message, quint16 type, const void *data, size_t size)
{
    const qsizetype offset = message.size();
    message.resize(offset + qsizetype(RTA_SPACE(size)));
    std::memset(message.data() + offset, 0, RTA_SPACE(size));
    auto *attribute = reinterpret_cast<rtattr *>(message.data() + offset);
    attribute->rta_type = type;
    attribute->rta_len = quint16(RTA_LENGTH(size));
    std::memcpy(RTA_DATA(attribute), data, size);
}

void addAddressAttribute(QByteArray &message, quint16 type, const wire::IpAddress &address)
{
    const QByteArrayView bytes = address.bytes();
    addAttribute(message, type, bytes.data(), size_t(bytes.size()));
}

int familyOf(const wire::IpAddress &address)
{
    return address.isIpv4() ? AF_INET : AF_INET6;
}

Error netlinkError(int error, const QString &what)
{
    const QString detail = what + QStringLiteral(": ") + QString::fromLocal8Bit(strerror(error));
    if (error == EPERM || error == EACCES)
        return Error(ErrorCode::PermissionDenied,
                     detail + QStringLiteral(" (configuring a TUN device needs CAP_NET_ADMIN)"));
    return Error(ErrorCode::Io, detail);
}

} // namespace

Status RouteNetlink::open()
{
    const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return netlinkError(errno, QStringLiteral("netlink socket"));
    m_fd.reset(fd);
    timeval timeout{kAckTimeoutMs / 1000, (kAckTimeoutMs % 1000) * 1000};
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (::bind(fd, reinterpret_cast<const sockaddr *>(&local), sizeof(local)) != 0)
        return netlinkError(errno, QStringLiteral("netlink bind"));
    return {};
}

Status RouteNetlink::request(QByteArray &message, const char *what, int ignoredError)
{
    if (!m_fd.isValid())
        return Error(ErrorCode::Internal, QStringLiteral("netlink is not open"));
    auto *header = reinterpret_cast<nlmsghdr *>(message.data());
    header->nlmsg_len = quint32(message.size());
    header->nlmsg_seq = ++m_sequence;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(m_fd.get(), message.constData(), size_t(message.size()), 0,
                 reinterpret_cast<const sockaddr *>(&kernel), sizeof(kernel)) < 0)
        return netlinkError(errno, QString::fromLatin1(what));
    // The acknowledgement: an NLMSG_ERROR carrying 0 (success) or -errno, for our sequence.
    alignas(nlmsghdr) char buffer[8192];
    for (;;) {
        const ssize_t n = ::recv(m_fd.get(), buffer, sizeof(buffer), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return netlinkError(errno, QString::fromLatin1(what) + QStringLiteral(" (no answer)"));
        }
        int length = int(n);
        for (auto *reply = reinterpret_cast<nlmsghdr *>(buffer); NLMSG_OK(reply, length);
             reply = NLMSG_NEXT(reply, length)) {
            if (reply->nlmsg_seq != m_sequence || reply->nlmsg_type != NLMSG_ERROR)
                continue;
            if (reply->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr)))
                return Error(ErrorCode::Io, QString::fromLatin1(what) +
                                                QStringLiteral(": truncated netlink answer"));
            const auto *error = static_cast<const nlmsgerr *>(NLMSG_DATA(reply));
            if (error->error == 0 || -error->error == ignoredError)
                return {};
            return netlinkError(-error->error, QString::fromLatin1(what));
        }
    }
}

Status RouteNetlink::setLinkUp(int ifindex, int mtu)
{
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    info.ifi_index = ifindex;
    info.ifi_flags = IFF_UP;
    info.ifi_change = IFF_UP;
    QByteArray message = newMessage(RTM_NEWLINK, 0, info);
    const quint32 value = quint32(mtu);
    addAttribute(message, IFLA_MTU, &value, sizeof(value));
    return request(message, "set link up and MTU");
}

Status RouteNetlink::addAddress(int ifindex, const wire::IpPrefix &prefix)
{
    ifaddrmsg info{};
    info.ifa_family = quint8(familyOf(prefix.address));
    info.ifa_prefixlen = quint8(prefix.length);
    info.ifa_scope = RT_SCOPE_UNIVERSE;
    info.ifa_index = quint32(ifindex);
    if (prefix.address.isIpv6())
        info.ifa_flags = IFA_F_NODAD;
    QByteArray message = newMessage(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, info);
    addAddressAttribute(message, IFA_LOCAL, prefix.address);
    addAddressAttribute(message, IFA_ADDRESS, prefix.address);
    return request(message, "add address");
}

Status RouteNetlink::removeAddress(int ifindex, const wire::IpPrefix &prefix)
{
    ifaddrmsg info{};
    info.ifa_family = quint8(familyOf(prefix.address));
    info.ifa_prefixlen = quint8(prefix.length);
    info.ifa_index = quint32(ifindex);
    QByteArray message = newMessage(RTM_DELADDR, 0, info);
    addAddressAttribute(message, IFA_LOCAL, prefix.address);
    return request(message, "remove address", EADDRNOTAVAIL); // gone already: fine
}

Status RouteNetlink::addRoute(int ifindex, const wire::IpPrefix &destination,
                              const wire::IpAddress &source)
{
    rtmsg info{};
    info.rtm_family = quint8(familyOf(destination.address));
    info.rtm_dst_len = quint8(destination.length);
    info.rtm_table = RT_TABLE_MAIN;
    info.rtm_protocol = RTPROT_STATIC;
    info.rtm_scope = RT_SCOPE_LINK;
    info.rtm_type = RTN_UNICAST;
    QByteArray message = newMessage(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, info);
    addAddressAttribute(message, RTA_DST, destination.address);
    const quint32 oif = quint32(ifindex);
    addAttribute(message, RTA_OIF, &oif, sizeof(oif));
    if (!source.isNull() && source.version() == destination.address.version())
        addAddressAttribute(message, RTA_PREFSRC, source);
    return request(message, "add route");
}

Status RouteNetlink::removeRoute(int ifindex, const wire::IpPrefix &destination)
{
    rtmsg info{};
    info.rtm_family = quint8(familyOf(destination.address));
    info.rtm_dst_len = quint8(destination.length);
    info.rtm_table = RT_TABLE_MAIN;
    info.rtm_scope = RT_SCOPE_NOWHERE;
    QByteArray message = newMessage(RTM_DELROUTE, 0, info);
    addAddressAttribute(message, RTA_DST, destination.address);
    const quint32 oif = quint32(ifindex);
    addAttribute(message, RTA_OIF, &oif, sizeof(oif));
    return request(message, "remove route", ESRCH); // gone already (with the link): fine
}

#else

Status RouteNetlink::open()
{
    return Error(ErrorCode::NotSupported, QStringLiteral("rtnetlink is Linux only"));
}
Status RouteNetlink::setLinkUp(int, int)
{
    return open();
}
Status RouteNetlink::addAddress(int, const wire::IpPrefix &)
{
    return open();
}
Status RouteNetlink::removeAddress(int, const wire::IpPrefix &)
{
    return open();
}
Status RouteNetlink::addRoute(int, const wire::IpPrefix &, const wire::IpAddress &)
{
    return open();
}
Status RouteNetlink::removeRoute(int, const wire::IpPrefix &)
{
    return open();
}
Status RouteNetlink::request(QByteArray &, const char *, int)
{
    return open();
}

#endif

} // namespace qmasque
