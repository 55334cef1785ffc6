#pragma once

#include "api/Error.h"

#include <QtCore/QList>
#include <QtNetwork/QAbstractSocket>
#include <QtNetwork/QSsl>
#include <QtNetwork/QSslCertificate>
#include <QtNetwork/QSslError>

namespace qmasque {

// tlsVerificationError: the typed error for a failed certificate verification, naming the most
// fundamental reason first: an untrusted chain (tls_untrusted_certificate), then validity dates
// (tls_certificate_expired), then the name (tls_hostname_mismatch). The detail lists every error.
Error tlsVerificationError(const QList<QSslError> &errors);

// tlsAlertError: the typed error for a fatal alert the peer sent us. Alerts about our client
// certificate (certificate_required, bad_certificate, unknown_ca, ...) are tls_client_certificate;
// no_application_protocol is alpn_mismatch; anything else tls_handshake_failed.
Error tlsAlertError(QSsl::AlertType type, const QString &description);

// socketError: the typed error for a socket failure outside certificate checks.
Error socketError(QAbstractSocket::SocketError error, const QString &text);

// pinMatches: whether the SHA-256 of the leaf's SubjectPublicKeyInfo (DER) or of the whole leaf
// (DER) equals one of `pins` (raw 32-byte digests).
bool pinMatches(const QSslCertificate &leaf, const QList<QByteArray> &pins);

// spkiSha256: the SHA-256 of the certificate's SubjectPublicKeyInfo (DER); empty on failure.
QByteArray spkiSha256(const QSslCertificate &certificate);

} // namespace qmasque
