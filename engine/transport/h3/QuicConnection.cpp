#include "transport/h3/QuicConnection.h"

#include "core/Log.h"
#include "transport/h3/QuicCallbacks.h"
#include "transport/h3/QuicErrors.h"
#include "transport/h3/QuicServerPackets.h"

#include <QtCore/QScopedValueRollback>

#include <gnutls/crypto.h>
#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace qmasque::h3 {

namespace {

constexpr int kMaxBatchesPerFlush = 16; // then yield to the event loop

void randomBytes(uint8_t *dest, size_t size)
{
    gnutls_rnd(GNUTLS_RND_RANDOM, dest, size);
}

ngtcp2_addr nativeAddress(const SocketAddress &address)
{
    return {const_cast<sockaddr *>(address.data()), address.length};
}

} // namespace

QuicConnection::QuicConnection(const QuicConfig &config)
    : m_config(config)
    , m_writer(config.datagramQueueCapacity)
{
    m_expiryTimer.setSingleShot(true);
    m_expiryTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_expiryTimer, &QTimer::timeout, this, &QuicConnection::handleExpiry);
    m_lingerTimer.setSingleShot(true);
    connect(&m_lingerTimer, &QTimer::timeout, this, [this] {
        m_phase = Phase::Closed;
        Q_EMIT finished();
    });
}

QuicConnection::~QuicConnection() = default;

Status QuicConnection::finishSetup(std::unique_ptr<QuicTlsSession> tls, ngtcp2_conn *conn)
{
    m_tls = std::move(tls);
    m_conn.reset(conn);
    m_tls->attach(conn);
    ngtcp2_conn_set_tls_native_handle(conn, m_tls->native());
    if (m_config.keepaliveMs > 0)
        ngtcp2_conn_set_keep_alive_timeout(conn, ngtcp2_duration(m_config.keepaliveMs) *
                                                     NGTCP2_MILLISECONDS);
    return {};
}

Result<std::unique_ptr<QuicConnection>>
QuicConnection::connectClient(const QuicConfig &config, std::unique_ptr<QuicTlsSession> tls,
                              const SocketAddress &local, const SocketAddress &remote,
                              QuicApplication *application, QuicPacketSink *sink)
{
    std::unique_ptr<QuicConnection> connection(new QuicConnection(config));
    connection->m_app = application;
    connection->m_sink = sink;
    connection->m_local = local;
    connection->m_remote = remote;

    // RFC 9000, 7.2: the client's first Destination Connection ID is unpredictable, >= 8 bytes.
    ngtcp2_cid dcid{};
    ngtcp2_cid scid{};
    dcid.datalen = kServerCidLength;
    scid.datalen = kServerCidLength;
    randomBytes(dcid.data, dcid.datalen);
    randomBytes(scid.data, scid.datalen);
    connection->m_originalDcid = dcid;

    ngtcp2_settings settings;
    config.applyTo(settings);
    ngtcp2_transport_params params;
    config.applyTo(params);
    ngtcp2_path path{nativeAddress(local), nativeAddress(remote), nullptr};
    ngtcp2_conn *conn = nullptr;
    if (const int rv = ngtcp2_conn_client_new(&conn, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1,
                                              &quicCallbacks(false), &settings, &params, nullptr,
                                              connection.get());
        rv != 0) {
        return Error(ErrorCode::QuicHandshakeFailed,
                     QStringLiteral("ngtcp2_conn_client_new: %1")
                         .arg(QString::fromUtf8(ngtcp2_strerror(rv))));
    }
    if (Status ready = connection->finishSetup(std::move(tls), conn); !ready)
        return ready.error();
    return connection;
}

