#include "transport/h3/QuicConnection.h"

#include "core/Log.h"
#include "transport/h3/QuicErrors.h"
#include "wire/Varint.h"

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

constexpr size_t kCidLength = 18;
constexpr int kMaxBatchesPerFlush = 16; // then yield to the event loop
constexpr size_t kStreamVectors = 16;
constexpr quint64 kUniStreamWindow = 1024 * 1024;
// Short header (RFC 9000, 17.3.1): first byte, DCID (at most 20), packet number (at most 4),
// AEAD tag (16). DATAGRAM frame (RFC 9221, 4): type and a length varint (2 bytes below 16384).
constexpr qsizetype kPacketOverhead = 1 + NGTCP2_MAX_CIDLEN + 4 + 16;
constexpr qsizetype kDatagramFrameOverhead = 1 + 2;

const uint32_t kVersions[] = {NGTCP2_PROTO_VER_V1, NGTCP2_PROTO_VER_V2};

void randomBytes(uint8_t *dest, size_t size)
{
    gnutls_rnd(GNUTLS_RND_RANDOM, dest, size);
}

ngtcp2_duration milliseconds(int ms)
{
    return ngtcp2_duration(ms) * NGTCP2_MILLISECONDS;
}

ngtcp2_addr nativeAddress(const SocketAddress &address)
{
    return {const_cast<sockaddr *>(address.data()), address.length};
}

} // namespace

// QuicCallbacks: the ngtcp2 callback trampolines; user_data is the QuicConnection.
struct QuicCallbacks
{
    static QuicConnection *self(void *userData) { return static_cast<QuicConnection *>(userData); }

    static int handshakeCompleted(ngtcp2_conn *, void *userData)
    {
        return self(userData)->onHandshakeCompleted();
    }
    static int handshakeConfirmed(ngtcp2_conn *, void *userData)
    {
        return self(userData)->m_app->handshakeConfirmed();
    }
    static int recvStreamData(ngtcp2_conn *, uint32_t flags, int64_t streamId, uint64_t,
                              const uint8_t *data, size_t size, void *userData, void *)
    {
        return self(userData)->m_app->receiveStreamData(streamId, flags, data, size);
    }
    static int ackedStreamDataOffset(ngtcp2_conn *, int64_t streamId, uint64_t, uint64_t size,
                                     void *userData, void *)
    {
        return self(userData)->m_app->ackedStreamData(streamId, size);
    }
    static int streamClose(ngtcp2_conn *, uint32_t flags, int64_t streamId, uint64_t code,
                           void *userData, void *)
    {
        return self(userData)->onStreamClose(flags, streamId, code);
    }
    static int recvStatelessReset(ngtcp2_conn *, const ngtcp2_pkt_stateless_reset *, void *userData)
    {
        self(userData)->m_statelessReset = true;
        return 0;
    }
    static int extendMaxLocalStreamsBidi(ngtcp2_conn *, uint64_t, void *userData)
    {
        self(userData)->m_app->localStreamCreditChanged();
        return 0;
    }
    static void rand(uint8_t *dest, size_t size, const ngtcp2_rand_ctx *)
    {
        gnutls_rnd(GNUTLS_RND_NONCE, dest, size);
    }
    static int getNewConnectionId(ngtcp2_conn *, ngtcp2_cid *cid, uint8_t *token, size_t length,
                                  void *userData)
    {
        return self(userData)->onNewConnectionId(cid, token, length);
    }
    static int removeConnectionId(ngtcp2_conn *, const ngtcp2_cid *cid, void *userData)
    {
        return self(userData)->onRemoveConnectionId(cid);
    }
    static int streamReset(ngtcp2_conn *, int64_t streamId, uint64_t, uint64_t code, void *userData,
                           void *)
    {
        return self(userData)->m_app->streamReset(streamId, code);
    }
    static int extendMaxStreamData(ngtcp2_conn *, int64_t streamId, uint64_t, void *userData,
                                   void *)
    {
        return self(userData)->m_app->extendMaxStreamData(streamId);
    }
    static int recvDatagram(ngtcp2_conn *, uint32_t, const uint8_t *data, size_t size,
                            void *userData)
    {
        self(userData)->m_app->receiveDatagram(data, size);
        return 0;
    }
    static int lostDatagram(ngtcp2_conn *, uint64_t, void *userData)
    {
        ++self(userData)->m_lostDatagramPackets;
        return 0;
    }
    static int streamStopSending(ngtcp2_conn *, int64_t streamId, uint64_t code, void *userData,
                                 void *)
    {
        return self(userData)->m_app->streamStopSending(streamId, code);
    }
    static int recvTxKey(ngtcp2_conn *, ngtcp2_encryption_level level, void *userData)
    {
        // HTTP/3 opens its control streams as soon as 1-RTT data can be sent: the server's
        // SETTINGS then travel with its first flight (RFC 9114, 6.2.1).
        if (level != NGTCP2_ENCRYPTION_LEVEL_1RTT)
            return 0;
        return self(userData)->m_app->startApplication();
    }

