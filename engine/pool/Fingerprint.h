#pragma once

#include "api/Types.h"
#include "transport/ConnectOptions.h"

#include <QtCore/QByteArray>
#include <QtCore/QHashFunctions>
#include <QtCore/QString>

#include <cstddef>

namespace qmasque {

// UpstreamEndpoint: one proxy reachable over one HTTP version, with everything needed to dial it.
// Per-tunnel settings (target, request headers, the tunnel's deadline) are not in here: they go
// with each stream, never with the shared connection.
struct UpstreamEndpoint
{
    TransportKind transport = TransportKind::H3;
    ConnectOptions connect;
};

// Fingerprint: the pool key. Two endpoints with equal fingerprints may share one connection.
// It covers what decides which server we talk to and whom we trust:
//  - the proxy host, normalised: DNS names lower-cased (IDNs in their ACE form); IP literals in
//    their canonical text ("::0001" == "::1", "[::1]" == "::1"), IPv4-mapped IPv6 addresses as
//    the IPv4 address they map ("::ffff:127.0.0.1" == "127.0.0.1": the same socket peer);
//  - the port and the transport (h2 / h3);
//  - a SHA-256 over the effective trust settings (TlsSettings::fingerprint() of the settings
//    reduced to the ones that take effect: with `insecure` no trust anchor or pin matters, with
//    pins the CA store does not), the effective ALPN list (empty = the transport's default, made
//    explicit: ["h3"] for h3, ["h2"] for h2) and the effective SNI (override, else the host name,
//    none for IP literals).
// Connection tuning (timeouts, windows, keepalive) is not part of it: the first dial's options
// apply to the shared connection for its whole life.
class Fingerprint
{
public:
    Fingerprint() = default;

    // of: the fingerprint of an endpoint. Reads the CA file (TlsSettings::fingerprint()), so
    // callers compute it once per checkout, not per packet.
    static Fingerprint of(const UpstreamEndpoint &endpoint);

    // normalizeHost: the host part of the key (see above). Exposed for tests and the snapshot.
    static QString normalizeHost(QStringView host);

    // defaultAlpn: the ALPN list a transport offers when ConnectOptions::alpn is empty.
    static QList<QByteArray> defaultAlpn(TransportKind transport);

    bool isNull() const noexcept { return m_host.isEmpty(); }
    const QString &host() const noexcept { return m_host; }
    quint16 port() const noexcept { return m_port; }
    TransportKind transport() const noexcept { return m_transport; }
    // trustHash: SHA-256 over trust settings, ALPN and SNI (32 bytes).
    const QByteArray &trustHash() const noexcept { return m_trustHash; }

    // toString: "h3 proxy.example:443 3fa2c1d0" (IPv6 hosts in brackets; the first 4 bytes of
    // the trust hash in hex). For logs and the dashboard; not unique by itself.
    QString toString() const;

    friend bool operator==(const Fingerprint &, const Fingerprint &) = default;

private:
    QString m_host;
    quint16 m_port = 0;
    TransportKind m_transport = TransportKind::H3;
    QByteArray m_trustHash;
};

size_t qHash(const Fingerprint &fingerprint, size_t seed = 0) noexcept;

// FingerprintHash: for std::unordered_map keys.
struct FingerprintHash
{
    std::size_t operator()(const Fingerprint &fingerprint) const noexcept
    {
        return qHash(fingerprint);
    }
};

} // namespace qmasque
