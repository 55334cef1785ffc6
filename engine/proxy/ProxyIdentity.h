#pragma once

#include "api/Result.h"

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QHostAddress>

#include <memory>

namespace qmasque {

// ProxyIdentity: the certificate and key the proxy serves, and the SHA-256 pin of its public key
// (SubjectPublicKeyInfo, RFC 7469 style), which clients take as TlsSettings::pinsSha256 /
// `qmasque --pin-sha256`.
//
// generateSelfSigned() makes a fresh ECDSA P-256 key and a self-signed X.509 v3 certificate
// (CN qmasque-proxy, serverAuth, valid from an hour ago for 397 days) whose subjectAltName lists
// `dnsNames` and `addresses`, with OpenSSL, and writes both as PEM into a private temporary
// directory (mode 0700) that lives as long as the identity. Not thread-safe; any thread.
class ProxyIdentity
{
public:
    ProxyIdentity() = default;
    ProxyIdentity(ProxyIdentity &&) noexcept = default;
    ProxyIdentity &operator=(ProxyIdentity &&) noexcept = default;
    ~ProxyIdentity();

    // fromFiles: an operator's certificate (leaf first) and key; the pin is computed from the
    // leaf. Errors: invalid_config (unreadable file, no certificate).
    static Result<ProxyIdentity> fromFiles(const QString &certificateFile,
                                           const QString &privateKeyFile);
    // generateSelfSigned: errors invalid_config / internal_error from OpenSSL, io_error for
    // the files.
    static Result<ProxyIdentity> generateSelfSigned(const QStringList &dnsNames,
                                                    const QList<QHostAddress> &addresses);

    QString certificateFile() const { return m_certificateFile; }
    QString privateKeyFile() const { return m_privateKeyFile; }
    // spkiSha256: the raw 32-byte digest; pinBase64: the same in base64 (what --pin-sha256 takes).
    QByteArray spkiSha256() const { return m_spkiSha256; }
    QString pinBase64() const { return QString::fromLatin1(m_spkiSha256.toBase64()); }

private:
    QString m_certificateFile;
    QString m_privateKeyFile;
    QByteArray m_spkiSha256;
    std::unique_ptr<QTemporaryDir> m_directory; // self-signed files; removed with the identity
};

} // namespace qmasque