    static ngtcp2_callbacks make(bool server)
    {
        ngtcp2_callbacks callbacks{};
        if (server) {
            callbacks.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
        } else {
            callbacks.client_initial = ngtcp2_crypto_client_initial_cb;
            callbacks.recv_retry = ngtcp2_crypto_recv_retry_cb;
        }
        callbacks.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
        callbacks.handshake_completed = &handshakeCompleted;
        callbacks.handshake_confirmed = &handshakeConfirmed;
        callbacks.encrypt = ngtcp2_crypto_encrypt_cb;
        callbacks.decrypt = ngtcp2_crypto_decrypt_cb;
        callbacks.hp_mask = ngtcp2_crypto_hp_mask_cb;
        callbacks.recv_stream_data = &recvStreamData;
        callbacks.acked_stream_data_offset = &ackedStreamDataOffset;
        callbacks.stream_close = &streamClose;
        callbacks.recv_stateless_reset = &recvStatelessReset;
        callbacks.extend_max_local_streams_bidi = &extendMaxLocalStreamsBidi;
        callbacks.rand = &rand;
        callbacks.get_new_connection_id = &getNewConnectionId;
        callbacks.remove_connection_id = &removeConnectionId;
        callbacks.update_key = ngtcp2_crypto_update_key_cb;
        callbacks.stream_reset = &streamReset;
        callbacks.extend_max_stream_data = &extendMaxStreamData;
        callbacks.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
        callbacks.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
        callbacks.recv_datagram = &recvDatagram;
        callbacks.lost_datagram = &lostDatagram;
        callbacks.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
        callbacks.stream_stop_sending = &streamStopSending;
        callbacks.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
        callbacks.recv_tx_key = &recvTxKey;
        return callbacks;
    }
};

namespace {

const ngtcp2_callbacks &callbacksFor(bool server)
{
    static const ngtcp2_callbacks client = QuicCallbacks::make(false);
    static const ngtcp2_callbacks serverCallbacks = QuicCallbacks::make(true);
    return server ? serverCallbacks : client;
}

void applySettings(ngtcp2_settings &settings, const QuicConfig &config)
{
    // The probe sizes never exceed what we allow ourselves to send; ngtcp2 copies them.
    static const uint16_t kProbes[] = {1452, 1400, 1350, 1280};
    ngtcp2_settings_default(&settings);
    settings.initial_ts = quicTimestamp();
    settings.cc_algo = NGTCP2_CC_ALGO_CUBIC;
    settings.max_tx_udp_payload_size = size_t(std::clamp<qsizetype>(
        config.maxUdpPayload, NGTCP2_MAX_UDP_PAYLOAD_SIZE, UdpSocket::kSlotSize));
    settings.handshake_timeout =
        config.handshakeTimeoutMs > 0 ? milliseconds(config.handshakeTimeoutMs) : UINT64_MAX;
    // Receive windows are fixed at what the options say (no auto-tuning beyond them): the
    // window is the backpressure bound of consumption-based flow control.
    settings.max_window = config.connectionReceiveWindow;
    settings.max_stream_window = config.streamReceiveWindow;
    settings.no_pmtud = 0;
    settings.pmtud_probes = kProbes;
    settings.pmtud_probeslen = std::size(kProbes);
    settings.preferred_versions = kVersions;
    settings.preferred_versionslen = std::size(kVersions);
    settings.available_versions = kVersions;
    settings.available_versionslen = std::size(kVersions);
}

void applyParameters(ngtcp2_transport_params &params, const QuicConfig &config)
{
    ngtcp2_transport_params_default(&params);
    params.initial_max_stream_data_bidi_local = config.streamReceiveWindow;
    params.initial_max_stream_data_bidi_remote = config.streamReceiveWindow;
    params.initial_max_stream_data_uni = kUniStreamWindow;
    params.initial_max_data = config.connectionReceiveWindow;
    params.initial_max_streams_bidi = config.maxStreamsBidi;
    params.initial_max_streams_uni = config.maxStreamsUni;
    params.max_idle_timeout = config.idleTimeoutMs > 0 ? milliseconds(config.idleTimeoutMs) : 0;
    params.max_udp_payload_size = UdpSocket::kSlotSize;
    params.active_connection_id_limit = 8;
    // RFC 9297, 2.1.1: HTTP datagrams need the QUIC DATAGRAM extension (RFC 9221, 3).
    params.max_datagram_frame_size = config.maxDatagramFrameSize;
}

} // namespace

