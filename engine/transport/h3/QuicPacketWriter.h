#pragma once

#include "api/Result.h"
#include "api/TransportStats.h"
#include "transport/h3/QuicDatagramQueue.h"
#include "transport/h3/QuicTxBatch.h"

#include <ngtcp2/ngtcp2.h>

namespace qmasque::h3 {

class QuicApplication;
class QuicPacketSink;

// QuicPacketWriter: turns what a connection has to send into QUIC packets and puts them on the
// wire: stream data from the QuicApplication (nghttp3) and DATAGRAM frames from the bounded
// datagram queue, coalesced into one packet where they fit (NGTCP2_WRITE_*_FLAG_MORE), and the
// packets into GSO batches (QuicTxBatch). Datagrams and stream data take turns opening a packet,
// so neither starves the other.
//
// It never closes anything: a fatal error is returned as Result::Failed with failure(), and
// its QuicConnection closes. Owned by the QuicConnection; engine thread only.
class QuicPacketWriter
{
public:
    enum class Result : quint8
    {
        More,    // a batch went out; there may be more to write
        Idle,    // nothing to write now (no data, congestion window, pacing)
        Blocked, // the socket is full: wait for it, then resend via tx()
        Failed   // see failure()
    };
    // Failure: an ngtcp2 library error, or an nghttp3 error from the application.
    struct Failure
    {
        int liberr = 0;
        int nghttp3Error = 0;
    };

    explicit QuicPacketWriter(qsizetype datagramQueueCapacity);
    Q_DISABLE_COPY_MOVE(QuicPacketWriter)

    // writeBatch: writes one batch (up to ngtcp2's send quantum) and sends it.
    Result writeBatch(ngtcp2_conn *conn, QuicApplication *app, QuicPacketSink *sink,
                      ngtcp2_tstamp ts);
    const Failure &failure() const noexcept { return m_failure; }
    QuicTxBatch &tx() noexcept { return m_tx; }

    // maxDatagramBytes: the largest DATAGRAM frame payload that fits the peer's
    // max_datagram_frame_size (RFC 9221, 3) and an empty packet on the current path (after
    // PMTUD); 0 when the peer takes no datagrams.
    static qsizetype maxDatagramBytes(ngtcp2_conn *conn);
    // queueDatagram: errors no_h3_datagram, datagram_too_large, queue_full (each counted).
    Status queueDatagram(ngtcp2_conn *conn, QByteArrayView prefix, QByteArrayView payload);
    void countNotNegotiated() noexcept { ++m_datagramsNotNegotiated; }
    // discard: the connection closed: queued datagrams and blocked packets are dropped.
    void discard() noexcept
    {
        m_datagrams.clear();
        m_tx.discardBlocked();
    }

    // fillStats: bytes and packets sent (added), datagrams sent and send-side drops.
    void fillStats(TransportStats &stats) const;

private:
    QuicTxBatch m_tx;
    QuicDatagramQueue m_datagrams;
    Failure m_failure;
    bool m_datagramTurn = false;
    uint64_t m_datagramSequence = 0; // dgram_id for ngtcp2's lost/acked datagram callbacks
    quint64 m_datagramsSent = 0;
    quint64 m_datagramsTooLarge = 0;
    quint64 m_datagramsQueueFull = 0;
    quint64 m_datagramsNotNegotiated = 0;
};

} // namespace qmasque::h3
