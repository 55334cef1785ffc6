#include "support/FrontEndPinger.h"

#include "wire/InternetChecksum.h"

#include <QtTest/QTest>

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace qmasque::test {

int rawPing(const wire::IpAddress &target, int count, int timeoutMs)
{
    const bool v4 = target.isIpv4();
    const int fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                            v4 ? int(IPPROTO_ICMP) : int(IPPROTO_ICMPV6));
    if (fd < 0)
        return -1;
    sockaddr_storage address{};
    socklen_t length = 0;
    if (v4) {
        auto *in = reinterpret_cast<sockaddr_in *>(&address);
        in->sin_family = AF_INET;
        std::memcpy(&in->sin_addr, target.bytes().data(), 4);
        length = sizeof(sockaddr_in);
    } else {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(&address);
        in6->sin6_family = AF_INET6;
        std::memcpy(&in6->sin6_addr, target.bytes().data(), 16);
        length = sizeof(sockaddr_in6);
    }
    const quint16 identifier = quint16(::getpid());
    int replies = 0;
    for (int sequence = 1; sequence <= count; ++sequence) {
        // Echo Request: type, code, checksum, identifier, sequence, data (RFC 792; RFC 4443, 4.1).
        QByteArray echo(8, '\0');
        echo[0] = char(v4 ? 8 : 128);
        echo[4] = char(identifier >> 8);
        echo[5] = char(identifier & 0xff);
        echo[7] = char(sequence);
        echo.append("qmasque tun ping");
        if (v4) {
            const quint16 checksum = wire::internetChecksum(echo);
            echo[2] = char(checksum >> 8);
            echo[3] = char(checksum & 0xff);
        } // ICMPv6 raw sockets get the checksum from the kernel (RFC 3542, 3.1)
        if (::sendto(fd, echo.constData(), size_t(echo.size()), 0,
                     reinterpret_cast<const sockaddr *>(&address), length) != echo.size())
            continue;
        const bool answered = QTest::qWaitFor(
            [&] {
                char buffer[2048];
                for (;;) {
                    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
                    if (n <= 0)
                        return false;
                    // IPv4 raw sockets deliver the IP header; IPv6 ones do not.
                    const qsizetype offset = v4 ? (buffer[0] & 0x0f) * 4 : 0;
                    if (n < offset + 8)
                        continue;
                    const QByteArrayView icmp(buffer + offset, n - offset);
                    const bool reply =
                        quint8(icmp[0]) == (v4 ? 0 : 129) && quint8(icmp[4]) == (identifier >> 8) &&
                        quint8(icmp[5]) == (identifier & 0xff) && quint8(icmp[7]) == sequence;
                    if (reply && (!v4 || wire::internetChecksum(icmp) == 0))
                        return true;
                }
            },
            timeoutMs);
        if (answered)
            ++replies;
    }
    ::close(fd);
    return replies;
}

} // namespace qmasque::test
