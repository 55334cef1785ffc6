// udp_pace: sends fixed-size UDP datagrams at a paced rate to an echo (directly, or through a
// qmasque --udp-forward port), matches the echoes and prints one JSON line:
//   {"rate_target":..,"sent":..,"received":..,"loss_pct":..,"rtt_p50_us":..,"rtt_p99_us":..,
//    "rtt_max_us":..,"goodput_mbps":..,"send_rate":..,"duplicates":..,"late":..}
// "late" counts datagrams the sender put out more than 2 ms after their scheduled time. It sends
// what is due every 250 us tick (sendmmsg), so it paces at that granularity.
// Each datagram carries an 8-byte sequence number and the 8-byte send time (CLOCK_MONOTONIC ns),
// so no per-datagram state is kept beyond a received bitmap.
//   udp_pace --target ADDR:PORT [--rate PPS] [--size BYTES] [--seconds S] [--drain-ms MS]

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace {

uint64_t nowNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

bool parseTarget(const std::string &text, sockaddr_storage &address, socklen_t &length)
{
    const auto colon = text.rfind(':');
    if (colon == std::string::npos)
        return false;
    std::string host = text.substr(0, colon);
    const int port = std::atoi(text.c_str() + colon + 1);
    std::memset(&address, 0, sizeof address);
    if (host.size() > 2 && host.front() == '[') {
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
    return port > 0 && port < 65536 && inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1;
}

uint64_t percentile(std::vector<uint32_t> &samples, double p)
{
    if (samples.empty())
        return 0;
    const auto index = size_t(p * double(samples.size() - 1));
    std::nth_element(samples.begin(), samples.begin() + long(index), samples.end());
    return samples[index];
}

} // namespace

int main(int argc, char *argv[])
{
    std::string target;
    double rate = 10000;
    int size = 1200;
    double seconds = 5;
    int drainMs = 500;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool hasValue = i + 1 < argc;
        if (arg == "--target" && hasValue)
            target = argv[++i];
        else if (arg == "--rate" && hasValue)
            rate = std::atof(argv[++i]);
        else if (arg == "--size" && hasValue)
            size = std::atoi(argv[++i]);
        else if (arg == "--seconds" && hasValue)
            seconds = std::atof(argv[++i]);
        else if (arg == "--drain-ms" && hasValue)
            drainMs = std::atoi(argv[++i]);
        else {
            std::fprintf(stderr, "usage: udp_pace --target ADDR:PORT [--rate PPS] [--size BYTES] "
                                 "[--seconds S] [--drain-ms MS]\n");
            return 2;
        }
    }
    sockaddr_storage address{};
    socklen_t length = 0;
    if (!parseTarget(target, address, length) || size < 16 || size > 65507 || rate <= 0 ||
        seconds <= 0) {
        std::fprintf(stderr, "udp_pace: bad arguments\n");
        return 2;
    }
    const int fd = socket(address.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    const int buffer = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr *>(&address), length) != 0) {
        std::perror("udp_pace: connect");
        return 1;
    }

    const uint64_t total = uint64_t(rate * seconds);
    std::vector<uint8_t> seen(total, 0);
    std::vector<uint32_t> rtts;
    rtts.reserve(total);
    constexpr int kBatch = 64;
    constexpr uint64_t kTickNs = 250000;
    std::vector<char> out(size_t(size) * kBatch, 'q');
    std::array<std::array<char, 65536>, kBatch> in{};
    std::array<mmsghdr, kBatch> messages{};
    std::array<iovec, kBatch> vectors{};
    uint64_t sent = 0, received = 0, duplicates = 0, late = 0, sendErrors = 0;

    const auto drainReceive = [&] {
        for (;;) {
            for (int i = 0; i < kBatch; ++i) {
                vectors[i] = {in[i].data(), in[i].size()};
                messages[i].msg_hdr = {};
                messages[i].msg_hdr.msg_iov = &vectors[i];
                messages[i].msg_hdr.msg_iovlen = 1;
            }
            const int n = recvmmsg(fd, messages.data(), kBatch, MSG_DONTWAIT, nullptr);
            if (n <= 0)
                return;
            const uint64_t now = nowNs();
            for (int i = 0; i < n; ++i) {
                if (messages[i].msg_len < 16)
                    continue;
                uint64_t seq = 0, stamp = 0;
                std::memcpy(&seq, in[i].data(), 8);
                std::memcpy(&stamp, in[i].data() + 8, 8);
                if (seq >= total || stamp > now)
                    continue;
                if (seen[seq]) {
                    ++duplicates;
                    continue;
                }
                seen[seq] = 1;
                ++received;
                rtts.push_back(uint32_t(std::min<uint64_t>((now - stamp) / 1000, UINT32_MAX)));
            }
        }
    };

    const uint64_t start = nowNs();
    const uint64_t interval = uint64_t(1e9 / rate);
    while (sent < total) {
        const uint64_t now = nowNs();
        uint64_t due = std::min<uint64_t>(total, (now - start) / interval + 1);
        while (sent < due) {
            const int count = int(std::min<uint64_t>(kBatch, due - sent));
            for (int i = 0; i < count; ++i) {
                char *p = out.data() + size_t(i) * size_t(size);
                const uint64_t seq = sent + uint64_t(i);
                const uint64_t stamp = nowNs();
                // The sender itself fell behind its schedule (CPU): reported, not hidden.
                if (stamp > start + seq * interval + 2000000)
                    ++late;
                std::memcpy(p, &seq, 8);
                std::memcpy(p + 8, &stamp, 8);
                vectors[i] = {p, size_t(size)};
                messages[i].msg_hdr = {};
                messages[i].msg_hdr.msg_iov = &vectors[i];
                messages[i].msg_hdr.msg_iovlen = 1;
            }
            const int n = sendmmsg(fd, messages.data(), unsigned(count), 0);
            if (n <= 0) {
                ++sendErrors;
                pollfd pfd{fd, POLLOUT, 0};
                poll(&pfd, 1, 1);
                break;
            }
            sent += uint64_t(n);
        }
        drainReceive();
        // Sleep until the next datagram is due, but at least one tick: a sender that spins (or
        // wakes per datagram) eats the CPU the path under test needs on a small machine. Echoes
        // wait in the 8 MiB receive buffer meanwhile; at 200 000/s a tick holds 50 datagrams.
        const uint64_t next = start + (sent + 1) * interval;
        const uint64_t after = nowNs();
        const uint64_t wait = std::max<uint64_t>(next > after ? next - after : 0, kTickNs);
        const timespec pause{time_t(wait / 1000000000ull), long(wait % 1000000000ull)};
        nanosleep(&pause, nullptr);
    }
    const uint64_t sendEnd = nowNs();
    const uint64_t drainUntil = sendEnd + uint64_t(drainMs) * 1000000ull;
    while (nowNs() < drainUntil && received < sent) {
        pollfd pfd{fd, POLLIN, 0};
        poll(&pfd, 1, 10);
        drainReceive();
    }
    const double elapsed = double(sendEnd - start) / 1e9;
    const double loss = sent ? 100.0 * double(sent - received) / double(sent) : 0;
    const uint64_t p50 = percentile(rtts, 0.50);
    const uint64_t p99 = percentile(rtts, 0.99);
    const uint64_t max = rtts.empty() ? 0 : *std::max_element(rtts.begin(), rtts.end());
    std::printf("{\"rate_target\":%.0f,\"size\":%d,\"sent\":%llu,\"received\":%llu,"
                "\"loss_pct\":%.3f,\"rtt_p50_us\":%llu,\"rtt_p99_us\":%llu,\"rtt_max_us\":%llu,"
                "\"goodput_mbps\":%.1f,\"send_rate\":%.0f,\"duplicates\":%llu,\"late\":%llu,"
                "\"send_errors\":%llu}\n",
                rate, size, (unsigned long long)sent, (unsigned long long)received, loss,
                (unsigned long long)p50, (unsigned long long)p99, (unsigned long long)max,
                double(received) * size * 8 / elapsed / 1e6, double(sent) / elapsed,
                (unsigned long long)duplicates, (unsigned long long)late,
                (unsigned long long)sendErrors);
    close(fd);
    return 0;
}
