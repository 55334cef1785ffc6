#include "transport/h3/QuicErrors.h"

#include <nghttp3/nghttp3.h>

namespace qmasque::h3 {

namespace {

// TLS alerts (RFC 8446, 6) that matter for the error a user sees.
constexpr uint64_t kAlertBadCertificate = 42;
constexpr uint64_t kAlertUnsupportedCertificate = 43;
constexpr uint64_t kAlertCertificateRevoked = 44;
constexpr uint64_t kAlertCertificateExpired = 45;
constexpr uint64_t kAlertCertificateUnknown = 46;
constexpr uint64_t kAlertUnknownCa = 48;
constexpr uint64_t kAlertCertificateRequired = 116;
constexpr uint64_t kAlertNoApplicationProtocol = 120;

QString reasonText(const ngtcp2_ccerr &ccerr)
{
    if (!ccerr.reason || ccerr.reasonlen == 0)
        return {};
    return QStringLiteral(" (\"%1\")")
        .arg(QString::fromUtf8(reinterpret_cast<const char *>(ccerr.reason),
                               qsizetype(ccerr.reasonlen)));
}

QString hex(uint64_t code)
{
    return QStringLiteral("0x%1").arg(code, 0, 16);
}

} // namespace

Error peerCloseError(const ngtcp2_ccerr &ccerr, bool handshakeCompleted)
{
    const QString reason = reasonText(ccerr);
    Error error;
    error.wireCode = ccerr.error_code;
    switch (ccerr.type) {
    case NGTCP2_CCERR_TYPE_APPLICATION:
        if (ccerr.error_code == NGHTTP3_H3_NO_ERROR) {
            error.code = ErrorCode::ConnectionClosed;
            error.detail = QStringLiteral("peer closed the connection (H3_NO_ERROR)") + reason;
        } else {
            error.code = ErrorCode::ApplicationError;
            error.detail = QStringLiteral("peer closed the connection with application error %1")
                               .arg(hex(ccerr.error_code)) +
                           reason;
        }
        return error;
    case NGTCP2_CCERR_TYPE_VERSION_NEGOTIATION:
        error.code = ErrorCode::QuicHandshakeFailed;
        error.detail = QStringLiteral("no QUIC version in common with the peer");
        return error;
    case NGTCP2_CCERR_TYPE_IDLE_CLOSE:
        error.code = ErrorCode::IdleTimeout;
        error.detail = QStringLiteral("idle timeout");
        return error;
    default:
        break;
    }

    if (ccerr.error_code == NGTCP2_NO_ERROR) {
        error.code = ErrorCode::ConnectionClosed;
        error.detail = QStringLiteral("peer closed the connection") + reason;
        return error;
    }
    // RFC 9001, 4.8: a TLS alert travels as CRYPTO_ERROR 0x100 + alert.
    if (ccerr.error_code >= NGTCP2_CRYPTO_ERROR && ccerr.error_code <= NGTCP2_CRYPTO_ERROR + 0xff) {
        const uint64_t alert = ccerr.error_code - NGTCP2_CRYPTO_ERROR;
        switch (alert) {
        case kAlertNoApplicationProtocol:
            error.code = ErrorCode::AlpnMismatch;
            error.detail = QStringLiteral("peer offers no common ALPN (no_application_protocol)");
            return error;
        case kAlertCertificateRequired:
            error.code = ErrorCode::TlsClientCertificate;
            error.detail = QStringLiteral("peer requires a client certificate");
            return error;
        case kAlertBadCertificate:
        case kAlertUnsupportedCertificate:
        case kAlertCertificateRevoked:
        case kAlertCertificateExpired:
        case kAlertCertificateUnknown:
        case kAlertUnknownCa:
            error.code = ErrorCode::TlsClientCertificate;
            error.detail =
                QStringLiteral("peer rejected our certificate (TLS alert %1)").arg(alert);
            return error;
        default:
            error.code = ErrorCode::TlsHandshakeFailed;
            error.detail =
                QStringLiteral("peer failed the TLS handshake (TLS alert %1)").arg(alert) + reason;
            return error;
        }
    }
    error.code =
        handshakeCompleted ? ErrorCode::QuicTransportError : ErrorCode::QuicHandshakeFailed;
    error.detail = QStringLiteral("peer closed the connection with transport error %1")
                       .arg(hex(ccerr.error_code)) +
                   reason;
    return error;
}

Error localLibraryError(int liberr, bool handshakeCompleted)
{
    Error error(handshakeCompleted ? ErrorCode::QuicTransportError : ErrorCode::QuicHandshakeFailed,
                QString::fromUtf8(ngtcp2_strerror(liberr)));
    error.wireCode = ngtcp2_err_infer_quic_transport_error_code(liberr);
    return error;
}

Error streamResetError(uint64_t appErrorCode)
{
    Error error(ErrorCode::PeerReset,
                QStringLiteral("peer reset the stream (%1)").arg(hex(appErrorCode)));
    error.wireCode = appErrorCode;
    return error;
}

QString quicVersionName(uint32_t version)
{
    switch (version) {
    case NGTCP2_PROTO_VER_V1:
        return QStringLiteral("v1");
    case NGTCP2_PROTO_VER_V2:
        return QStringLiteral("v2");
    default:
        return QStringLiteral("0x%1").arg(version, 8, 16, QLatin1Char('0'));
    }
}

} // namespace qmasque::h3
