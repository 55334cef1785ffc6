#include "transport/tls/TlsServerConfig.h"

#include "transport/tls/OpenSslHandles.h"
#include "transport/tls/TlsFiles.h"

#include <QtCore/QFile>
#include <QtNetwork/QSslSocket>

#include <openssl/pem.h>
#include <openssl/x509.h>

namespace qmasque {

namespace {

// checkKeyMatches: refuse at listen() time what OpenSSL would refuse at every handshake.
Status checkKeyMatches(const QSslCertificate &leaf, const QString &keyFile)
{
    const QByteArray der = leaf.toDer();
    const auto *cursor = reinterpret_cast<const unsigned char *>(der.constData());
    X509Ptr x509(d2i_X509(nullptr, &cursor, long(der.size())));
    QFile file(keyFile);
    const QByteArray pem = file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    BioPtr bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!x509 || !key || X509_check_private_key(x509.get(), key.get()) != 1)
        return Error(ErrorCode::InvalidConfig,
                     QStringLiteral("the private key %1 does not match the certificate %2")
                         .arg(keyFile, leaf.subjectInfo(QSslCertificate::CommonName).value(0)));
    return {};
}

} // namespace

Result<QSslConfiguration> makeTlsServerConfiguration(const TlsServerSettings &settings,
                                                     const QList<QByteArray> &alpn)
{
    auto chain = loadCertificates(settings.certificateFile);
    if (!chain)
        return chain.error();
    auto key = loadPrivateKey(settings.privateKeyFile);
    if (!key)
        return key.error();
    if (Status match = checkKeyMatches(chain->first(), settings.privateKeyFile); !match)
        return match.error();

    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setProtocol(QSsl::TlsV1_2OrLater);
    configuration.setLocalCertificateChain(*chain);
    configuration.setPrivateKey(*key);
    configuration.setAllowedNextProtocols(alpn);

    if (settings.clientCaFile.isEmpty()) {
        configuration.setPeerVerifyMode(QSslSocket::VerifyNone);
        return configuration;
    }
    auto anchors = loadCertificates(settings.clientCaFile);
    if (!anchors)
        return anchors.error();
    configuration.setCaCertificates(*anchors);
    configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
    configuration.setMissingCertificateIsFatal(settings.requireClientCertificate);
    // Fail inside the handshake on a bad client certificate, so OpenSSL sends the client a
    // proper alert instead of QSslSocket dropping the connection after the handshake.
    configuration.setHandshakeMustInterruptOnError(true);
    return configuration;
}

} // namespace qmasque
