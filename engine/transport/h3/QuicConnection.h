#pragma once

#include "api/Result.h"
#include "api/TransportStats.h"
#include "transport/h3/QuicConfig.h"
#include "transport/h3/QuicHandles.h"
#include "transport/h3/QuicPacketWriter.h"
#include "transport/h3/QuicTls.h"
#include "transport/h3/UdpSocket.h"

#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <array>
#include <memory>
#include <optional>
#include <vector>

namespace qmasque::h3 {

class QuicConnection;

// QuicApplication: the layer above QUIC (H3Session). QuicConnection calls it from its ngtcp2
// callbacks (the int-returning ones: 0 or NGTCP2_ERR_CALLBACK_FAILURE after
// QuicConnection::setApplicationError()) and from its write loop. Never re-enters ngtcp2's read
// or write functions.
class QuicApplication
{
public:
    virtual ~QuicApplication() = default;

    // startApplication: 1-RTT keys are ready to send with: open the HTTP/3 control streams.
    virtual int startApplication() = 0;
    // handshakeCompleted: TLS and QUIC handshake done (the peer is authenticated).
    virtual int handshakeCompleted() = 0;
    // handshakeConfirmed: both ends agree the handshake is done (RFC 9001, 4.1.2: for a client,
    // HANDSHAKE_DONE arrived, so the server accepted our Finished and certificate).
    virtual int handshakeConfirmed() = 0;
    virtual int receiveStreamData(int64_t streamId, uint32_t flags, const uint8_t *data,
                                  size_t size) = 0;
    virtual int ackedStreamData(int64_t streamId, uint64_t bytes) = 0;
    // streamClosed: QUIC stream state is gone (both directions done, or reset).
    virtual int streamClosed(int64_t streamId, uint32_t flags, uint64_t appErrorCode) = 0;
    // streamReset: the peer sent RESET_STREAM; streamStopSending: the peer sent STOP_SENDING.
    virtual int streamReset(int64_t streamId, uint64_t appErrorCode) = 0;
    virtual int streamStopSending(int64_t streamId, uint64_t appErrorCode) = 0;
    virtual int extendMaxStreamData(int64_t streamId) = 0;
    // localStreamCreditChanged: the peer raised MAX_STREAMS for our bidirectional streams.
    virtual void localStreamCreditChanged() = 0;
    // receiveDatagram: a QUIC DATAGRAM frame payload (RFC 9221).
    virtual void receiveDatagram(const uint8_t *data, size_t size) = 0;

    // Write loop (outside callbacks). prepareWrite: apply deferred stream operations.
    virtual void prepareWrite() = 0;
    // streamDataToWrite: the next stream bytes to send (nghttp3_conn_writev_stream semantics):
    // returns the vector count (stream id -1: nothing), or a negative nghttp3 error (fatal).
    virtual int64_t streamDataToWrite(int64_t *streamId, int *fin, ngtcp2_vec *vectors,
                                      size_t capacity) = 0;
    virtual int streamDataWritten(int64_t streamId, size_t bytes) = 0;
    virtual void streamBlocked(int64_t streamId) = 0;
    virtual void streamWriteShut(int64_t streamId) = 0;
    // writeFinished: the write loop is done; the place for writable notifications.
    virtual void writeFinished() = 0;

    // connectionClosed: the connection is closed (or closing), exactly once, never from inside
    // an ngtcp2 call. No further calls follow.
    virtual void connectionClosed(const Error &reason) = 0;
};

// QuicPacketSink: where a connection's packets go: the client's own connected socket, or the
// server listener's shared socket.
class QuicPacketSink
{
public:
    virtual ~QuicPacketSink() = default;
    virtual UdpSocket::SendResult sendPackets(const ngtcp2_addr &to, const quint8 *data,
                                              qsizetype size, qsizetype segmentSize) = 0;
    // waitForWritable: call connection->handleWritable() when the socket has room again.
    virtual void waitForWritable(QuicConnection *connection) = 0;
};

// QuicConnectionIdRegistry: the server's connection id -> connection map, kept current by the
// connection as ngtcp2 issues and retires ids.
class QuicConnectionIdRegistry
{
public:
    virtual ~QuicConnectionIdRegistry() = default;
    virtual void addConnectionId(const ngtcp2_cid &cid, QuicConnection *connection) = 0;
    virtual void removeConnectionId(const ngtcp2_cid &cid) = 0;
};

// QuicConnection: the QUIC core shared by the H3 client and server: one ngtcp2_conn with its
// GnuTLS session, the precise expiry timer, the packet write loop (GSO batches, pacing, DATAGRAM
// frames coalesced with stream data), close handling and statistics. HTTP/3 lives above it in
// the QuicApplication.
//
// Events: the application learns everything through QuicApplication. A close of any kind ends
// in exactly one QuicApplication::connectionClosed(). After closing, the connection lingers for
// three PTOs when `linger` was requested (servers: to answer late packets with the
// CONNECTION_CLOSE again, RFC 9000, 10.2), then emits finished().
//
// Ownership: owned by its transport or server connection. The application, the sink and the
// registry are not owned and outlive it. Engine thread only.
class QuicConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QuicConnection)

