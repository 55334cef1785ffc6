#include "transport/tls/TlsFiles.h"

#include <QtCore/QFile>

namespace qmasque {

Result<QList<QSslCertificate>> loadCertificates(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return Error(ErrorCode::InvalidConfig,
                     QStringLiteral("cannot read certificate file %1").arg(path));
    QList<QSslCertificate> certificates = QSslCertificate::fromData(file.readAll(), QSsl::Pem);
    if (certificates.isEmpty())
        return Error(ErrorCode::InvalidConfig,
                     QStringLiteral("no PEM certificate in %1").arg(path));
    return certificates;
}

Result<QSslKey> loadPrivateKey(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return Error(ErrorCode::InvalidConfig, QStringLiteral("cannot read key file %1").arg(path));
    const QByteArray pem = file.readAll();
    // QSslKey needs the algorithm up front; PEM "PRIVATE KEY" blocks do not say, so try each.
    for (QSsl::KeyAlgorithm algorithm : {QSsl::Ec, QSsl::Rsa, QSsl::Dsa}) {
        QSslKey key(pem, algorithm, QSsl::Pem, QSsl::PrivateKey);
        if (!key.isNull())
            return key;
    }
    return Error(ErrorCode::InvalidConfig, QStringLiteral("no usable private key in %1").arg(path));
}

} // namespace qmasque