QuicConnection::QuicConnection(const QuicConfig &config)
    : m_config(config)
    , m_datagrams(config.datagramQueueCapacity)
{
    m_txBuffer.resize(size_t(UdpSocket::kMaxBatchBytes));
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
        ngtcp2_conn_set_keep_alive_timeout(conn, milliseconds(m_config.keepaliveMs));
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
    dcid.datalen = kCidLength;
    scid.datalen = kCidLength;
    randomBytes(dcid.data, dcid.datalen);
    randomBytes(scid.data, scid.datalen);
    connection->m_originalDcid = dcid;

    ngtcp2_settings settings;
    applySettings(settings, config);
    ngtcp2_transport_params params;
    applyParameters(params, config);
    ngtcp2_path path{nativeAddress(local), nativeAddress(remote), nullptr};
    ngtcp2_conn *conn = nullptr;
    if (const int rv = ngtcp2_conn_client_new(&conn, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1,
                                              &callbacksFor(false), &settings, &params, nullptr,
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
    scid.datalen = kCidLength;
    randomBytes(scid.data, scid.datalen);

    ngtcp2_settings settings;
    applySettings(settings, config);
    settings.token = header.token;
    settings.tokenlen = header.tokenlen;
    settings.token_type = accept.tokenType;

    ngtcp2_transport_params params;
    applyParameters(params, config);
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
                                              &callbacksFor(true), &settings, &params, nullptr,
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
    m_datagrams.clear();
    m_blockedCount = 0;
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

    if (m_blockedCount > 0 && !resendBlocked())
        return;
    m_app->prepareWrite();
    if (m_pendingClose) {
        const auto [code, reason] = *std::exchange(m_pendingClose, std::nullopt);
        ngtcp2_ccerr ccerr;
        ngtcp2_ccerr_default(&ccerr);
        ngtcp2_ccerr_set_application_error(&ccerr, code, nullptr, 0);
        closeWithPacket(ccerr, reason);
        return;
    }
    if (!isOpen())
        return;

    const ngtcp2_tstamp now = quicTimestamp();
    BatchResult result = BatchResult::More;
    for (int batch = 0; batch < kMaxBatchesPerFlush && result == BatchResult::More; ++batch) {
        result = writeBatch(now);
        if (result == BatchResult::Failed || !isOpen())
            return;
        // Pacing (RFC 9002, 7.7): ngtcp2 computes the next departure time from what went out.
        // When it lies ahead, the next write produces nothing and the expiry timer wakes us at
        // that time instead of spinning.
        ngtcp2_conn_update_pkt_tx_time(m_conn.get(), now);
    }
    if (m_refusalError != 0) {
        handleSocketError(std::exchange(m_refusalError, 0));
        if (!isOpen())
            return;
    }
    if (result == BatchResult::More)
        scheduleFlush(); // yielded after kMaxBatchesPerFlush batches
    m_app->writeFinished();
    updateTimer();
}

QuicConnection::BatchResult QuicConnection::writeBatch(ngtcp2_tstamp ts)
{
    ngtcp2_conn *conn = m_conn.get();
    ngtcp2_path_storage path;
    ngtcp2_path_storage batchPath;
    ngtcp2_path_storage_zero(&path);
    ngtcp2_path_storage_zero(&batchPath);
    ngtcp2_pkt_info info{};
    const size_t maxUdp = ngtcp2_conn_get_max_tx_udp_payload_size(conn);
    const size_t pathMax = ngtcp2_conn_get_path_max_tx_udp_payload_size(conn);
    const size_t budget =
        std::min(std::max(ngtcp2_conn_get_send_quantum(conn), pathMax), m_txBuffer.size());
    std::array<ngtcp2_vec, kStreamVectors> vectors;
    size_t used = 0;
    size_t segment = 0;
    int packets = 0;

    for (;;) {
        const size_t destLength = budget - used >= maxUdp ? maxUdp : pathMax;
        uint8_t *dest = m_txBuffer.data() + used;
        ngtcp2_ssize written = 0;
        int64_t streamId = -1;
        int fin = 0;
        int64_t vectorCount = 0;
        // Datagrams and stream data take turns to open a packet; whichever runs out first
        // lets the other fill the rest (NGTCP2_WRITE_*_FLAG_MORE coalesces them).
        const bool datagramFirst = !m_datagrams.isEmpty() && m_datagramTurn;
        if (!datagramFirst && ngtcp2_conn_get_max_data_left(conn) > 0) {
            vectorCount = m_app->streamDataToWrite(&streamId, &fin, vectors.data(), vectors.size());
            if (vectorCount < 0) {
                ngtcp2_ccerr ccerr;
                ngtcp2_ccerr_default(&ccerr);
                ngtcp2_ccerr_set_application_error(
                    &ccerr, nghttp3_err_infer_quic_app_error_code(int(vectorCount)), nullptr, 0);
                closeWithPacket(
                    ccerr, Error(ErrorCode::ProtocolError,
                                 QStringLiteral("HTTP/3: %1")
                                     .arg(QString::fromUtf8(nghttp3_strerror(int(vectorCount))))));
                return BatchResult::Failed;
            }
        }

        if (streamId < 0 && !fin && !m_datagrams.isEmpty()) {
            const std::vector<unsigned char> &datagram = m_datagrams.front();
            if (qsizetype(datagram.size()) > maxDatagramBytesNow()) {
                // The path shrank below what was accepted into the queue.
                ++m_datagramsTooLarge;
                m_datagrams.pop();
                continue;
            }
            ngtcp2_vec vector{const_cast<uint8_t *>(datagram.data()), datagram.size()};
            int accepted = 0;
            written = ngtcp2_conn_writev_datagram(conn, &path.path, &info, dest, destLength,
                                                  &accepted, NGTCP2_WRITE_DATAGRAM_FLAG_MORE,
                                                  m_datagramSequence, &vector, 1, ts);
            if (accepted) {
                m_datagrams.pop();
                ++m_datagramsSent;
                ++m_datagramSequence;
            }
            if (written < 0) {
                switch (written) {
                case NGTCP2_ERR_WRITE_MORE:
                    continue;
                case NGTCP2_ERR_INVALID_STATE:
                    m_datagramsNotNegotiated += quint64(m_datagrams.size());
                    m_datagrams.clear();
                    continue;
                case NGTCP2_ERR_INVALID_ARGUMENT:
                    ++m_datagramsTooLarge;
                    m_datagrams.pop();
                    continue;
                default:
                    failWithLibraryError(int(written));
                    return BatchResult::Failed;
                }
            }
        } else {
            uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
            if (fin)
                flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
            ngtcp2_ssize accepted = -1;
            written =
                ngtcp2_conn_writev_stream(conn, &path.path, &info, dest, destLength, &accepted,
                                          flags, streamId, vectors.data(), size_t(vectorCount), ts);
            if (written < 0) {
                switch (written) {
                case NGTCP2_ERR_STREAM_DATA_BLOCKED:
                    m_app->streamBlocked(streamId);
                    continue;
                case NGTCP2_ERR_STREAM_SHUT_WR:
                    m_app->streamWriteShut(streamId);
                    continue;
                case NGTCP2_ERR_WRITE_MORE:
                    if (m_app->streamDataWritten(streamId, size_t(accepted)) != 0) {
                        failWithLibraryError(NGTCP2_ERR_INTERNAL);
                        return BatchResult::Failed;
                    }
                    continue;
                default:
                    failWithLibraryError(int(written));
                    return BatchResult::Failed;
                }
            }
            if (accepted >= 0 && m_app->streamDataWritten(streamId, size_t(accepted)) != 0) {
                failWithLibraryError(NGTCP2_ERR_INTERNAL);
                return BatchResult::Failed;
            }
        }

        if (written == 0) {
            // Congestion window, pacing, or nothing to send: what is in the batch goes now.
            if (packets == 0)
                return BatchResult::Idle;
            return sendOut(batchPath.path, 0, qsizetype(used), qsizetype(segment))
                       ? BatchResult::Idle
                       : BatchResult::Blocked;
        }
        m_datagramTurn = !m_datagramTurn;
        if (packets == 0) {
            ngtcp2_path_copy(&batchPath.path, &path.path);
            segment = size_t(written);
        } else if (!ngtcp2_path_eq(&batchPath.path, &path.path) || size_t(written) > segment ||
                   (segment > pathMax && size_t(written) != segment)) {
            // GSO needs equal segments (the last may be shorter) on one path: this packet
            // goes out on its own after the batch.
            if (!sendOut(batchPath.path, 0, qsizetype(used), qsizetype(segment))) {
                m_blocked[m_blockedCount++] = {
                    qsizetype(used), qsizetype(written), qsizetype(written),
                    SocketAddress::fromNative(path.path.remote.addr, path.path.remote.addrlen)};
                return BatchResult::Blocked;
            }
            return sendOut(path.path, qsizetype(used), qsizetype(written), qsizetype(written))
                       ? BatchResult::More
                       : BatchResult::Blocked;
        }
        used += size_t(written);
        ++packets;
        if (budget - used < pathMax || size_t(written) < segment ||
            packets == UdpSocket::kMaxSegments) {
            return sendOut(batchPath.path, 0, qsizetype(used), qsizetype(segment))
                       ? BatchResult::More
                       : BatchResult::Blocked;
        }
    }
}

bool QuicConnection::sendOut(const ngtcp2_path &path, qsizetype offset, qsizetype size,
                             qsizetype segmentSize)
{
    const UdpSocket::SendResult result =
        m_sink->sendPackets(path.remote, m_txBuffer.data() + offset, size, segmentSize);
    m_bytesSent += quint64(result.bytesSent);
    m_packetsSent += quint64((result.bytesSent + segmentSize - 1) / segmentSize);
    if (result.bytesSent >= size)
        return true;
    if (result.error == EAGAIN || result.error == EWOULDBLOCK) {
        m_blocked[m_blockedCount++] = {
            offset + result.bytesSent, size - result.bytesSent, segmentSize,
            SocketAddress::fromNative(path.remote.addr, path.remote.addrlen)};
        m_sink->waitForWritable(this);
        return false;
    }
    // Anything else loses the packets, as the network might; ICMP-style errors are judged
    // once the write loop is over.
    m_refusalError = result.error;
    return true;
}

bool QuicConnection::resendBlocked()
{
    while (m_blockedCount > 0) {
        Blocked &blocked = m_blocked[0];
        const UdpSocket::SendResult result =
            m_sink->sendPackets(nativeAddress(blocked.to), m_txBuffer.data() + blocked.offset,
                                blocked.size, blocked.segmentSize);
        m_bytesSent += quint64(result.bytesSent);
        m_packetsSent +=
            quint64((result.bytesSent + blocked.segmentSize - 1) / blocked.segmentSize);
        if (result.bytesSent < blocked.size &&
            (result.error == EAGAIN || result.error == EWOULDBLOCK)) {
            blocked.offset += result.bytesSent;
            blocked.size -= result.bytesSent;
            m_sink->waitForWritable(this);
            return false;
        }
        m_blocked[0] = m_blocked[1];
        --m_blockedCount;
    }
    return true;
}

qsizetype QuicConnection::maxDatagramBytesNow() const
{
    const ngtcp2_transport_params *remote = ngtcp2_conn_get_remote_transport_params(m_conn.get());
    if (!remote || remote->max_datagram_frame_size == 0)
        return 0;
    // RFC 9221, 3: max_datagram_frame_size bounds the whole frame (type, length, payload).
    const qsizetype frameLimit =
        qsizetype(std::min<quint64>(remote->max_datagram_frame_size, quint64(1) << 30)) - 1 -
        wire::varintLength(remote->max_datagram_frame_size);
    const qsizetype pathLimit =
        qsizetype(ngtcp2_conn_get_path_max_tx_udp_payload_size(m_conn.get())) - kPacketOverhead -
        kDatagramFrameOverhead;
    return std::max<qsizetype>(0, std::min(frameLimit, pathLimit));
}

qint64 QuicConnection::maxDatagramPayload() const
{
    return isOpen() ? maxDatagramBytesNow() : 0;
}

Status QuicConnection::queueDatagram(QByteArrayView prefix, QByteArrayView payload)
{
    const qsizetype limit = maxDatagramPayload();
    if (limit == 0) {
        ++m_datagramsNotNegotiated;
        return Error(ErrorCode::NoH3Datagram,
                     QStringLiteral("peer does not accept QUIC DATAGRAM frames"));
    }
    if (prefix.size() + payload.size() > limit) {
        ++m_datagramsTooLarge;
        return Error(ErrorCode::DatagramTooLarge, QStringLiteral("datagram of %1 bytes exceeds %2")
                                                      .arg(prefix.size() + payload.size())
                                                      .arg(limit));
    }
    if (!m_datagrams.push(prefix, payload)) {
        ++m_datagramsQueueFull;
        return Error(ErrorCode::QueueFull, QStringLiteral("datagram send queue full"));
    }
    scheduleFlush();
    return {};
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
    stats.datagramsSent = m_datagramsSent;
    stats.datagramsReceived = m_datagramsReceived;
    stats.datagramDrops.tooLarge = m_datagramsTooLarge;
    stats.datagramDrops.queueFull = m_datagramsQueueFull;
    stats.datagramDrops.notNegotiated = m_datagramsNotNegotiated;
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
