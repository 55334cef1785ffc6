// udp_echo: a UDP echo server for the benchmarks, batched with recvmmsg/sendmmsg so the echo is
// never the bottleneck. Prints "udp_echo listening PORT" once bound, then echoes until killed;
// on SIGTERM/SIGINT prints "udp_echo echoed N" and exits 0.
//   udp_echo [--listen ADDR:PORT]   (default 127.0.0.1:0)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

std::atomic<bool> g_stop{false};

void handleSignal(int)
{
    g_stop = true;
}

bool parseListen(const std::string &text, sockaddr_storage &address, socklen_t &length)
{
    const auto colon = text.rfind(':');
    if (colon == std::string::npos)
        return false;
    std::string host = text.substr(0, colon);
    const int port = std::atoi(text.c_str() + colon + 1);
    if (port < 0 || port > 65535)
        return false;
    std::memset(&address, 0, sizeof address);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
        auto *v6 = reinterpret_cast<sockaddr_in6 *>(&address);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(uint16_t(port));
        length = sizeof *v6;
        return inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1;
    }
    auto *v4 = reinterpret_cast<sockaddr_in *>(&address);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(uint16_t(port));
    length = sizeof *v4;
    return inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1;
}

} // namespace

int main(int argc, char *argv[])
{
    std::string listen = "127.0.0.1:0";
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else {
            std::fprintf(stderr, "usage: udp_echo [--listen ADDR:PORT]\n");
            return 2;
        }
    }
    sockaddr_storage address{};
    socklen_t length = 0;
    if (!parseListen(listen, address, length)) {
        std::fprintf(stderr, "udp_echo: bad address %s\n", listen.c_str());
        return 2;
    }
    const int fd = socket(address.ss_family, SOCK_DGRAM, 0);
    const int buffer = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&address), length) != 0) {
        std::perror("udp_echo: bind");
        return 1;
    }
    getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length);
    const int port = address.ss_family == AF_INET6
                         ? ntohs(reinterpret_cast<sockaddr_in6 *>(&address)->sin6_port)
                         : ntohs(reinterpret_cast<sockaddr_in *>(&address)->sin_port);
    std::printf("udp_echo listening %d\n", port);
    std::fflush(stdout);

    struct sigaction action
    {};
    action.sa_handler = handleSignal; // no SA_RESTART: recvmmsg returns EINTR
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);

    constexpr int kBatch = 64;
    constexpr int kSize = 65536;
    static std::array<std::array<char, kSize>, kBatch> payloads;
    std::array<mmsghdr, kBatch> messages{};
    std::array<iovec, kBatch> vectors{};
    std::array<sockaddr_storage, kBatch> peers{};
    unsigned long long echoed = 0;
    while (!g_stop) {
        for (int i = 0; i < kBatch; ++i) {
            vectors[i] = {payloads[i].data(), kSize};
            messages[i].msg_hdr = {};
            messages[i].msg_hdr.msg_iov = &vectors[i];
            messages[i].msg_hdr.msg_iovlen = 1;
            messages[i].msg_hdr.msg_name = &peers[i];
            messages[i].msg_hdr.msg_namelen = sizeof peers[i];
        }
        const int received = recvmmsg(fd, messages.data(), kBatch, MSG_WAITFORONE, nullptr);
        if (received <= 0)
            continue;
        for (int i = 0; i < received; ++i)
            vectors[i].iov_len = messages[i].msg_len;
        int sent = 0;
        while (sent < received) {
            const int n = sendmmsg(fd, messages.data() + sent, unsigned(received - sent), 0);
            if (n <= 0)
                break;
            sent += n;
        }
        echoed += unsigned(sent);
    }
    std::printf("udp_echo echoed %llu\n", echoed);
    close(fd);
    return 0;
}
