#include "transport/tls/TlsSessionInfo.h"

#include <QtNetwork/QSslCipher>
#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslKey>
#include <QtNetwork/QSslSocket>

#include <openssl/evp.h>

namespace qmasque {

namespace {

QString protocolName(QSsl::SslProtocol protocol)
{
    switch (protocol) {
    case QSsl::TlsV1_3:
        return QStringLiteral("TLSv1.3");
    case QSsl::TlsV1_2:
        return QStringLiteral("TLSv1.2");
    default:
        return QStringLiteral("unknown");
    }
}

// groupName: the key exchange group from the server's ephemeral key. Qt describes NIST curves
// (and finite-field groups) itself; X25519/X448 keys it keeps as opaque OpenSSL EVP_PKEYs, whose
// type name OpenSSL gives.
QString groupName(const QSslKey &key)
{
    if (key.isNull())
        return {};
    switch (key.algorithm()) {
    case QSsl::Ec:
        return QStringLiteral("P-%1").arg(key.length());
    case QSsl::Dh:
        return QStringLiteral("ffdhe%1").arg(key.length());
    case QSsl::Opaque:
        if (QSslSocket::activeBackend() == QLatin1String("openssl") && key.handle()) {
            const auto *pkey = static_cast<const EVP_PKEY *>(key.handle());
            if (const char *name = EVP_PKEY_get0_type_name(pkey))
                return QString::fromLatin1(name).toLower();
        }
        return {};
    default:
        return {};
    }
}

} // namespace

QString certificateSummary(const QSslCertificate &certificate)
{
    if (certificate.isNull())
        return {};
    const QString subject = certificate.subjectInfo(QSslCertificate::CommonName).value(0);
    const QString issuer = certificate.issuerInfo(QSslCertificate::CommonName).value(0);
    return QStringLiteral("CN=%1 issuer CN=%2 expires %3")
        .arg(subject, issuer, certificate.expiryDate().toUTC().toString(Qt::ISODate));
}

TlsSessionInfo TlsSessionInfo::read(const QSslSocket &socket)
{
    TlsSessionInfo info;
    const QSslConfiguration configuration = socket.sslConfiguration();
    info.alpn = QString::fromLatin1(configuration.nextNegotiatedProtocol());
    info.version = protocolName(socket.sessionProtocol());
    info.cipher = socket.sessionCipher().name();
    info.group = groupName(configuration.ephemeralServerKey());
    info.peerCertificate = certificateSummary(socket.peerCertificate());
    return info;
}

void TlsSessionInfo::fill(TransportStats &stats) const
{
    stats.alpn = alpn;
    stats.tlsVersion = version;
    stats.tlsCipher = cipher;
    stats.tlsGroup = group;
    stats.peerCertificate = peerCertificate;
}

} // namespace qmasque
