#pragma once

#include "api/Result.h"
#include "api/Types.h"

#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringList>

namespace qmasque {

// Endpoint: a host (name or IP literal, IPv6 without brackets) and a port.
struct Endpoint
{
    QString host;
    quint16 port = 0;

    // toString: "host:port", IPv6 in brackets.
    QString toString() const;
    friend bool operator==(const Endpoint &, const Endpoint &) = default;
};

// parseEndpoint: "HOST:PORT", "[V6]:PORT", or "PORT" alone when `defaultHost` is given.
Result<Endpoint> parseEndpoint(QStringView text, QStringView defaultHost = {});

// Forward: a local port that forwards to a fixed target through a tunnel
// ("--udp-forward 127.0.0.1:5353=dns.example:53").
struct Forward
{
    Endpoint local;
    Endpoint target;

    QString toString() const; // "LOCAL=TARGET"
    friend bool operator==(const Forward &, const Forward &) = default;
};

// parseForward: "[ADDR:]PORT=HOST:PORT"; the local address defaults to 127.0.0.1.
Result<Forward> parseForward(QStringView text);

enum class TcpMode : quint8
{
    Connect,  // classic CONNECT (RFC 9110, 9.3.6): works with every HTTP proxy
    Template, // templated connect-tcp (draft-ietf-httpbis-connect-tcp)
};

// ProfileOption: one profile key as a command-line option ("--udp-forward LOCAL=TARGET").
struct ProfileOption
{
    QString key;       // JSON key and long option name
    QString valueName; // empty for a flag without value
    QString help;
    bool repeatable = false;
};

// Profile: one complete client configuration. The JSON keys are the long command-line flag
// names ("proxy", "pin-sha256", "udp-forward"), so a profile file and a command line read alike.
// Values are validated by validate(); every error names the key.
struct Profile
{
    QString name = QStringLiteral("default");

    // Upstream proxy and how to reach it.
    QString proxy; // https://HOST[:PORT]
    QList<TransportKind> transports = {TransportKind::H3, TransportKind::H2, TransportKind::H1};
    QString ca;            // PEM trust anchors in addition to the system store
    QStringList pinSha256; // base64 (or hex) SHA-256 pins of the proxy's SPKI or certificate
    bool insecure = false; // no certificate verification (logged loudly)
    QString sni;           // TLS server name override
    QString clientCert;    // mTLS certificate (PEM)
    QString clientKey;     // mTLS key (PEM)
    QString proxyAuth;     // "basic:USER:PASS" or "bearer:TOKEN"
    QStringList headers;   // extra request headers, "NAME:VALUE"
    QString udpTemplate;   // empty = /.well-known/masque/udp/{target_host}/{target_port}/
    QString tcpTemplate;   // empty = /.well-known/masque/tcp/{target_host}/{target_port}/
    QString ipTemplate;    // empty = /.well-known/masque/ip/{target}/{ipproto}/
    TcpMode tcpMode = TcpMode::Connect;

    // What local applications talk to (all on loopback unless an address is given).
    QString socks;     // "ADDR:PORT"; empty = off
    QString socksAuth; // "USER:PASS" (RFC 1929); empty = no authentication
    QString httpProxy; // "ADDR:PORT"; empty = off
    QList<Forward> udpForwards;
    QList<Forward> tcpForwards;
    int udpIdleMs = 60000; // a UDP forward closes a peer's tunnel after this quiet; 0 = never
    QString tun;           // TUN device name; empty = off

    // Pool and racing. Times in milliseconds.
    int poolIdleMs = 30000;       // close an unused upstream connection after this; 0 = never
    int poolMaxStreams = 0;       // per connection; 0 = dynamic (the peer's limit)
    int poolMaxConnections = 128; // upstream connections per proxy and transport that take tunnels
    int connectTimeoutMs = 5000;
    int h2HeadStartMs = 250; // h2 starts this long after h3
    int h1HeadStartMs = 500; // h1 starts this long after h2

    // Observability.
    QString snapshot; // file the pool snapshot JSON is written to; empty = off
    int snapshotMs = 1000;
    QString metrics; // "ADDR:PORT" of the OpenMetrics endpoint; empty = off
    QString logLevel = QStringLiteral("info"); // debug | info | warning | error

    bool demo = false;

    // validate: every field checked; the first problem, as invalid_config naming the key.
    Status validate() const;

    QJsonObject toJson() const;
    // fromJson: unknown keys and wrongly typed values are errors naming the key.
    static Result<Profile> fromJson(const QJsonObject &object);

    // options: every key as a command-line option, in the order --help lists them.
    static QList<ProfileOption> options();
    // applyOption: sets `key` from command-line values (the last one wins for single values;
    // repeatable keys take all; flags take none). Errors name the key, as validate() does.
    Status applyOption(const QString &key, const QStringList &values);

    static Result<Profile> load(const QString &path);
    // save: writes atomically (QSaveFile).
    Status save(const QString &path) const;
    // defaultPath: the profile file under the user's configuration directory.
    static QString defaultPath();

    friend bool operator==(const Profile &, const Profile &) = default;
};

} // namespace qmasque
Q_DECLARE_METATYPE(qmasque::Profile)
