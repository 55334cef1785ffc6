#pragma once

#include "api/Result.h"
#include "transport/TlsSettings.h"

#include <gnutls/gnutls.h>

namespace qmasque::h3 {

// verifyPeerCertificate: the trust decision documented in TlsSettings.h, applied to the
// certificate chain the peer sent on `session` (GnuTLS). Runs inside the GnuTLS certificate
// verify callback, so a failure aborts the handshake with the precise reason:
//  - insecure: accepted, with a warning naming `host`;
//  - pins: tls_pin_mismatch unless the SHA-256 of the leaf's SubjectPublicKeyInfo or of the whole
//    leaf (DER) is pinned; chain, validity and host name are not checked;
//  - otherwise the chain against the credentials' trust store (system store and CA file, loaded
//    by the caller), then the name `host` (DNS name or IP literal): tls_untrusted_certificate,
//    tls_certificate_expired (also not yet valid), tls_hostname_mismatch.
Status verifyPeerCertificate(gnutls_session_t session, const TlsSettings &settings,
                             const QString &host);

// peerCertificateSummary: one line for the dashboard: "CN=<subject>, issuer CN=<issuer>,
// expires <ISO date>", or an empty string when the peer sent no certificate.
QString peerCertificateSummary(gnutls_session_t session);

} // namespace qmasque::h3
