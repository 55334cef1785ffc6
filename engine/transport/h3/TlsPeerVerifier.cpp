#include "transport/h3/TlsPeerVerifier.h"

#include "core/Log.h"
#include "transport/h3/QuicHandles.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDateTime>

namespace qmasque::h3 {

namespace {

QByteArray sha256(const gnutls_datum_t &datum)
{
    return QCryptographicHash::hash(
        QByteArrayView(reinterpret_cast<const char *>(datum.data), qsizetype(datum.size)),
        QCryptographicHash::Sha256);
}

// spkiSha256: SHA-256 of the leaf's DER SubjectPublicKeyInfo (what HPKP-style pins hash).
QByteArray spkiSha256(const gnutls_datum_t &leafDer)
{
    gnutls_x509_crt_t rawCrt = nullptr;
    if (gnutls_x509_crt_init(&rawCrt) < 0)
        return {};
    GnutlsX509CrtPtr crt(rawCrt);
    if (gnutls_x509_crt_import(crt.get(), &leafDer, GNUTLS_X509_FMT_DER) < 0)
        return {};
    gnutls_pubkey_t rawKey = nullptr;
    if (gnutls_pubkey_init(&rawKey) < 0)
        return {};
    GnutlsPubkeyPtr key(rawKey);
    if (gnutls_pubkey_import_x509(key.get(), crt.get(), 0) < 0)
        return {};
    GnutlsDatum spki;
    if (gnutls_pubkey_export2(key.get(), GNUTLS_X509_FMT_DER, &spki.datum) < 0)
        return {};
    return sha256(spki.datum);
}

QString statusText(unsigned status)
{
    GnutlsDatum text;
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text.datum, 0) < 0)
        return QStringLiteral("verification status 0x%1").arg(status, 0, 16);
    return QString::fromUtf8(reinterpret_cast<const char *>(text.datum.data),
                             qsizetype(text.datum.size));
}

QString dnField(gnutls_x509_crt_t crt, bool issuer)
{
    char buffer[256] = {};
    size_t size = sizeof(buffer) - 1;
    const int rc = issuer ? gnutls_x509_crt_get_issuer_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
                                                                 0, 0, buffer, &size)
                          : gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
                                                          buffer, &size);
    return rc < 0 ? QString() : QString::fromUtf8(buffer, qsizetype(size));
}

} // namespace

Status verifyPeerCertificate(gnutls_session_t session, const TlsSettings &settings,
                             const QString &host)
{
    if (settings.insecure) {
        qCWarning(lcTls, "TLS verification disabled (insecure) for %s: any certificate is accepted",
                  qPrintable(host));
        return {};
    }

    unsigned count = 0;
    const gnutls_datum_t *chain = gnutls_certificate_get_peers(session, &count);
    if (!chain || count == 0)
        return Error(ErrorCode::TlsUntrustedCertificate, QStringLiteral("no peer certificate"));

    if (!settings.pinsSha256.isEmpty()) {
        // A pin trusts exactly one key (or certificate): chain and name are deliberately
        // not checked (self-hosted proxies with self-signed certificates).
        const QByteArray certificateDigest = sha256(chain[0]);
        const QByteArray keyDigest = spkiSha256(chain[0]);
        for (const QByteArray &pin : settings.pinsSha256) {
            if (pin == certificateDigest || (!keyDigest.isEmpty() && pin == keyDigest))
                return {};
        }
        return Error(ErrorCode::TlsPinMismatch,
                     QStringLiteral("certificate of %1 matches no pin (SPKI sha256 %2)")
                         .arg(host, QString::fromLatin1(keyDigest.toBase64())));
    }

    // gnutls_certificate_verify_peers3 checks the chain, the validity period and, given a name,
    // the subjectAltName (DNS names, and iPAddress entries for IP literals).
    const QByteArray name = host.toUtf8();
    unsigned status = 0;
    const int rc = gnutls_certificate_verify_peers3(session, name.constData(), &status);
    if (rc < 0) {
        return Error(
            ErrorCode::TlsUntrustedCertificate,
            QStringLiteral("verification failed: %1").arg(QString::fromUtf8(gnutls_strerror(rc))));
    }
    if (status == 0)
        return {};

    constexpr unsigned kUntrusted =
        GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA | GNUTLS_CERT_REVOKED |
        GNUTLS_CERT_SIGNATURE_FAILURE | GNUTLS_CERT_INSECURE_ALGORITHM |
        GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE | GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS;
    const QString detail = statusText(status);
    if (status & kUntrusted)
        return Error(ErrorCode::TlsUntrustedCertificate, detail);
    if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
        return Error(ErrorCode::TlsCertificateExpired, detail);
    if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
        return Error(ErrorCode::TlsHostnameMismatch, detail);
    return Error(ErrorCode::TlsUntrustedCertificate, detail);
}

QString peerCertificateSummary(gnutls_session_t session)
{
    unsigned count = 0;
    const gnutls_datum_t *chain = gnutls_certificate_get_peers(session, &count);
    if (!chain || count == 0)
        return {};
    gnutls_x509_crt_t rawCrt = nullptr;
    if (gnutls_x509_crt_init(&rawCrt) < 0)
        return {};
    GnutlsX509CrtPtr crt(rawCrt);
    if (gnutls_x509_crt_import(crt.get(), &chain[0], GNUTLS_X509_FMT_DER) < 0)
        return {};
    const QDateTime expiry = QDateTime::fromSecsSinceEpoch(
        qint64(gnutls_x509_crt_get_expiration_time(crt.get())), Qt::UTC);
    return QStringLiteral("CN=%1, issuer CN=%2, expires %3")
        .arg(dnField(crt.get(), false), dnField(crt.get(), true), expiry.toString(Qt::ISODate));
}

} // namespace qmasque::h3
