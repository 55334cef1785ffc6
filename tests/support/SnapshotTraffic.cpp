#include "support/SnapshotTraffic.h"

#include <array>

namespace qmasque::test::traffic {

namespace {

constexpr std::array kUdpTargets = {"dns.google:53",           "1.1.1.1:53",
                                    "time.cloudflare.com:123", "stun.example.org:3478",
                                    "[2606:4700::1111]:53",    "quic.example.org:443",
                                    "game.example.net:27015"};
constexpr std::array kTcpTargets = {
    "example.com:443",      "github.com:443",      "api.example.org:443",
    "mail.example.net:993", "ssh.example.org:22",  "news.example.com:80",
    "[2001:db8::10]:443",   "cdn.example.net:443", "chat.example.org:5222"};
constexpr std::array kIpTargets = {"10.0.0.0/8", "192.0.2.0/24", "::/0"};
constexpr std::array kCiphers = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                 "TLS_CHACHA20_POLY1305_SHA256"};
constexpr std::array kGroups = {"x25519", "secp256r1", "X25519MLKEM768"};
// RFC 9209 error types with the statuses proxies send them with.
constexpr std::array kRefusals = {
    std::pair{403, "destination_ip_prohibited"}, std::pair{502, "dns_error; rcode=NXDOMAIN"},
    std::pair{504, "connection_timeout"}, std::pair{502, "connection_refused"}};

template<typename Array>
QString pick(QRandomGenerator &random, const Array &values)
{
    return QString::fromUtf8(values[random.bounded(int(values.size()))]);
}

qint64 between(QRandomGenerator &random, qint64 low, qint64 high)
{
    return random.bounded(low, high + 1);
}

} // namespace

QString udpTarget(QRandomGenerator &random)
{
    return pick(random, kUdpTargets);
}

QString tcpTarget(QRandomGenerator &random)
{
    return pick(random, kTcpTargets);
}

QString ipTarget(QRandomGenerator &random)
{
    return pick(random, kIpTargets);
}

QString tlsCipher(QRandomGenerator &random)
{
    return pick(random, kCiphers);
}

QString tlsGroup(QRandomGenerator &random)
{
    return pick(random, kGroups);
}

std::pair<int, QString> refusal(QRandomGenerator &random)
{
    const auto &[status, error] = kRefusals[random.bounded(int(kRefusals.size()))];
    return {status, QString::fromLatin1(error)};
}

QList<RaceAttempt> raceAttempts(QRandomGenerator &random, std::optional<TransportKind> winner)
{
    const QString won = QStringLiteral("won");
    const QString cancelled = QStringLiteral("cancelled");
    if (!winner) // UDP blocked, and a pin that matches neither TCP path
        return {
            {TransportKind::H3, 0, 5000, QStringLiteral("handshake_timeout")},
            {TransportKind::H2, 250, between(random, 60, 400), QStringLiteral("tls_pin_mismatch")},
            {TransportKind::H1, 750, between(random, 60, 400), QStringLiteral("tls_pin_mismatch")}};
    switch (*winner) {
    case TransportKind::H3: {
        const qint64 h3 = between(random, 18, 320);
        if (h3 <= 250)
            return {{TransportKind::H3, 0, h3, won}};
        return {{TransportKind::H3, 0, h3, won}, {TransportKind::H2, 250, h3 - 250, cancelled}};
    }
    case TransportKind::H2: {
        const bool h3Failed = random.generateDouble() < 0.6;
        const qint64 h2 = between(random, 30, 200);
        return {{TransportKind::H3, 0, h3Failed ? between(random, 60, 240) : 250 + h2,
                 h3Failed ? QStringLiteral("quic_handshake_failed") : cancelled},
                {TransportKind::H2, 250, h2, won}};
    }
    case TransportKind::H1: {
        const qint64 h1 = between(random, 40, 220);
        return {{TransportKind::H3, 0, 750 + h1, cancelled},
                {TransportKind::H2, 250, between(random, 40, 300),
                 QStringLiteral("no_extended_connect")},
                {TransportKind::H1, 750, h1, won}};
    }
    }
    return {};
}

} // namespace qmasque::test::traffic