public:
    enum class Phase : quint8
    {
        Handshaking,
        Established,
        Closing,  // we sent CONNECTION_CLOSE
        Draining, // the peer closed, or reset us
        Closed    // silently closed (idle timeout), or linger over
    };

    ~QuicConnection() override;

    // connectClient: creates the client connection towards `remote` from the socket's `local`
    // address. Nothing is sent until flush(). Errors: quic_handshake_failed (ngtcp2 setup).
    static Result<std::unique_ptr<QuicConnection>>
    connectClient(const QuicConfig &config, std::unique_ptr<QuicTlsSession> tls,
                  const SocketAddress &local, const SocketAddress &remote,
                  QuicApplication *application, QuicPacketSink *sink);
    // acceptServer: creates the server side of a client's first Initial.
    static Result<std::unique_ptr<QuicConnection>>
    acceptServer(const QuicConfig &config, std::unique_ptr<QuicTlsSession> tls,
                 const QuicAccept &accept, QuicApplication *application, QuicPacketSink *sink,
                 QuicConnectionIdRegistry *registry);

    ngtcp2_conn *handle() const noexcept { return m_conn.get(); }
    QuicTlsSession &tls() const noexcept { return *m_tls; }
    Phase phase() const noexcept { return m_phase; }
    bool isOpen() const noexcept { return m_phase <= Phase::Established; }
    bool isHandshakeCompleted() const noexcept;
    const SocketAddress &remoteAddress() const noexcept { return m_remote; }
    // originalDcid: the client's first Destination Connection ID (server registry key).
    const ngtcp2_cid &originalDcid() const noexcept { return m_originalDcid; }

    // receivePacket: feeds one UDP payload; returns ngtcp2's result (servers look for
    // NGTCP2_ERR_RETRY / NGTCP2_ERR_DROP_CONN on the first packet). Does not write: the caller
    // flushes once per read batch.
    int receivePacket(const SocketAddress &from, const quint8 *data, qsizetype size);
    // flush: writes everything that congestion control and pacing allow now, then re-arms the
    // expiry timer. Safe to call at any time outside ngtcp2 callbacks.
    void flush();
    // scheduleFlush: a queued flush (coalesced): what stream operations call.
    void scheduleFlush();
    void handleWritable();
    // handleSocketError: an errno from the socket (ICMP errors). During the handshake
    // ECONNREFUSED / unreachable fail the connection at once; afterwards only when the error
    // persists for a PTO without any packet from the peer (one spoofed ICMP is not enough).
    void handleSocketError(int error);

    // close: closes with an HTTP/3 application error code (CONNECTION_CLOSE type 0x1d), deferred
    // to the next flush when called from inside callbacks. `reason` is what connectionClosed()
    // reports. Idempotent.
    void close(uint64_t appErrorCode, const Error &reason);
    // abortNow: sends CONNECTION_CLOSE with `appErrorCode` at once and stops, without telling
    // the application (for destructors). Not from inside callbacks.
    void abortNow(uint64_t appErrorCode);
    // setApplicationError: records why a callback is about to fail with
    // NGTCP2_ERR_CALLBACK_FAILURE: the connection closes with `appErrorCode` and `reason`.
    void setApplicationError(uint64_t appErrorCode, const Error &reason);

    // queueDatagram: queues a DATAGRAM frame payload (`prefix` + `payload`). Errors:
    // datagram_too_large (above maxDatagramPayload()), queue_full, no_h3_datagram (peer did not
    // announce max_datagram_frame_size); each refusal is counted.
    Status queueDatagram(QByteArrayView prefix, QByteArrayView payload);
    // maxDatagramPayload: the largest DATAGRAM frame payload that fits the peer's
    // max_datagram_frame_size and one packet on the current path; 0 when unavailable.
    qint64 maxDatagramPayload() const;
    // countDatagramReceived: the application accepted one datagram (counts for stats).
    void countDatagramReceived() noexcept { ++m_datagramsReceived; }
    // countDatagramNotNegotiated: a datagram refused because the peer disabled them.
    void countDatagramNotNegotiated() noexcept { m_writer.countNotNegotiated(); }

    // fillStats: RTT, congestion, path MTU, version, TLS, byte/packet/datagram counters.
    void fillStats(TransportStats &stats) const;
    // streamLosses: packets with STREAM frames of `streamId` declared lost (ngtcp2 counts
    // them per stream; the sum approximates packetsLost, as ngtcp2 1.11 has no total).
    quint64 streamLosses(int64_t streamId) const;

    // setLinger: keep answering for 3 PTOs after closing, then emit finished() (servers).
    void setLinger(bool linger) noexcept { m_linger = linger; }

