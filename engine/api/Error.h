#pragma once

#include <QtCore/QMetaType>
#include <QtCore/QString>

namespace qmasque {

// QMASQUE_ERROR_CODES: every typed failure of the engine, with the stable snake_case name that
// logs, the snapshot JSON, the metrics and the CLI print. Names are part of the published contract
// (README, "Errors"): add new codes freely, never rename one.
#define QMASQUE_ERROR_CODES(X)                                                                     \
    /* Malformed input found by the wire codecs (engine/wire). */                                  \
    X(MalformedVarint, "malformed_varint")                                                         \
    X(VarintOutOfRange, "varint_out_of_range")                                                     \
    X(MalformedCapsule, "malformed_capsule")                                                       \
    X(TruncatedCapsule, "truncated_capsule")                                                       \
    X(CapsuleTooLarge, "capsule_too_large")                                                        \
    X(MalformedDatagram, "malformed_datagram")                                                     \
    X(InvalidStreamId, "invalid_stream_id")                                                        \
    X(MalformedTemplate, "malformed_template")                                                     \
    X(MissingTemplateVariable, "missing_template_variable")                                        \
    X(BadPath, "bad_path")                                                                         \
    X(BadHost, "bad_host")                                                                         \
    X(BadPort, "bad_port")                                                                         \
    X(BadTarget, "bad_target")                                                                     \
    X(BadIpProto, "bad_ipproto")                                                                   \
    X(MalformedIpCapsule, "malformed_ip_capsule")                                                  \
    X(BadPrefix, "bad_prefix")                                                                     \
    X(BadPrefixLength, "bad_prefix_length")                                                        \
    X(BadRequestId, "bad_request_id")                                                              \
    X(BadRoute, "bad_route")                                                                       \
    X(MalformedHeader, "malformed_header")                                                         \
    X(MalformedProxyStatus, "malformed_proxy_status")                                              \
    X(MalformedIpPacket, "malformed_ip_packet")                                                    \
    X(BadIpChecksum, "bad_ip_checksum")                                                            \
    /* Size limits on the data paths. */                                                           \
    X(PayloadTooLarge, "payload_too_large")                                                        \
    X(DatagramTooLarge, "datagram_too_large")                                                      \
    X(PacketTooLarge, "packet_too_large")                                                          \
    X(MtuTooLow, "mtu_too_low")                                                                    \
    X(QueueFull, "queue_full")                                                                     \
    /* Reaching the proxy: sockets, TLS, QUIC. */                                                  \
    X(DnsFailed, "dns_failed")                                                                     \
    X(ConnectionRefused, "connection_refused")                                                     \
    X(NetworkUnreachable, "network_unreachable")                                                   \
    X(ConnectTimeout, "connect_timeout")                                                           \
    X(HandshakeTimeout, "handshake_timeout")                                                       \
    X(TlsHandshakeFailed, "tls_handshake_failed")                                                  \
    X(TlsUntrustedCertificate, "tls_untrusted_certificate")                                        \
    X(TlsHostnameMismatch, "tls_hostname_mismatch")                                                \
    X(TlsCertificateExpired, "tls_certificate_expired")                                            \
    X(TlsPinMismatch, "tls_pin_mismatch")                                                          \
    X(TlsClientCertificate, "tls_client_certificate")                                              \
    X(AlpnMismatch, "alpn_mismatch")                                                               \
    X(QuicHandshakeFailed, "quic_handshake_failed")                                                \
    X(QuicTransportError, "quic_transport_error")                                                  \
    X(IdleTimeout, "idle_timeout")                                                                 \
    X(StatelessReset, "stateless_reset")                                                           \
    X(ApplicationError, "application_error")                                                       \
    X(ProtocolError, "protocol_error")                                                             \
    X(ConnectionClosed, "connection_closed")                                                       \
    X(ConnectionLost, "connection_lost")                                                           \
    /* HTTP layer of a connection. */                                                              \
    X(StreamLimit, "stream_limit")                                                                 \
    X(Goaway, "goaway")                                                                            \
    X(NoExtendedConnect, "no_extended_connect")                                                    \
    X(NoH3Datagram, "no_h3_datagram")                                                              \
    X(UnknownStream, "unknown_stream")                                                             \
    X(StreamClosed, "stream_closed")                                                               \
    X(HeadTooLarge, "head_too_large")                                                              \
    X(BadStatusLine, "bad_status_line")                                                            \
    X(BadUpgradeResponse, "bad_upgrade_response")                                                  \
    X(HeaderInjection, "header_injection")                                                         \
    X(ReservedHeader, "reserved_header")                                                           \
    /* The upstream pool. */                                                                       \
    X(CheckoutTimeout, "checkout_timeout")                                                         \
    X(DialFailed, "dial_failed")                                                                   \
    X(DialCrashed, "dial_crashed")                                                                 \
    X(OwnerGone, "owner_gone")                                                                     \
    X(Shutdown, "shutdown")                                                                        \
    X(PoolUnsupportedForTransport, "pool_unsupported_for_transport")                               \
    X(NoProxy, "no_proxy")                                                                         \
    /* Tunnel handshakes and tunnel ends. */                                                       \
    X(HandshakeRejected, "handshake_rejected")                                                     \
    X(MalformedResponse, "malformed_response")                                                     \
    X(CapsuleProtocolNotAcknowledged, "capsule_protocol_not_acknowledged")                         \
    X(CapsuleProtocolMissing, "capsule_protocol_missing")                                          \
    X(BadResponse, "bad_response")                                                                 \
    X(RaceTimeout, "race_timeout")                                                                 \
    X(PeerFin, "peer_fin")                                                                         \
    X(PeerReset, "peer_reset")                                                                     \
    X(LocalClose, "local_close")                                                                   \
    X(Timeout, "timeout")                                                                          \
    X(Cancelled, "cancelled")                                                                      \
    X(WriteClosed, "write_closed")                                                                 \
    X(NotReady, "not_ready")                                                                       \
    X(NotSupported, "not_supported")                                                               \
    /* Proxy-side refusals (what qmasque-proxy answers, RFC 9209 error types). */                  \
    X(Forbidden, "forbidden")                                                                      \
    X(AuthRequired, "auth_required")                                                               \
    X(ResolutionFailed, "resolution_failed")                                                       \
    X(UpstreamTimeout, "upstream_timeout")                                                         \
    X(Overload, "overload")                                                                        \
    X(BadMethod, "bad_method")                                                                     \
    X(BadProtocol, "bad_protocol")                                                                 \
    /* Local front ends, configuration and the process. */                                         \
    X(SocksProtocolError, "socks_protocol_error")                                                  \
    X(InvalidConfig, "invalid_config")                                                             \
    X(InvalidArgument, "invalid_argument")                                                         \
    X(AddressInUse, "address_in_use")                                                              \
    X(PermissionDenied, "permission_denied")                                                       \
    X(Io, "io_error")                                                                              \
    X(Internal, "internal_error")

enum class ErrorCode : quint16
{
#define QMASQUE_ERROR_ENUM(name, text) name,
    QMASQUE_ERROR_CODES(QMASQUE_ERROR_ENUM)
#undef QMASQUE_ERROR_ENUM
};

// errorCodeName: the stable snake_case name of a code ("stream_limit").
const char *errorCodeName(ErrorCode code) noexcept;

// errorCodeFromName: the inverse of errorCodeName; false when the name is unknown.
bool errorCodeFromName(QStringView name, ErrorCode *code) noexcept;

// Error: a typed failure. `detail` is written once, where the failure happens, for humans.
// Tunnel refusals also carry the proxy's HTTP status and its parsed Proxy-Status (RFC 9209), so
// the user sees "403 destination_ip_prohibited", not "failed". `wireCode` keeps a protocol error
// code when one was on the wire (an HTTP/2 or HTTP/3 error code, a QUIC transport error).
struct Error
{
    ErrorCode code = ErrorCode::Internal;
    QString detail;
    int httpStatus = 0;
    QString proxyErrorType;
    QString proxyErrorDetails;
    quint64 wireCode = 0;

    Error() = default;
    Error(ErrorCode c, QString d = {})
        : code(c)
        , detail(std::move(d))
    {}

    const char *name() const noexcept { return errorCodeName(code); }

    // toString: one line for logs and the CLI, e.g.
    // "handshake_rejected: HTTP 403, proxy-status destination_ip_prohibited (no route)".
    QString toString() const;

    friend bool operator==(const Error &a, const Error &b) noexcept
    {
        return a.code == b.code && a.detail == b.detail && a.httpStatus == b.httpStatus &&
               a.proxyErrorType == b.proxyErrorType && a.proxyErrorDetails == b.proxyErrorDetails &&
               a.wireCode == b.wireCode;
    }
};

} // namespace qmasque

Q_DECLARE_METATYPE(qmasque::Error)
