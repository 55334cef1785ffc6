#include "transport/tls/TlsClientConfig.h"

#include "transport/tls/TlsFiles.h"

#include <QtNetwork/QSslSocket>

namespace qmasque {

namespace {

// systemTrust: the operating system's trust anchors, loaded once per process. Needed only when
// extra anchors are added: QSslConfiguration stops loading the system store on demand as soon as
// its CA list is set explicitly.
const QList<QSslCertificate> &systemTrust()
{
    static const QList<QSslCertificate> certificates = QSslConfiguration::systemCaCertificates();
    return certificates;
}

Status applyTrust(QSslConfiguration &configuration, const TlsSettings &settings)
{
    if (settings.caFile.isEmpty()) {
        // The default configuration loads the system store on demand; without it nothing is
        // trusted and every chain fails as untrusted, which is what the user asked for.
        if (!settings.useSystemTrust)
            configuration.setCaCertificates({});
        return {};
    }
    auto extra = loadCertificates(settings.caFile);
    if (!extra)
        return extra.error();
    QList<QSslCertificate> anchors =
        settings.useSystemTrust ? systemTrust() : QList<QSslCertificate>();
    anchors += *extra;
    configuration.setCaCertificates(anchors);
    return {};
}

Status applyClientIdentity(QSslConfiguration &configuration, const TlsSettings &settings)
{
    if (settings.clientCertFile.isEmpty() && settings.clientKeyFile.isEmpty())
        return {};
    if (settings.clientCertFile.isEmpty() || settings.clientKeyFile.isEmpty())
        return Error(ErrorCode::TlsClientCertificate,
                     QStringLiteral("a client certificate needs both a certificate and a key"));
    auto chain = loadCertificates(settings.clientCertFile);
    if (!chain)
        return Error(ErrorCode::TlsClientCertificate, chain.error().detail);
    auto key = loadPrivateKey(settings.clientKeyFile);
    if (!key)
        return Error(ErrorCode::TlsClientCertificate, key.error().detail);
    configuration.setLocalCertificateChain(*chain);
    configuration.setPrivateKey(*key);
    return {};
}

} // namespace

Result<TlsClientSetup> makeTlsClientSetup(const QString &host, const TlsSettings &settings,
                                          const QList<QByteArray> &alpn)
{
    TlsClientSetup setup;
    setup.configuration = QSslConfiguration::defaultConfiguration();
    setup.configuration.setProtocol(QSsl::TlsV1_2OrLater);
    setup.configuration.setAllowedNextProtocols(alpn);
    setup.peerName = settings.sni.isEmpty() ? host : settings.sni;

    if (settings.insecure) {
        setup.insecure = true;
        setup.configuration.setPeerVerifyMode(QSslSocket::VerifyNone);
    } else if (!settings.pinsSha256.isEmpty()) {
        // Rule 2: a pin trusts exactly one key; chain and name are not checked, so the handshake
        // must not fail on them. The certificate is still requested and compared afterwards.
        setup.checkPins = true;
        setup.configuration.setPeerVerifyMode(QSslSocket::QueryPeer);
    } else {
        setup.configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
        if (Status trust = applyTrust(setup.configuration, settings); !trust)
            return trust.error();
    }
    if (Status identity = applyClientIdentity(setup.configuration, settings); !identity)
        return identity.error();
    return setup;
}

} // namespace qmasque
