#pragma once

#include "api/Result.h"

#include <QtCore/QList>
#include <QtNetwork/QSslCertificate>
#include <QtNetwork/QSslKey>

namespace qmasque {

// loadCertificates: every PEM certificate in `path` (a chain leaf first, or a CA bundle).
// Errors: invalid_config when the file is unreadable or holds no certificate.
Result<QList<QSslCertificate>> loadCertificates(const QString &path);

// loadPrivateKey: the PEM private key in `path` (EC, RSA or DSA, unencrypted).
// Errors: invalid_config when the file is unreadable or holds no usable key.
Result<QSslKey> loadPrivateKey(const QString &path);

} // namespace qmasque
