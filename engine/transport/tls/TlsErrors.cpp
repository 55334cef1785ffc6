#include "transport/tls/TlsErrors.h"

#include "transport/tls/OpenSslHandles.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QStringList>

#include <openssl/x509.h>

namespace qmasque {

namespace {

enum class Severity : quint8
{
    Other,
    Name,
    Dates,
    Chain
};

Severity severityOf(QSslError::SslError error)
{
    switch (error) {
    case QSslError::HostNameMismatch:
        return Severity::Name;
    case QSslError::CertificateExpired:
    case QSslError::CertificateNotYetValid:
        return Severity::Dates;
    case QSslError::UnableToGetIssuerCertificate:
    case QSslError::UnableToDecryptCertificateSignature:
    case QSslError::UnableToDecodeIssuerPublicKey:
    case QSslError::CertificateSignatureFailed:
    case QSslError::InvalidNotBeforeField:
    case QSslError::InvalidNotAfterField:
    case QSslError::SelfSignedCertificate:
    case QSslError::SelfSignedCertificateInChain:
    case QSslError::UnableToGetLocalIssuerCertificate:
    case QSslError::UnableToVerifyFirstCertificate:
    case QSslError::CertificateRevoked:
    case QSslError::InvalidCaCertificate:
    case QSslError::PathLengthExceeded:
    case QSslError::InvalidPurpose:
    case QSslError::CertificateUntrusted:
    case QSslError::CertificateRejected:
    case QSslError::SubjectIssuerMismatch:
    case QSslError::AuthorityIssuerSerialNumberMismatch:
    case QSslError::NoPeerCertificate:
    case QSslError::CertificateBlacklisted:
        return Severity::Chain;
    default:
        return Severity::Other;
    }
}

} // namespace

Error tlsVerificationError(const QList<QSslError> &errors)
{
    Severity worst = Severity::Other;
    QStringList texts;
    for (const QSslError &error : errors) {
        worst = qMax(worst, severityOf(error.error()));
        texts << error.errorString();
    }
    const QString detail = texts.join(QStringLiteral("; "));
    switch (worst) {
    case Severity::Chain:
        return Error(ErrorCode::TlsUntrustedCertificate, detail);
    case Severity::Dates:
        return Error(ErrorCode::TlsCertificateExpired, detail);
    case Severity::Name:
        return Error(ErrorCode::TlsHostnameMismatch, detail);
    case Severity::Other:
        break;
    }
    return Error(ErrorCode::TlsHandshakeFailed, detail);
}

Error tlsAlertError(QSsl::AlertType type, const QString &description)
{
    const QString detail = QStringLiteral("peer sent TLS alert: ") + description;
    switch (type) {
    // RFC 8446, 6.2: what a server answers to a missing or unacceptable client certificate.
    case QSsl::AlertType::CertificateRequired:
    case QSsl::AlertType::BadCertificate:
    case QSsl::AlertType::UnsupportedCertificate:
    case QSsl::AlertType::CertificateRevoked:
    case QSsl::AlertType::CertificateExpired:
    case QSsl::AlertType::CertificateUnknown:
    case QSsl::AlertType::UnknownCa:
    case QSsl::AlertType::AccessDenied:
        return Error(ErrorCode::TlsClientCertificate, detail);
    // RFC 7301, 3.2: the server supports none of the offered protocols.
    case QSsl::AlertType::NoApplicationProtocol:
        return Error(ErrorCode::AlpnMismatch, detail);
    default:
        return Error(ErrorCode::TlsHandshakeFailed, detail);
    }
}

Error socketError(QAbstractSocket::SocketError error, const QString &text)
{
    switch (error) {
    case QAbstractSocket::HostNotFoundError:
        return Error(ErrorCode::DnsFailed, text);
    case QAbstractSocket::ConnectionRefusedError:
        return Error(ErrorCode::ConnectionRefused, text);
    case QAbstractSocket::NetworkError:
        return Error(ErrorCode::NetworkUnreachable, text);
    case QAbstractSocket::SocketTimeoutError:
        return Error(ErrorCode::ConnectTimeout, text);
    case QAbstractSocket::SocketAccessError:
        return Error(ErrorCode::PermissionDenied, text);
    case QAbstractSocket::SslHandshakeFailedError:
    case QAbstractSocket::SslInternalError:
    case QAbstractSocket::SslInvalidUserDataError:
        return Error(ErrorCode::TlsHandshakeFailed, text);
    default:
        return Error(ErrorCode::ConnectionLost, text);
    }
}

QByteArray spkiSha256(const QSslCertificate &certificate)
{
    // QSslKey cannot re-encode every key type as SubjectPublicKeyInfo, so take the SPKI bytes
    // straight from the DER certificate.
    const QByteArray der = certificate.toDer();
    const auto *cursor = reinterpret_cast<const unsigned char *>(der.constData());
    X509Ptr x509(d2i_X509(nullptr, &cursor, long(der.size())));
    if (!x509)
        return {};
    unsigned char *spki = nullptr;
    const int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x509.get()), &spki);
    if (length <= 0)
        return {};
    const QByteArray digest = QCryptographicHash::hash(
        QByteArrayView(reinterpret_cast<const char *>(spki), length), QCryptographicHash::Sha256);
    OPENSSL_free(spki);
    return digest;
}

bool pinMatches(const QSslCertificate &leaf, const QList<QByteArray> &pins)
{
    if (leaf.isNull())
        return false;
    const QByteArray spki = spkiSha256(leaf);
    const QByteArray whole = leaf.digest(QCryptographicHash::Sha256);
    for (const QByteArray &pin : pins) {
        if ((!spki.isEmpty() && pin == spki) || pin == whole)
            return true;
    }
    return false;
}

} // namespace qmasque