Result<std::unique_ptr<QuicConnection>>
QuicConnection::acceptServer(const QuicConfig &config, std::unique_ptr<QuicTlsSession> tls,
                             const QuicAccept &accept, QuicApplication *application,
                             QuicPacketSink *sink, QuicConnectionIdRegistry *registry)
{
    std::unique_ptr<QuicConnection> connection(new QuicConnection(config));
    connection->m_app = application;
    connection->m_sink = sink;
    connection->m_registry = registry;
    connection->m_server = true;
    connection->m_linger = true;
    connection->m_staticSecret = accept.staticSecret;
    connection->m_local = accept.local;
    connection->m_remote = accept.remote;
    const ngtcp2_pkt_hd &header = *accept.header;
    connection->m_originalDcid = header.dcid;

    ngtcp2_cid scid{};
    scid.datalen = kServerCidLength;
    randomBytes(scid.data, scid.datalen);

    ngtcp2_settings settings;
    config.applyTo(settings);
    settings.token = header.token;
    settings.tokenlen = header.tokenlen;
    settings.token_type = accept.tokenType;

    ngtcp2_transport_params params;
    config.applyTo(params);
    // RFC 9000, 7.3: the server authenticates the connection ids of the handshake, including
    // the ones of a Retry exchange.
    if (accept.retryOriginalDcid) {
        params.original_dcid = *accept.retryOriginalDcid;
        params.retry_scid = header.dcid;
        params.retry_scid_present = 1;
    } else {
        params.original_dcid = header.dcid;
    }
    params.original_dcid_present = 1;
    const QByteArray &secret = accept.staticSecret;
    if (ngtcp2_crypto_generate_stateless_reset_token(
            params.stateless_reset_token, reinterpret_cast<const uint8_t *>(secret.constData()),
            size_t(secret.size()), &scid) != 0) {
        return Error(ErrorCode::Internal, QStringLiteral("stateless reset token"));
    }
    params.stateless_reset_token_present = 1;

    ngtcp2_path path{nativeAddress(accept.local), nativeAddress(accept.remote), nullptr};
    ngtcp2_conn *conn = nullptr;
    if (const int rv = ngtcp2_conn_server_new(&conn, &header.scid, &scid, &path, header.version,
                                              &quicCallbacks(true), &settings, &params, nullptr,
                                              connection.get());
        rv != 0) {
        return Error(ErrorCode::QuicHandshakeFailed,
                     QStringLiteral("ngtcp2_conn_server_new: %1")
                         .arg(QString::fromUtf8(ngtcp2_strerror(rv))));
    }
    if (Status ready = connection->finishSetup(std::move(tls), conn); !ready)
        return ready.error();
    return connection;
}

bool QuicConnection::isHandshakeCompleted() const noexcept
{
    return m_conn && ngtcp2_conn_get_handshake_completed(m_conn.get());
}

int QuicConnection::onHandshakeCompleted()
{
    if (m_phase == Phase::Handshaking)
        m_phase = Phase::Established;
    return m_app->handshakeCompleted();
}

