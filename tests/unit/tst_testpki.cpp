// The test PKI fixture itself: every file exists and the chain relations hold, so transport
// tests fail for transport reasons, not fixture reasons.

#include "support/TestPki.h"

#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtTest/QTest>

using qmasque::test::TestPki;

class tst_TestPki : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void generated();
    void chainRelations();
};

namespace {

int verify(const QString &ca, const QString &cert)
{
    QProcess p;
    p.start(QStringLiteral("openssl"),
            {QStringLiteral("verify"), QStringLiteral("-CAfile"), ca, cert});
    p.waitForFinished(20000);
    return p.exitCode();
}

} // namespace

void tst_TestPki::generated()
{
    const TestPki &pki = TestPki::instance();
    QVERIFY2(pki.isValid(), qPrintable(pki.error));
    for (const QString &file :
         {pki.caCert, pki.caKey, pki.serverCert, pki.serverKey, pki.selfSignedCert,
          pki.selfSignedKey, pki.wrongHostCert, pki.wrongHostKey, pki.expiredCert, pki.expiredKey,
          pki.clientCert, pki.clientKey})
        QVERIFY2(QFile(file).size() > 0, qPrintable(file));
    QCOMPARE(pki.serverSpkiSha256.size(), 32);
    QCOMPARE(pki.serverCertSha256.size(), 32);
    QVERIFY(pki.serverSpkiSha256 != pki.selfSignedSpkiSha256);
}

void tst_TestPki::chainRelations()
{
    const TestPki &pki = TestPki::instance();
    QVERIFY2(pki.isValid(), qPrintable(pki.error));
    QCOMPARE(verify(pki.caCert, pki.serverCert), 0);
    QCOMPARE(verify(pki.caCert, pki.clientCert), 0);
    QCOMPARE(verify(pki.caCert, pki.wrongHostCert), 0);
    QVERIFY(verify(pki.caCert, pki.selfSignedCert) != 0);
    QVERIFY(verify(pki.caCert, pki.expiredCert) != 0); // expired
}

QTEST_GUILESS_MAIN(tst_TestPki)
#include "tst_testpki.moc"
