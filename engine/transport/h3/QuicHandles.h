#pragma once

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>

#include <chrono>
#include <memory>

// RAII owners for the C handles of the HTTP/3 transport: one std::unique_ptr per handle type, each
// with an empty deleter struct so the pointer stays one word wide. Declare members in dependency
// order (TLS session before ngtcp2_conn, nghttp3_conn after it): members are destroyed in reverse.
namespace qmasque::h3 {

struct NgtcpConnDeleter
{
    void operator()(ngtcp2_conn *conn) const noexcept { ngtcp2_conn_del(conn); }
};
using NgtcpConnPtr = std::unique_ptr<ngtcp2_conn, NgtcpConnDeleter>;

struct Nghttp3ConnDeleter
{
    void operator()(nghttp3_conn *conn) const noexcept { nghttp3_conn_del(conn); }
};
using Nghttp3ConnPtr = std::unique_ptr<nghttp3_conn, Nghttp3ConnDeleter>;

struct GnutlsSessionDeleter
{
    void operator()(gnutls_session_int *session) const noexcept { gnutls_deinit(session); }
};
using GnutlsSessionPtr = std::unique_ptr<gnutls_session_int, GnutlsSessionDeleter>;

struct GnutlsCredentialsDeleter
{
    void operator()(gnutls_certificate_credentials_st *credentials) const noexcept
    {
        gnutls_certificate_free_credentials(credentials);
    }
};
using GnutlsCredentialsPtr =
    std::unique_ptr<gnutls_certificate_credentials_st, GnutlsCredentialsDeleter>;

struct GnutlsX509CrtDeleter
{
    void operator()(gnutls_x509_crt_int *crt) const noexcept { gnutls_x509_crt_deinit(crt); }
};
using GnutlsX509CrtPtr = std::unique_ptr<gnutls_x509_crt_int, GnutlsX509CrtDeleter>;

struct GnutlsPubkeyDeleter
{
    void operator()(gnutls_pubkey_st *key) const noexcept { gnutls_pubkey_deinit(key); }
};
using GnutlsPubkeyPtr = std::unique_ptr<gnutls_pubkey_st, GnutlsPubkeyDeleter>;

// GnutlsDatum: owns the buffer of a gnutls_datum_t that GnuTLS allocated (gnutls_free).
struct GnutlsDatum
{
    gnutls_datum_t datum{nullptr, 0};

    GnutlsDatum() = default;
    GnutlsDatum(const GnutlsDatum &) = delete;
    GnutlsDatum &operator=(const GnutlsDatum &) = delete;
    ~GnutlsDatum() { gnutls_free(datum.data); }
};

// quicTimestamp: the monotonic clock every ngtcp2 call is given, in nanoseconds.
inline ngtcp2_tstamp quicTimestamp() noexcept
{
    return static_cast<ngtcp2_tstamp>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

} // namespace qmasque::h3
