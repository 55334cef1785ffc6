#include "transport/h3/QuicTls.h"

#include "core/Log.h"
#include "transport/h3/TlsPeerVerifier.h"

#include <QtNetwork/QHostAddress>

#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <vector>

namespace qmasque::h3 {

namespace {

// RFC 9001, 4.2: QUIC requires TLS 1.3. Middlebox compatibility mode is meaningless over QUIC
// (RFC 9001, 8.4) and must be off.
constexpr char kPriority[] =
    "%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:"
    "+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:"
    "+GROUP-SECP384R1:+GROUP-SECP521R1";

Error gnutlsError(ErrorCode code, const char *what, int rc)
{
    return Error(code, QStringLiteral("%1: %2").arg(QLatin1String(what),
                                                    QString::fromUtf8(gnutls_strerror(rc))));
}

Result<GnutlsCredentialsPtr> allocateCredentials()
{
    gnutls_certificate_credentials_t raw = nullptr;
    if (const int rc = gnutls_certificate_allocate_credentials(&raw); rc < 0)
        return gnutlsError(ErrorCode::TlsHandshakeFailed, "allocate credentials", rc);
    return GnutlsCredentialsPtr(raw);
}

} // namespace

QuicTlsSession::QuicTlsSession()
{
    m_connRef.get_conn = &QuicTlsSession::connection;
    m_connRef.user_data = this;
}

QuicTlsSession::~QuicTlsSession() = default;

ngtcp2_conn *QuicTlsSession::connection(ngtcp2_crypto_conn_ref *ref)
{
    return static_cast<QuicTlsSession *>(ref->user_data)->m_conn;
}

int QuicTlsSession::verifyCallback(gnutls_session_t session)
{
    auto *ref = static_cast<ngtcp2_crypto_conn_ref *>(gnutls_session_get_ptr(session));
    auto *self = static_cast<QuicTlsSession *>(ref->user_data);
    Status verdict = verifyPeerCertificate(session, self->m_settings, self->m_verifyHost);
    if (verdict)
        return 0;
    self->m_verifyError = verdict.error();
    // Non-zero aborts the handshake; GnuTLS sends a certificate alert to the server.
    return GNUTLS_E_CERTIFICATE_ERROR;
}

Status QuicTlsSession::configure(unsigned flags, gnutls_certificate_credentials_t credentials,
                                 const QList<QByteArray> &alpn)
{
    gnutls_session_t raw = nullptr;
    if (const int rc = gnutls_init(&raw, flags | GNUTLS_NO_END_OF_EARLY_DATA); rc < 0)
        return gnutlsError(ErrorCode::TlsHandshakeFailed, "gnutls_init", rc);
    m_session.reset(raw);
    if (const int rc = gnutls_priority_set_direct(raw, kPriority, nullptr); rc < 0)
        return gnutlsError(ErrorCode::TlsHandshakeFailed, "priority", rc);
    const bool server = flags & GNUTLS_SERVER;
    const int configured = server ? ngtcp2_crypto_gnutls_configure_server_session(raw)
                                  : ngtcp2_crypto_gnutls_configure_client_session(raw);
    if (configured != 0) {
        return Error(ErrorCode::TlsHandshakeFailed,
                     QStringLiteral("ngtcp2_crypto_gnutls_configure_session failed"));
    }
    gnutls_session_set_ptr(raw, &m_connRef);
    if (const int rc = gnutls_credentials_set(raw, GNUTLS_CRD_CERTIFICATE, credentials); rc < 0)
        return gnutlsError(ErrorCode::TlsHandshakeFailed, "credentials", rc);

    std::vector<gnutls_datum_t> protocols;
    protocols.reserve(size_t(alpn.size()));
    for (const QByteArray &protocol : alpn) {
        protocols.push_back(
            {reinterpret_cast<unsigned char *>(const_cast<char *>(protocol.constData())),
             unsigned(protocol.size())});
    }
    // GnuTLS copies the protocol names. The server insists on h3 (mandatory); the client checks
    // the negotiated value itself after the handshake, to report alpn_mismatch precisely.
    if (const int rc = gnutls_alpn_set_protocols(raw, protocols.data(), unsigned(protocols.size()),
                                                 server ? GNUTLS_ALPN_MANDATORY : 0);
        rc < 0) {
        return gnutlsError(ErrorCode::TlsHandshakeFailed, "ALPN", rc);
    }
    return {};
}

Result<std::unique_ptr<QuicTlsSession>> QuicTlsSession::createClient(const TlsSettings &settings,
                                                                     const QString &host,
                                                                     const QList<QByteArray> &alpn)
{
    std::unique_ptr<QuicTlsSession> tls(new QuicTlsSession);
    tls->m_settings = settings;
    tls->m_verifyHost = settings.sni.isEmpty() ? host : settings.sni;

    auto credentials = allocateCredentials();
    if (!credentials)
        return credentials.error();
    tls->m_credentials = std::move(credentials.value());
    gnutls_certificate_credentials_t cred = tls->m_credentials.get();

    if (!settings.insecure && settings.pinsSha256.isEmpty()) {
        if (settings.useSystemTrust) {
            if (const int rc = gnutls_certificate_set_x509_system_trust(cred); rc < 0)
                qCWarning(lcTls, "system trust store unavailable: %s", gnutls_strerror(rc));
        }
        if (!settings.caFile.isEmpty()) {
            const QByteArray path = settings.caFile.toLocal8Bit();
            const int rc =
                gnutls_certificate_set_x509_trust_file(cred, path.constData(), GNUTLS_X509_FMT_PEM);
            if (rc <= 0) {
                return Error(ErrorCode::InvalidConfig,
                             QStringLiteral("CA file %1 unusable: %2")
                                 .arg(settings.caFile, rc < 0
                                                           ? QString::fromUtf8(gnutls_strerror(rc))
                                                           : QStringLiteral("no certificate")));
            }
        }
    }
    if (!settings.clientCertFile.isEmpty() || !settings.clientKeyFile.isEmpty()) {
        const QByteArray cert = settings.clientCertFile.toLocal8Bit();
        const QByteArray key = settings.clientKeyFile.toLocal8Bit();
        const int rc = gnutls_certificate_set_x509_key_file2(
            cred, cert.constData(), key.constData(), GNUTLS_X509_FMT_PEM, nullptr, 0);
        if (rc < 0) {
            return Error(ErrorCode::InvalidConfig,
                         QStringLiteral("client certificate %1 / key %2 unusable: %3")
                             .arg(settings.clientCertFile, settings.clientKeyFile,
                                  QString::fromUtf8(gnutls_strerror(rc))));
        }
    }
    gnutls_certificate_set_verify_function(cred, &QuicTlsSession::verifyCallback);

    const QList<QByteArray> protocols = alpn.isEmpty() ? QList<QByteArray>{"h3"} : alpn;
    if (Status configured = tls->configure(GNUTLS_CLIENT, cred, protocols); !configured)
        return configured.error();

    // RFC 6066, 3: SNI carries DNS names only, never IP literals.
    QString sni = settings.sni;
    if (sni.isEmpty() && QHostAddress(host).isNull())
        sni = host;
    if (!sni.isEmpty()) {
        const QByteArray name = sni.toUtf8();
        if (const int rc = gnutls_server_name_set(tls->native(), GNUTLS_NAME_DNS, name.constData(),
                                                  size_t(name.size()));
            rc < 0) {
            return gnutlsError(ErrorCode::InvalidConfig, "SNI", rc);
        }
    }
    return tls;
}

QByteArray QuicTlsSession::negotiatedAlpn() const
{
    gnutls_datum_t protocol{nullptr, 0};
    if (gnutls_alpn_get_selected_protocol(m_session.get(), &protocol) < 0 || !protocol.data)
        return {};
    return QByteArray(reinterpret_cast<const char *>(protocol.data), qsizetype(protocol.size));
}

QString QuicTlsSession::cipherSuite() const
{
    const char *name = gnutls_ciphersuite_get(m_session.get());
    return name ? QString::fromLatin1(name) : QString();
}

QString QuicTlsSession::keyExchangeGroup() const
{
    const char *name = gnutls_group_get_name(gnutls_group_get(m_session.get()));
    return name ? QString::fromLatin1(name) : QString();
}

QString QuicTlsSession::protocolVersion() const
{
    return gnutls_protocol_get_version(m_session.get()) == GNUTLS_TLS1_3 ? QStringLiteral("TLSv1.3")
                                                                         : QString();
}

QString QuicTlsSession::peerCertificate() const
{
    if (m_peerCertificate.isEmpty())
        m_peerCertificate = peerCertificateSummary(m_session.get());
    return m_peerCertificate;
}

Result<std::unique_ptr<QuicTlsServerContext>>
QuicTlsServerContext::create(const TlsServerSettings &settings)
{
    std::unique_ptr<QuicTlsServerContext> context(new QuicTlsServerContext);
    auto credentials = allocateCredentials();
    if (!credentials)
        return credentials.error();
    context->m_credentials = std::move(credentials.value());
    gnutls_certificate_credentials_t cred = context->m_credentials.get();

    const QByteArray cert = settings.certificateFile.toLocal8Bit();
    const QByteArray key = settings.privateKeyFile.toLocal8Bit();
    if (const int rc = gnutls_certificate_set_x509_key_file2(
            cred, cert.constData(), key.constData(), GNUTLS_X509_FMT_PEM, nullptr, 0);
        rc < 0) {
        return Error(ErrorCode::InvalidConfig,
                     QStringLiteral("certificate %1 / key %2 unusable: %3")
                         .arg(settings.certificateFile, settings.privateKeyFile,
                              QString::fromUtf8(gnutls_strerror(rc))));
    }
    if (!settings.clientCaFile.isEmpty()) {
        const QByteArray path = settings.clientCaFile.toLocal8Bit();
        const int rc =
            gnutls_certificate_set_x509_trust_file(cred, path.constData(), GNUTLS_X509_FMT_PEM);
        if (rc <= 0) {
            return Error(ErrorCode::InvalidConfig,
                         QStringLiteral("client CA file %1 unusable").arg(settings.clientCaFile));
        }
        context->m_verifyClients = true;
        context->m_requireClientCertificate = settings.requireClientCertificate;
    }
    return context;
}

Result<std::unique_ptr<QuicTlsSession>> QuicTlsServerContext::createSession() const
{
    std::unique_ptr<QuicTlsSession> tls(new QuicTlsSession);
    if (Status configured = tls->configure(GNUTLS_SERVER, m_credentials.get(), {"h3"});
        !configured) {
        return configured.error();
    }
    if (m_verifyClients) {
        gnutls_certificate_server_set_request(
            tls->native(), m_requireClientCertificate ? GNUTLS_CERT_REQUIRE : GNUTLS_CERT_REQUEST);
        // GnuTLS verifies a presented client certificate against the client CA during the
        // handshake and fails it with a certificate alert otherwise.
        gnutls_session_set_verify_cert(tls->native(), nullptr, 0);
    }
    return tls;
}

} // namespace qmasque::h3
