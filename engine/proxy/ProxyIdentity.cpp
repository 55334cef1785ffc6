#include "proxy/ProxyIdentity.h"

#include "transport/tls/OpenSslHandles.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QFile>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <functional>

namespace qmasque {

namespace {

struct BignumDeleter
{
    void operator()(BIGNUM *number) const noexcept { BN_free(number); }
};
struct ExtensionDeleter
{
    void operator()(X509_EXTENSION *extension) const noexcept { X509_EXTENSION_free(extension); }
};

Error opensslError(const QString &what)
{
    char text[256] = {};
    ERR_error_string_n(ERR_get_error(), text, sizeof(text));
    ERR_clear_error();
    return Error(ErrorCode::Internal, what + QStringLiteral(": ") + QString::fromLatin1(text));
}

Result<QByteArray> spkiDigest(EVP_PKEY *key)
{
    unsigned char *der = nullptr;
    const int length = i2d_PUBKEY(key, &der);
    if (length <= 0)
        return opensslError(QStringLiteral("encode the public key"));
    const QByteArray digest = QCryptographicHash::hash(
        QByteArrayView(reinterpret_cast<const char *>(der), length), QCryptographicHash::Sha256);
    OPENSSL_free(der);
    return digest;
}

bool addExtension(X509 *certificate, int nid, const QByteArray &value)
{
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
    std::unique_ptr<X509_EXTENSION, ExtensionDeleter> extension(
        X509V3_EXT_conf_nid(nullptr, &context, nid, value.constData()));
    return extension && X509_add_ext(certificate, extension.get(), -1) == 1;
}

QByteArray toPem(const std::function<int(BIO *)> &write)
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1)
        return {};
    char *data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return QByteArray(data, qsizetype(length));
}

Status writePrivateFile(const QString &path, const QByteArray &contents)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
        !file.setPermissions(QFile::ReadOwner | QFile::WriteOwner) ||
        file.write(contents) != contents.size())
        return Error(ErrorCode::Io, QStringLiteral("write %1: %2").arg(path, file.errorString()));
    return {};
}

} // namespace

ProxyIdentity::~ProxyIdentity() = default;

Result<ProxyIdentity> ProxyIdentity::fromFiles(const QString &certificateFile,
                                               const QString &privateKeyFile)
{
    QFile file(certificateFile);
    if (!file.open(QIODevice::ReadOnly))
        return Error(ErrorCode::InvalidConfig,
                     QStringLiteral("--cert %1: %2").arg(certificateFile, file.errorString()));
    const QByteArray pem = file.readAll();
    BioPtr bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!leaf)
        return Error(ErrorCode::InvalidConfig,
                     QStringLiteral("--cert %1: no PEM certificate").arg(certificateFile));
    EvpPkeyPtr key(X509_get_pubkey(leaf.get()));
    if (!key)
        return opensslError(QStringLiteral("--cert %1: public key").arg(certificateFile));
    auto digest = spkiDigest(key.get());
    if (!digest)
        return digest.error();
    ProxyIdentity identity;
    identity.m_certificateFile = certificateFile;
    identity.m_privateKeyFile = privateKeyFile;
    identity.m_spkiSha256 = *digest;
    return identity;
}

Result<ProxyIdentity> ProxyIdentity::generateSelfSigned(const QStringList &dnsNames,
                                                        const QList<QHostAddress> &addresses)
{
    EvpPkeyPtr key(EVP_EC_gen("P-256"));
    if (!key)
        return opensslError(QStringLiteral("generate a P-256 key"));
    X509Ptr certificate(X509_new());
    if (!certificate || X509_set_version(certificate.get(), 2) != 1)
        return opensslError(QStringLiteral("create a certificate"));

    // RFC 5280, 4.1.2.2: a positive serial number of at most 20 octets, unpredictable.
    std::unique_ptr<BIGNUM, BignumDeleter> serial(BN_new());
    if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get())))
        return opensslError(QStringLiteral("certificate serial"));
    X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);
    // CA/Browser Forum limit for TLS server certificates: 397 days.
    X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 397L * 24 * 3600);
    if (X509_set_pubkey(certificate.get(), key.get()) != 1)
        return opensslError(QStringLiteral("certificate key"));
    X509_NAME *name = X509_get_subject_name(certificate.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char *>("qmasque-proxy"), -1, -1, 0);
    X509_set_issuer_name(certificate.get(), name);

    QByteArrayList alternativeNames;
    const auto addName = [&alternativeNames](const QByteArray &entry) {
        if (!alternativeNames.contains(entry))
            alternativeNames.append(entry);
    };
    for (const QString &dnsName : dnsNames) {
        if (!dnsName.isEmpty())
            addName("DNS:" + dnsName.toLatin1());
    }
    for (const QHostAddress &address : addresses)
        addName("IP:" + address.toString().toLatin1());
    if (!addExtension(certificate.get(), NID_basic_constraints, "critical,CA:FALSE") ||
        !addExtension(certificate.get(), NID_key_usage, "critical,digitalSignature") ||
        !addExtension(certificate.get(), NID_ext_key_usage, "serverAuth") ||
        (!alternativeNames.isEmpty() &&
         !addExtension(certificate.get(), NID_subject_alt_name, alternativeNames.join(','))))
        return opensslError(QStringLiteral("certificate extensions"));
    if (X509_sign(certificate.get(), key.get(), EVP_sha256()) <= 0)
        return opensslError(QStringLiteral("sign the certificate"));

    const QByteArray certificatePem =
        toPem([&](BIO *bio) { return PEM_write_bio_X509(bio, certificate.get()); });
    const QByteArray keyPem = toPem([&](BIO *bio) {
        return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    if (certificatePem.isEmpty() || keyPem.isEmpty())
        return opensslError(QStringLiteral("PEM encoding"));
    auto digest = spkiDigest(key.get());
    if (!digest)
        return digest.error();

    ProxyIdentity identity;
    identity.m_directory = std::make_unique<QTemporaryDir>();
    if (!identity.m_directory->isValid())
        return Error(
            ErrorCode::Io,
            QStringLiteral("temporary directory: %1").arg(identity.m_directory->errorString()));
    QFile::setPermissions(identity.m_directory->path(),
                          QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    identity.m_certificateFile = identity.m_directory->filePath(QStringLiteral("proxy.crt"));
    identity.m_privateKeyFile = identity.m_directory->filePath(QStringLiteral("proxy.key"));
    if (Status written = writePrivateFile(identity.m_certificateFile, certificatePem); !written)
        return written.error();
    if (Status written = writePrivateFile(identity.m_privateKeyFile, keyPem); !written)
        return written.error();
    identity.m_spkiSha256 = *digest;
    return identity;
}

} // namespace qmasque
