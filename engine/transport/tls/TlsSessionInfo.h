#pragma once

#include "api/TransportStats.h"

#include <QtNetwork/QSslCertificate>

QT_BEGIN_NAMESPACE
class QSslSocket;
QT_END_NAMESPACE

namespace qmasque {

// TlsSessionInfo: what a finished TLS handshake negotiated, as the dashboard shows it. Read once
// after the handshake (it does not change afterwards) and copied into TransportStats.
struct TlsSessionInfo
{
    QString alpn;            // "h2", "http/1.1"; empty when none was negotiated
    QString version;         // "TLSv1.3"
    QString cipher;          // "TLS_AES_256_GCM_SHA384"
    QString group;           // key exchange group ("x25519", "P-256"); client side only
    QString peerCertificate; // certificateSummary() of the peer's leaf

    // read: the negotiated parameters of an encrypted socket. The group comes from the server's
    // ephemeral key, which only a client sees; servers leave it empty.
    static TlsSessionInfo read(const QSslSocket &socket);

    void fill(TransportStats &stats) const;
};

// certificateSummary: one line, "CN=<subject> issuer CN=<issuer> expires <ISO date>".
QString certificateSummary(const QSslCertificate &certificate);

} // namespace qmasque
