#pragma once

#include "api/Result.h"
#include "transport/ServerOptions.h"
#include "transport/TlsSettings.h"
#include "transport/h3/QuicHandles.h"

#include <ngtcp2/ngtcp2_crypto.h>

#include <memory>
#include <optional>

namespace qmasque::h3 {

// QuicTlsSession: the GnuTLS session of one QUIC connection, configured for ngtcp2's GnuTLS
// crypto backend (TLS 1.3 only, QUIC transport parameters extension, ALPN). ngtcp2 reaches the
// connection through the session's ngtcp2_crypto_conn_ref, which points here; call attach() as
// soon as the ngtcp2_conn exists. Owned by its QuicConnection; its address never moves.
//
// Client sessions own their credentials (trust store per TlsSettings, optional client
// certificate) and verify the server in the GnuTLS certificate callback (TlsPeerVerifier), so a
// failed handshake carries the precise tls_* error (verifyError()). Server sessions share the
// credentials of their QuicTlsServerContext.
class QuicTlsSession
{
public:
    Q_DISABLE_COPY_MOVE(QuicTlsSession)
    ~QuicTlsSession();

    // createClient: a client session for `host` (DNS name or IP literal). SNI: settings.sni, else
    // the host unless it is an IP literal. The certificate is verified against settings.sni when
    // set, else the host. ALPN: `alpn`, default "h3". Errors: invalid_config (CA file, client
    // certificate or key unusable), tls_handshake_failed (GnuTLS setup).
    static Result<std::unique_ptr<QuicTlsSession>>
    createClient(const TlsSettings &settings, const QString &host, const QList<QByteArray> &alpn);

    gnutls_session_t native() const noexcept { return m_session.get(); }
    // attach: the ngtcp2 connection this session serves (not owned; outlives the session's use).
    void attach(ngtcp2_conn *conn) noexcept { m_conn = conn; }

    // verifyError: why the peer was rejected, when the verify callback failed the handshake.
    const std::optional<Error> &verifyError() const noexcept { return m_verifyError; }

    // Negotiated parameters (empty before the handshake completed).
    QByteArray negotiatedAlpn() const;
    QString cipherSuite() const;      // "TLS_AES_128_GCM_SHA256"
    QString keyExchangeGroup() const; // "X25519"
    QString protocolVersion() const;  // "TLSv1.3"
    // peerCertificate: TlsPeerVerifier's one-line summary, parsed once (after the handshake the
    // certificate cannot change, and the dashboard asks for it every snapshot tick).
    QString peerCertificate() const;

private:
    friend class QuicTlsServerContext;
    QuicTlsSession();
    Status configure(unsigned flags, gnutls_certificate_credentials_t credentials,
                     const QList<QByteArray> &alpn);
    static ngtcp2_conn *connection(ngtcp2_crypto_conn_ref *ref);
    static int verifyCallback(gnutls_session_t session);

    ngtcp2_crypto_conn_ref m_connRef{};
    ngtcp2_conn *m_conn = nullptr;      // not owned; the QuicConnection's handle
    GnutlsCredentialsPtr m_credentials; // client only; before the session (destroyed after)
    GnutlsSessionPtr m_session;
    TlsSettings m_settings; // client: what verifyCallback applies
    QString m_verifyHost;
    std::optional<Error> m_verifyError;
    mutable QString m_peerCertificate; // cache of peerCertificate(); empty until first asked
};

// QuicTlsServerContext: the server's identity (certificate chain and key) and optional client
// certificate checking, loaded once per listener and shared by its connections' sessions.
class QuicTlsServerContext
{
public:
    Q_DISABLE_COPY_MOVE(QuicTlsServerContext)
    ~QuicTlsServerContext() = default;

    // create: errors: invalid_config (certificate, key or client CA file unusable).
    static Result<std::unique_ptr<QuicTlsServerContext>> create(const TlsServerSettings &settings);

    // createSession: a server session offering ALPN "h3" only (RFC 9114, 3.1): a client that
    // does not offer it fails the handshake with no_application_protocol.
    Result<std::unique_ptr<QuicTlsSession>> createSession() const;

private:
    QuicTlsServerContext() = default;

    GnutlsCredentialsPtr m_credentials;
    bool m_verifyClients = false;
    bool m_requireClientCertificate = false;
};

} // namespace qmasque::h3
