#pragma once

#include "api/Result.h"
#include "api/TransportStats.h"
#include "transport/StreamHandler.h"
#include "transport/tls/ByteQueue.h"
#include "transport/tls/PendingStreamEvents.h"

#include <QtCore/QObject>

QT_BEGIN_NAMESPACE
class QSslSocket;
QT_END_NAMESPACE

namespace qmasque {

// H1Channel: the one stream (id 1) of an HTTP/1.1 connection, shared by H1Transport and
// H1ServerConnection: the handler and its kept events, a bounded send queue written to the TLS
// socket in bounded chunks, and a consumption-based receive window. The connection object parses
// heads and framing and decides when the stream starts and ends; the channel moves the bytes.
//
// Receive flow control: HTTP/1.1 has none of its own, so the channel stops reading the socket
// (receiveRoom() == 0) while the handler holds `receiveWindow` unconsumed bytes; QSslSocket's
// read buffer is bounded too, so the peer's TCP window closes and it stalls.
//
// Ownership: the socket is not owned and outlives the channel. Engine thread only.
class H1Channel final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H1Channel)

public:
    static constexpr StreamId kStreamId = 1;
    static constexpr qint64 kWriteChunk = 64 * 1024;        // one QSslSocket::write at most
    static constexpr qint64 kSocketHighWater = 256 * 1024;  // keep at most this in QSslSocket
    static constexpr qint64 kSocketReadBuffer = 256 * 1024; // QSslSocket read buffer bound
    static constexpr qint64 kMaxDatagramPayload = 65535;    // DATAGRAM capsule value limit

    H1Channel(QSslSocket *socket, qint64 sendBufferLimit, qint64 receiveWindow,
              QObject *parent = nullptr);
    ~H1Channel() override;

    // open: the stream exists from now on (request submitted / request head received).
    void open() { m_open = true; }
    bool isOpen() const noexcept { return m_open; }
    // finishReading: the peer's side ended (FIN delivered or reset): no more data is read.
    bool readFinished() const noexcept { return m_readFinished; }

    // Handler registration (HttpConnection contract) for id 1.
    Status setHandler(StreamId id, StreamHandler *handler);
    void clearHandler(StreamId id);

    // Events from the connection's parser to the handler (or kept until one registers).
    void deliverResponse(const Response &response);
    void deliverData(QByteArrayView data, bool fin);
    void deliverReset(const Error &reason);

    // receiveRoom: how many more bytes may be delivered before the handler consumed some.
    qint64 receiveRoom() const noexcept;
    void consume(StreamId id, qint64 bytes);
    void countReceived(qint64 bytes) noexcept { m_bytesReceived += quint64(bytes); }

    // writeHead: a message head, queued before any body bytes; not bounded by the send buffer.
    void writeHead(const QByteArray &head);
    Result<qint64> send(StreamId id, QByteArrayView data);
    Status sendDatagram(StreamId id, QByteArrayView payload);
    qint64 maxDatagramPayload(StreamId id) const;
    // requestEnd: the stream's sending side ends: HTTP/1.1 cannot half-close a TLS connection
    // (a close_notify ends both directions), so the socket closes once everything was written;
    // drained() is emitted then.
    Status requestEnd(StreamId id);
    bool endRequested() const noexcept { return m_endRequested; }
    // reset: aborts the stream locally: queued bytes dropped, no further callbacks.
    void reset();
    bool isReset() const noexcept { return m_localReset; }

    void fillStats(TransportStats &stats) const;

Q_SIGNALS:
    // receiveRoomAvailable: the handler consumed bytes and reading may resume (queued).
    void receiveRoomAvailable();
    // drained: requestEnd() was called and every byte is with the socket.
    void drained();

private:
    void pump();
    void handleBytesWritten();
    bool attached(StreamHandler *handler) const;

    QSslSocket *m_socket; // not owned; outlives the channel
    const qint64 m_sendBufferLimit;
    const qint64 m_receiveWindow;

    StreamHandler *m_handler = nullptr; // not owned; valid while registered
    PendingStreamEvents m_pending;
    ByteQueue m_sendQueue;
    QByteArray m_capsule; // scratch for DATAGRAM capsules
    qint64 m_unconsumed = 0;

    bool m_open = false;
    bool m_detached = false;
    bool m_localReset = false;
    bool m_readFinished = false;
    bool m_endRequested = false;
    bool m_drainedEmitted = false;
    bool m_wantWritable = false;
    bool m_partialWrite = false;
    bool m_roomSignalQueued = false;
    bool m_inPump = false;

    quint64 m_bytesSent = 0;
    quint64 m_bytesReceived = 0;
    quint64 m_datagramsSent = 0;
    DatagramDrops m_drops;
};

} // namespace qmasque
