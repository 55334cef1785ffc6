#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>

namespace qmasque {

// TlsSettings: how a client verifies the proxy and identifies itself. Shared by h1, h2 (OpenSSL
// through QSslSocket) and h3 (GnuTLS through ngtcp2_crypto_gnutls); both honour every field.
//
// Trust decision, in order:
//  1. `insecure`: no verification at all (logged as a warning on every connection).
//  2. `pinsSha256` non-empty: the peer is trusted iff the SHA-256 of its leaf certificate's
//     SubjectPublicKeyInfo, or of the whole leaf certificate (DER), equals one of the pins. The
//     chain and the host name are not checked: a pin trusts exactly that key (self-hosted proxies).
//  3. otherwise the chain must verify against the system trust store (`useSystemTrust`) plus the
//     certificates in `caFile`, and the certificate must match the host name (or IP address).
// A failed verification is a typed error naming the reason (tls_untrusted_certificate,
// tls_hostname_mismatch, tls_certificate_expired, tls_pin_mismatch).
struct TlsSettings
{
    bool insecure = false;
    bool useSystemTrust = true;
    QString caFile;               // PEM bundle of extra trust anchors
    QList<QByteArray> pinsSha256; // raw 32-byte digests (SPKI or certificate)
    QString sni;                  // override; empty = the proxy host, none for IP literals
    QString clientCertFile;       // PEM certificate for mTLS (with clientKeyFile)
    QString clientKeyFile;        // PEM private key

    // fingerprint: SHA-256 over a canonical form of the settings that change who we trust or who
    // we are (insecure, system trust, CA file path and contents digest, sorted pins, SNI, client
    // certificate paths). Part of the pool fingerprint: equal settings share connections.
    QByteArray fingerprint() const;

    friend bool operator==(const TlsSettings &, const TlsSettings &) = default;
};

// parsePin: decodes a pin given as base64 ("sha256//" prefix allowed, as curl writes it) or hex;
// returns an empty array when it is not a 32-byte digest.
QByteArray parsePin(QStringView text);

} // namespace qmasque
