#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>

namespace qmasque::test {

// TestPki: certificates generated at test time (with the openssl and certtool command-line
// tools) into a temporary directory that lives as long as the process. ECDSA P-256 throughout.
//  - caCert/caKey:             the test CA ("QMasque Test CA")
//  - serverCert/serverKey:     leaf for localhost, 127.0.0.1 and ::1, signed by the CA
//  - selfSignedCert/Key:       leaf for the same names, self-signed (not trusted by the CA)
//  - wrongHostCert/Key:        CA-signed leaf for "wrong.invalid" only
//  - expiredCert/Key:          CA-signed leaf for localhost that expired in 2020
//  - clientCert/clientKey:     CA-signed client certificate (mTLS), CN "qmasque-test-client"
// Pins are raw SHA-256 digests: of the leaf's SubjectPublicKeyInfo (DER) and of the whole leaf.
struct TestPki
{
    QString dir;
    QString caCert, caKey;
    QString serverCert, serverKey;
    QString selfSignedCert, selfSignedKey;
    QString wrongHostCert, wrongHostKey;
    QString expiredCert, expiredKey;
    QString clientCert, clientKey;
    QByteArray serverSpkiSha256;
    QByteArray serverCertSha256;
    QByteArray selfSignedSpkiSha256;

    // instance: generated on first use; check isValid() (QVERIFY2(pki.isValid(), pki.error)).
    static const TestPki &instance();

    bool isValid() const { return error.isEmpty(); }
    QString error;
};

} // namespace qmasque::test
