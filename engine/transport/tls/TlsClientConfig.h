#pragma once

#include "api/Result.h"
#include "transport/TlsSettings.h"

#include <QtNetwork/QSslConfiguration>

namespace qmasque {

// TlsClientSetup: how one client connection runs TLS over QSslSocket (OpenSSL backend), derived
// from TlsSettings by the trust decision documented there.
struct TlsClientSetup
{
    QSslConfiguration configuration; // trust anchors, verify mode, ALPN, client identity
    // peerName: the name sent as SNI and checked against the certificate: the SNI override, else
    // the proxy host. QSslSocket sends no SNI when it is an IP literal (RFC 6066, 3), and checks
    // the certificate's IP address entries instead.
    QString peerName;
    bool checkPins = false; // the pins decide, after the handshake (rule 2)
    bool insecure = false;  // no verification at all (rule 1)
};

// makeTlsClientSetup: the TLS setup for connecting to `host`, offering `alpn` in order.
// Errors: invalid_config (CA file unreadable or empty), tls_client_certificate (client certificate
// or key unusable, or only one of them given).
Result<TlsClientSetup> makeTlsClientSetup(const QString &host, const TlsSettings &settings,
                                          const QList<QByteArray> &alpn);

} // namespace qmasque