Q_SIGNALS:
    // finished: closing/draining is over (or no linger was requested); the object may go.
    void finished();

private:
    friend struct QuicCallbacks;
    explicit QuicConnection(const QuicConfig &config);
    Status finishSetup(std::unique_ptr<QuicTlsSession> tls, ngtcp2_conn *conn);

    void failWrite(const QuicPacketWriter::Failure &failure);
    void handleExpiry();
    void updateTimer();
    void handleReadError(int rv);
    void failWithLibraryError(int liberr);
    void closeWithPacket(const ngtcp2_ccerr &ccerr, const Error &reason);
    void sendClosePacket(const ngtcp2_ccerr &ccerr);
    void enterDraining(const Error &reason);
    void closeSilently(const Error &reason);
    void finishClosing(const Error &reason);
    void respondWhileClosing();

    // Callback bodies (QuicCallbacks trampolines call these).
    int onNewConnectionId(ngtcp2_cid *cid, uint8_t *token, size_t cidLength);
    int onRemoveConnectionId(const ngtcp2_cid *cid);
    int onStreamClose(uint32_t flags, int64_t streamId, uint64_t appErrorCode);
    int onHandshakeCompleted();

    QuicConfig m_config;
    QuicApplication *m_app = nullptr;               // not owned; outlives the connection
    QuicPacketSink *m_sink = nullptr;               // not owned; outlives the connection
    QuicConnectionIdRegistry *m_registry = nullptr; // not owned; server only
    QByteArray m_staticSecret;                      // server: reset token key
    bool m_server = false;
    bool m_linger = false;

    // Handles in dependency order: the TLS session outlives the ngtcp2_conn that uses it.
    std::unique_ptr<QuicTlsSession> m_tls;
    NgtcpConnPtr m_conn;

    SocketAddress m_local;
    SocketAddress m_remote;
    ngtcp2_cid m_originalDcid{};
    Phase m_phase = Phase::Handshaking;
    QTimer m_expiryTimer;
    QTimer m_lingerTimer;
    bool m_flushScheduled = false;
    bool m_inFlush = false;
    bool m_statelessReset = false;
    std::optional<Error> m_applicationError;
    uint64_t m_applicationErrorCode = 0;
    std::optional<std::pair<uint64_t, Error>> m_pendingClose;
    ngtcp2_tstamp m_firstRefusal = 0;

    QuicPacketWriter m_writer; // packets, GSO batches and the datagram queue
    std::vector<quint8> m_closePacket;
    quint64 m_closeResponses = 0;
    quint64 m_packetsSinceClose = 0;

    quint64 m_bytesSent = 0; // CONNECTION_CLOSE packets (the rest is counted by m_writer)
    quint64 m_bytesReceived = 0;
    quint64 m_packetsSent = 0;
    quint64 m_packetsReceived = 0;
    quint64 m_datagramsReceived = 0;
    quint64 m_lostDatagramPackets = 0;
    quint64 m_closedStreamLosses = 0;
};

} // namespace qmasque::h3
