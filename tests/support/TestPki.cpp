#include "support/TestPki.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>

#include <memory>

namespace qmasque::test {

namespace {

// run: runs a tool, returns its stdout; appends to `error` on failure.
QByteArray run(const QString &program, const QStringList &args, QString &error,
               const QByteArray &input = {})
{
    if (!error.isEmpty())
        return {};
    QProcess process;
    process.start(program, args);
    if (!process.waitForStarted(10000)) {
        error = program + QStringLiteral(" could not start (run scripts/setup.sh)");
        return {};
    }
    if (!input.isEmpty())
        process.write(input);
    process.closeWriteChannel();
    process.waitForFinished(60000);
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        error = program + QLatin1Char(' ') + args.join(QLatin1Char(' ')) + QStringLiteral(": ") +
                QString::fromLocal8Bit(process.readAllStandardError());
        return {};
    }
    return process.readAllStandardOutput();
}

bool writeFile(const QString &path, const QByteArray &data)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(data) == data.size();
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

void makeKey(const QString &path, QString &error)
{
    run(QStringLiteral("openssl"),
        {QStringLiteral("genpkey"), QStringLiteral("-algorithm"), QStringLiteral("EC"),
         QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:P-256"),
         QStringLiteral("-out"), path},
        error);
}

// makeLeaf: a leaf certificate for `subjectAltNames` ("DNS:localhost,IP:127.0.0.1") signed by the
// CA, or self-signed.
void makeLeaf(const TestPki &pki, const QString &name, const QString &commonName,
              const QString &subjectAltNames, const QString &extendedUsage, bool selfSigned,
              QString &error)
{
    const QString key = pki.dir + QLatin1Char('/') + name + QStringLiteral(".key");
    const QString csr = pki.dir + QLatin1Char('/') + name + QStringLiteral(".csr");
    const QString cert = pki.dir + QLatin1Char('/') + name + QStringLiteral(".pem");
    const QString ext = pki.dir + QLatin1Char('/') + name + QStringLiteral(".ext");
    makeKey(key, error);
    QByteArray extensions = "basicConstraints=critical,CA:FALSE\n"
                            "keyUsage=critical,digitalSignature\n"
                            "extendedKeyUsage=" +
                            extendedUsage.toUtf8() + "\n";
    if (!subjectAltNames.isEmpty())
        extensions += "subjectAltName=" + subjectAltNames.toUtf8() + "\n";
    if (error.isEmpty() && !writeFile(ext, extensions))
        error = QStringLiteral("cannot write ") + ext;
    const QString subject = QStringLiteral("/CN=") + commonName;
    run(QStringLiteral("openssl"),
        {QStringLiteral("req"), QStringLiteral("-new"), QStringLiteral("-key"), key,
         QStringLiteral("-subj"), subject, QStringLiteral("-out"), csr},
        error);
    if (selfSigned) {
        run(QStringLiteral("openssl"),
            {QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"), csr,
             QStringLiteral("-signkey"), key, QStringLiteral("-days"), QStringLiteral("3650"),
             QStringLiteral("-extfile"), ext, QStringLiteral("-out"), cert},
            error);
        return;
    }
    run(QStringLiteral("openssl"),
        {QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"), csr,
         QStringLiteral("-CA"), pki.caCert, QStringLiteral("-CAkey"), pki.caKey,
         QStringLiteral("-CAcreateserial"), QStringLiteral("-days"), QStringLiteral("3650"),
         QStringLiteral("-extfile"), ext, QStringLiteral("-out"), cert},
        error);
}

QByteArray spkiSha256(const QString &certPath, QString &error)
{
    const QByteArray pem = run(QStringLiteral("openssl"),
                               {QStringLiteral("x509"), QStringLiteral("-in"), certPath,
                                QStringLiteral("-pubkey"), QStringLiteral("-noout")},
                               error);
    const QByteArray der = run(QStringLiteral("openssl"),
                               {QStringLiteral("pkey"), QStringLiteral("-pubin"),
                                QStringLiteral("-outform"), QStringLiteral("DER")},
                               error, pem);
    return error.isEmpty() ? QCryptographicHash::hash(der, QCryptographicHash::Sha256)
                           : QByteArray();
}

QByteArray certSha256(const QString &certPath, QString &error)
{
    const QByteArray der = run(QStringLiteral("openssl"),
                               {QStringLiteral("x509"), QStringLiteral("-in"), certPath,
                                QStringLiteral("-outform"), QStringLiteral("DER")},
                               error);
    return error.isEmpty() ? QCryptographicHash::hash(der, QCryptographicHash::Sha256)
                           : QByteArray();
}

// The expired certificate needs explicit validity dates, which certtool's templates take.
void makeExpiredLeaf(TestPki &pki, QString &error)
{
    pki.expiredKey = pki.dir + QStringLiteral("/expired.key");
    pki.expiredCert = pki.dir + QStringLiteral("/expired.pem");
    const QString tmpl = pki.dir + QStringLiteral("/expired.tmpl");
    makeKey(pki.expiredKey, error);
    if (error.isEmpty() && !writeFile(tmpl, "cn = \"localhost\"\n"
                                            "dns_name = \"localhost\"\n"
                                            "ip_address = \"127.0.0.1\"\n"
                                            "ip_address = \"::1\"\n"
                                            "activation_date = \"2019-01-01 00:00:00\"\n"
                                            "expiration_date = \"2020-01-01 00:00:00\"\n"
                                            "signing_key\n"
                                            "tls_www_server\n"))
        error = QStringLiteral("cannot write ") + tmpl;
    run(QStringLiteral("certtool"),
        {QStringLiteral("--generate-certificate"), QStringLiteral("--load-privkey"), pki.expiredKey,
         QStringLiteral("--load-ca-certificate"), pki.caCert, QStringLiteral("--load-ca-privkey"),
         pki.caKey, QStringLiteral("--template"), tmpl, QStringLiteral("--outfile"),
         pki.expiredCert},
        error);
}

TestPki generate()
{
    static std::unique_ptr<QTemporaryDir> tempDir;
    tempDir = std::make_unique<QTemporaryDir>();
    TestPki pki;
    QString error;
    if (!tempDir->isValid()) {
        pki.error = QStringLiteral("cannot create a temporary directory");
        return pki;
    }
    pki.dir = tempDir->path();
    pki.caKey = pki.dir + QStringLiteral("/ca.key");
    pki.caCert = pki.dir + QStringLiteral("/ca.pem");
    makeKey(pki.caKey, error);
    const QString caExt = pki.dir + QStringLiteral("/ca.ext");
    if (error.isEmpty() && !writeFile(caExt, "basicConstraints=critical,CA:TRUE\n"
                                             "keyUsage=critical,keyCertSign,cRLSign\n"
                                             "subjectKeyIdentifier=hash\n"))
        error = QStringLiteral("cannot write ") + caExt;
    run(QStringLiteral("openssl"),
        {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-new"),
         QStringLiteral("-key"), pki.caKey, QStringLiteral("-subj"),
         QStringLiteral("/CN=QMasque Test CA"), QStringLiteral("-days"), QStringLiteral("3650"),
         QStringLiteral("-extensions"), QStringLiteral("v3_ca"), QStringLiteral("-out"),
         pki.caCert},
        error);

    const QString localNames = QStringLiteral("DNS:localhost,IP:127.0.0.1,IP:::1");
    makeLeaf(pki, QStringLiteral("server"), QStringLiteral("localhost"), localNames,
             QStringLiteral("serverAuth"), false, error);
    makeLeaf(pki, QStringLiteral("selfsigned"), QStringLiteral("localhost"), localNames,
             QStringLiteral("serverAuth"), true, error);
    makeLeaf(pki, QStringLiteral("wronghost"), QStringLiteral("wrong.invalid"),
             QStringLiteral("DNS:wrong.invalid"), QStringLiteral("serverAuth"), false, error);
    makeLeaf(pki, QStringLiteral("client"), QStringLiteral("qmasque-test-client"), QString(),
             QStringLiteral("clientAuth"), false, error);
    pki.serverCert = pki.dir + QStringLiteral("/server.pem");
    pki.serverKey = pki.dir + QStringLiteral("/server.key");
    pki.selfSignedCert = pki.dir + QStringLiteral("/selfsigned.pem");
    pki.selfSignedKey = pki.dir + QStringLiteral("/selfsigned.key");
    pki.wrongHostCert = pki.dir + QStringLiteral("/wronghost.pem");
    pki.wrongHostKey = pki.dir + QStringLiteral("/wronghost.key");
    pki.clientCert = pki.dir + QStringLiteral("/client.pem");
    pki.clientKey = pki.dir + QStringLiteral("/client.key");
    makeExpiredLeaf(pki, error);

    pki.serverSpkiSha256 = spkiSha256(pki.serverCert, error);
    pki.serverCertSha256 = certSha256(pki.serverCert, error);
    pki.selfSignedSpkiSha256 = spkiSha256(pki.selfSignedCert, error);
    if (error.isEmpty() && readFile(pki.expiredCert).isEmpty())
        error = QStringLiteral("certtool wrote no expired certificate");
    pki.error = error;
    return pki;
}

} // namespace

const TestPki &TestPki::instance()
{
    static const TestPki pki = generate();
    return pki;
}

} // namespace qmasque::test