int QuicConnection::onNewConnectionId(ngtcp2_cid *cid, uint8_t *token, size_t cidLength)
{
    cid->datalen = cidLength;
    randomBytes(cid->data, cidLength);
    if (!m_server) {
        randomBytes(token, NGTCP2_STATELESS_RESET_TOKENLEN);
        return 0;
    }
    // RFC 9000, 10.3.2: tokens derived from a static key let a restarted server reset
    // connections it no longer knows.
    if (ngtcp2_crypto_generate_stateless_reset_token(
            token, reinterpret_cast<const uint8_t *>(m_staticSecret.constData()),
            size_t(m_staticSecret.size()), cid) != 0) {
        return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    if (m_registry)
        m_registry->addConnectionId(*cid, this);
    return 0;
}

int QuicConnection::onRemoveConnectionId(const ngtcp2_cid *cid)
{
    if (m_registry)
        m_registry->removeConnectionId(*cid);
    return 0;
}

int QuicConnection::onStreamClose(uint32_t flags, int64_t streamId, uint64_t appErrorCode)
{
    m_closedStreamLosses += ngtcp2_conn_get_stream_loss_count(m_conn.get(), streamId);
    return m_app->streamClosed(streamId, flags, appErrorCode);
}

int QuicConnection::receivePacket(const SocketAddress &from, const quint8 *data, qsizetype size)
{
    m_bytesReceived += quint64(size);
    ++m_packetsReceived;
    switch (m_phase) {
    case Phase::Closing:
        respondWhileClosing();
        return 0;
    case Phase::Draining:
    case Phase::Closed:
        return 0;
    default:
        break;
    }
    m_firstRefusal = 0;
    const ngtcp2_path path{nativeAddress(m_local), nativeAddress(from), nullptr};
    const int rv =
        ngtcp2_conn_read_pkt(m_conn.get(), &path, nullptr, data, size_t(size), quicTimestamp());
    if (rv != 0)
        handleReadError(rv);
    return rv;
}

void QuicConnection::handleReadError(int rv)
{
    const bool handshakeDone = isHandshakeCompleted();
    switch (rv) {
    case NGTCP2_ERR_DRAINING:
        // RFC 9000, 10.3: a stateless reset means the peer lost our connection's state.
        enterDraining(
            m_statelessReset
                ? Error(ErrorCode::StatelessReset, QStringLiteral("peer sent a stateless reset"))
                : peerCloseError(*ngtcp2_conn_get_ccerr(m_conn.get()), handshakeDone));
        return;
    case NGTCP2_ERR_CLOSING:
        return;
    case NGTCP2_ERR_DROP_CONN:
        closeSilently(Error(ErrorCode::QuicHandshakeFailed, QStringLiteral("connection dropped")));
        return;
    case NGTCP2_ERR_RETRY:
        closeSilently(
            Error(ErrorCode::QuicHandshakeFailed, QStringLiteral("address validation required")));
        return;
    case NGTCP2_ERR_RECV_VERSION_NEGOTIATION:
        closeSilently(Error(ErrorCode::QuicHandshakeFailed,
                            QStringLiteral("no QUIC version in common with the server")));
        return;
    case NGTCP2_ERR_CALLBACK_FAILURE:
        if (m_applicationError) {
            ngtcp2_ccerr ccerr;
            ngtcp2_ccerr_default(&ccerr);
            ngtcp2_ccerr_set_application_error(&ccerr, m_applicationErrorCode, nullptr, 0);
            closeWithPacket(ccerr, *m_applicationError);
            return;
        }
        if (!m_tls->verifyError())
            break;
        [[fallthrough]];
    case NGTCP2_ERR_CRYPTO: {
        ngtcp2_ccerr ccerr;
        ngtcp2_ccerr_default(&ccerr);
        const uint8_t alert = ngtcp2_conn_get_tls_alert(m_conn.get());
        ngtcp2_ccerr_set_tls_alert(&ccerr, alert, nullptr, 0);
        closeWithPacket(ccerr,
                        m_tls->verifyError()
                            ? *m_tls->verifyError()
                            : Error(ErrorCode::TlsHandshakeFailed,
                                    QStringLiteral("TLS handshake failed (alert %1)").arg(alert)));
        return;
    }
    default:
        break;
    }
    failWithLibraryError(rv);
}

void QuicConnection::failWithLibraryError(int liberr)
{
    if (liberr == NGTCP2_ERR_IDLE_CLOSE) {
        closeSilently(Error(ErrorCode::IdleTimeout, QStringLiteral("idle timeout")));
        return;
    }
    ngtcp2_ccerr ccerr;
    ngtcp2_ccerr_default(&ccerr);
    ngtcp2_ccerr_set_liberr(&ccerr, liberr, nullptr, 0);
    if (liberr == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
        closeWithPacket(ccerr, Error(ErrorCode::HandshakeTimeout,
                                     QStringLiteral("QUIC handshake did not complete in time")));
        return;
    }
    closeWithPacket(ccerr, localLibraryError(liberr, isHandshakeCompleted()));
}

void QuicConnection::sendClosePacket(const ngtcp2_ccerr &ccerr)
{
    ngtcp2_conn *conn = m_conn.get();
    if (ngtcp2_conn_in_closing_period(conn) || ngtcp2_conn_in_draining_period(conn))
        return;
    m_closePacket.resize(NGTCP2_MAX_UDP_PAYLOAD_SIZE);
    ngtcp2_path_storage path;
    ngtcp2_path_storage_zero(&path);
    ngtcp2_pkt_info info{};
    const ngtcp2_ssize written =
        ngtcp2_conn_write_connection_close(conn, &path.path, &info, m_closePacket.data(),
                                           m_closePacket.size(), &ccerr, quicTimestamp());
    if (written <= 0) {
        m_closePacket.clear();
        return;
    }
    m_closePacket.resize(size_t(written));
    // Best effort: a full socket loses it, as the network might.
    m_sink->sendPackets(path.path.remote, m_closePacket.data(), written, written);
    m_bytesSent += quint64(written);
    ++m_packetsSent;
}

void QuicConnection::failWrite(const QuicPacketWriter::Failure &failure)
{
    if (failure.nghttp3Error == 0) {
        failWithLibraryError(failure.liberr);
        return;
    }
    ngtcp2_ccerr ccerr;
    ngtcp2_ccerr_default(&ccerr);
    ngtcp2_ccerr_set_application_error(
        &ccerr, nghttp3_err_infer_quic_app_error_code(failure.nghttp3Error), nullptr, 0);
    closeWithPacket(ccerr,
                    Error(ErrorCode::ProtocolError,
                          QStringLiteral("HTTP/3: %1")
                              .arg(QString::fromUtf8(nghttp3_strerror(failure.nghttp3Error)))));
}

void QuicConnection::closeWithPacket(const ngtcp2_ccerr &ccerr, const Error &reason)
{
    if (!isOpen())
        return;
    sendClosePacket(ccerr);
    m_phase = Phase::Closing;
    finishClosing(reason);
}

void QuicConnection::abortNow(uint64_t appErrorCode)
{
    if (!isOpen())
        return;
    ngtcp2_ccerr ccerr;
    ngtcp2_ccerr_default(&ccerr);
    ngtcp2_ccerr_set_application_error(&ccerr, appErrorCode, nullptr, 0);
    sendClosePacket(ccerr);
    m_phase = Phase::Closed;
    m_expiryTimer.stop();
    m_lingerTimer.stop();
}

void QuicConnection::enterDraining(const Error &reason)
{
    if (!isOpen())
        return;
    m_phase = Phase::Draining;
    finishClosing(reason);
}

void QuicConnection::closeSilently(const Error &reason)
{
    if (!isOpen())
        return;
    m_phase = Phase::Closed;
    finishClosing(reason);
}

void QuicConnection::finishClosing(const Error &reason)
{
    m_expiryTimer.stop();
    m_writer.discard();
    if (m_linger && m_phase != Phase::Closed) {
        // RFC 9000, 10.2: the closing and draining states last at least three PTOs.
        const quint64 ptoMs = ngtcp2_conn_get_pto(m_conn.get()) / NGTCP2_MILLISECONDS;
        m_lingerTimer.start(int(std::min<quint64>(3 * ptoMs + 1, INT_MAX)));
    } else {
        m_phase = Phase::Closed;
        QMetaObject::invokeMethod(this, &QuicConnection::finished, Qt::QueuedConnection);
    }
    m_app->connectionClosed(reason);
}

void QuicConnection::respondWhileClosing()
{
    // RFC 9000, 10.2.1: answer packets in the closing state with the CONNECTION_CLOSE again,
    // exponentially less often so a flood does not amplify.
    ++m_packetsSinceClose;
    if (m_closePacket.empty() || (m_packetsSinceClose & (m_packetsSinceClose - 1)) != 0)
        return;
    m_sink->sendPackets(nativeAddress(m_remote), m_closePacket.data(),
                        qsizetype(m_closePacket.size()), qsizetype(m_closePacket.size()));
    ++m_closeResponses;
}

void QuicConnection::close(uint64_t appErrorCode, const Error &reason)
{
    if (!isOpen() || m_pendingClose)
        return;
    m_pendingClose.emplace(appErrorCode, reason);
    scheduleFlush();
}

void QuicConnection::setApplicationError(uint64_t appErrorCode, const Error &reason)
{
    if (m_applicationError)
        return;
    m_applicationError = reason;
    m_applicationErrorCode = appErrorCode;
}

void QuicConnection::scheduleFlush()
{
    if (m_flushScheduled || !isOpen())
        return;
    m_flushScheduled = true;
    QMetaObject::invokeMethod(this, &QuicConnection::flush, Qt::QueuedConnection);
}

void QuicConnection::handleWritable()
{
    flush();
}

void QuicConnection::handleExpiry()
{
    if (!isOpen())
        return;
    if (const int rv = ngtcp2_conn_handle_expiry(m_conn.get(), quicTimestamp()); rv != 0) {
        failWithLibraryError(rv);
        return;
    }
    flush();
}

void QuicConnection::updateTimer()
{
    if (!isOpen())
        return;
    const ngtcp2_tstamp expiry = ngtcp2_conn_get_expiry(m_conn.get());
    if (expiry == UINT64_MAX) {
        m_expiryTimer.stop();
        return;
    }
    const ngtcp2_tstamp now = quicTimestamp();
    // Round up: a timer that fires early finds nothing expired and would spin.
    const quint64 ms =
        expiry <= now ? 0 : (expiry - now + NGTCP2_MILLISECONDS - 1) / NGTCP2_MILLISECONDS;
    m_expiryTimer.start(int(std::min<quint64>(ms, INT_MAX)));
}

void QuicConnection::handleSocketError(int error)
{
    if (!isOpen())
        return;
    const bool refused = error == ECONNREFUSED;
    const bool unreachable = error == ENETUNREACH || error == EHOSTUNREACH || error == EHOSTDOWN;
    if (!refused && !unreachable)
        return;
    const Error reason(
        refused ? ErrorCode::ConnectionRefused : ErrorCode::NetworkUnreachable,
        QStringLiteral("%1 (ICMP)").arg(QString::fromLocal8Bit(std::strerror(error))));
    if (!isHandshakeCompleted()) {
        closeSilently(reason);
        return;
    }
    const ngtcp2_tstamp now = quicTimestamp();
    if (m_firstRefusal == 0) {
        m_firstRefusal = now;
        return;
    }
    if (now - m_firstRefusal >= ngtcp2_conn_get_pto(m_conn.get()))
        closeSilently(reason);
}

void QuicConnection::flush()
{
    m_flushScheduled = false;
    if (m_inFlush || !isOpen())
        return;
    const QScopedValueRollback<bool> guard(m_inFlush, true);

    // close() takes effect at once, even while the socket is full.
    const auto closePending = [this] {
        if (!m_pendingClose)
            return false;
        const auto [code, reason] = *std::exchange(m_pendingClose, std::nullopt);
        ngtcp2_ccerr ccerr;
        ngtcp2_ccerr_default(&ccerr);
        ngtcp2_ccerr_set_application_error(&ccerr, code, nullptr, 0);
        closeWithPacket(ccerr, reason);
        return true;
    };
    if (closePending())
        return;
    if (m_writer.tx().isBlocked() && !m_writer.tx().resend(m_sink)) {
        m_sink->waitForWritable(this);
        updateTimer(); // what was read may have moved the deadline
        return;
    }
    m_app->prepareWrite(); // may close (a drained GOAWAY)
    if (closePending())
        return;
    if (!isOpen())
        return;

    const ngtcp2_tstamp now = quicTimestamp();
    QuicPacketWriter::Result result = QuicPacketWriter::Result::More;
    for (int batch = 0; batch < kMaxBatchesPerFlush && result == QuicPacketWriter::Result::More;
         ++batch) {
        result = m_writer.writeBatch(m_conn.get(), m_app, m_sink, now);
        if (result == QuicPacketWriter::Result::Failed) {
            failWrite(m_writer.failure());
            return;
        }
        if (result == QuicPacketWriter::Result::Blocked)
            m_sink->waitForWritable(this);
        // Pacing (RFC 9002, 7.7): ngtcp2 computes the next departure time from what went out.
        // When it lies ahead, the next write produces nothing and the expiry timer wakes us at
        // that time instead of spinning.
        ngtcp2_conn_update_pkt_tx_time(m_conn.get(), now);
    }
    if (const int error = m_writer.tx().takeError(); error != 0) {
        handleSocketError(error);
        if (!isOpen())
            return;
    }
    if (result == QuicPacketWriter::Result::More)
        scheduleFlush(); // yielded after kMaxBatchesPerFlush batches
    m_app->writeFinished();
    updateTimer();
}

qint64 QuicConnection::maxDatagramPayload() const
{
    return isOpen() ? QuicPacketWriter::maxDatagramBytes(m_conn.get()) : 0;
}

Status QuicConnection::queueDatagram(QByteArrayView prefix, QByteArrayView payload)
{
    Status queued = m_writer.queueDatagram(m_conn.get(), prefix, payload);
    if (queued)
        scheduleFlush();
    return queued;
}

quint64 QuicConnection::streamLosses(int64_t streamId) const
{
    return m_conn ? ngtcp2_conn_get_stream_loss_count(m_conn.get(), streamId) : 0;
}

void QuicConnection::fillStats(TransportStats &stats) const
{
    stats.kind = TransportKind::H3;
    stats.bytesSent = m_bytesSent;
    stats.bytesReceived = m_bytesReceived;
    stats.framesSent = m_packetsSent;
    stats.framesReceived = m_packetsReceived;
    m_writer.fillStats(stats);
    stats.datagramsReceived = m_datagramsReceived;
    stats.packetsLost = m_closedStreamLosses + m_lostDatagramPackets;
    if (!m_conn)
        return;
    ngtcp2_conn *conn = m_conn.get();
    ngtcp2_conn_info info;
    ngtcp2_conn_get_conn_info(conn, &info);
    stats.smoothedRttUs = qint64(info.smoothed_rtt / NGTCP2_MICROSECONDS);
    stats.rttVarianceUs = qint64(info.rttvar / NGTCP2_MICROSECONDS);
    stats.minRttUs = info.min_rtt == UINT64_MAX ? -1 : qint64(info.min_rtt / NGTCP2_MICROSECONDS);
    stats.congestionWindow = info.cwnd;
    stats.bytesInFlight = info.bytes_in_flight;
    stats.pathMtu = quint32(ngtcp2_conn_get_path_max_tx_udp_payload_size(conn));
    stats.quicVersion = quicVersionName(ngtcp2_conn_get_negotiated_version(conn));
    if (isHandshakeCompleted()) {
        stats.alpn = QString::fromLatin1(m_tls->negotiatedAlpn());
        stats.tlsVersion = m_tls->protocolVersion();
        stats.tlsCipher = m_tls->cipherSuite();
        stats.tlsGroup = m_tls->keyExchangeGroup();
        stats.peerCertificate = m_tls->peerCertificate();
    }
}

} // namespace qmasque::h3
