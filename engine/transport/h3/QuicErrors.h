#pragma once

#include "api/Error.h"

#include <ngtcp2/ngtcp2.h>

namespace qmasque::h3 {

// How QUIC and HTTP/3 close reasons become typed errors (engine/api/Error.h).

// peerCloseError: the CONNECTION_CLOSE the peer sent (ngtcp2_conn_get_ccerr):
//  - application close with H3_NO_ERROR, or transport NO_ERROR: connection_closed;
//  - any other application code: application_error, wireCode = the code;
//  - CRYPTO_ERROR (0x100 + TLS alert): alpn_mismatch for no_application_protocol,
//    tls_client_certificate for certificate_required and for certificate alerts the server sent
//    about ours, tls_handshake_failed otherwise;
//  - other transport codes: quic_handshake_failed before the handshake completed,
//    quic_transport_error after; wireCode = the code.
Error peerCloseError(const ngtcp2_ccerr &ccerr, bool handshakeCompleted);

// localLibraryError: a fatal ngtcp2 error on our side (a protocol violation we detected, or a
// library failure): quic_handshake_failed before the handshake completed, quic_transport_error
// after; wireCode = the QUIC transport error code we send.
Error localLibraryError(int liberr, bool handshakeCompleted);

// streamResetError: peer_reset with the peer's HTTP/3 code as wireCode (RFC 9114, 8.1).
Error streamResetError(uint64_t appErrorCode);

// quicVersionName: "v1", "v2" or the hex value.
QString quicVersionName(uint32_t version);

} // namespace qmasque::h3
