#include "transport/h3/QuicPacketWriter.h"

#include "transport/h3/QuicConnection.h"
#include "wire/Varint.h"

#include <algorithm>

namespace qmasque::h3 {

namespace {

constexpr size_t kStreamVectors = 16;
// Short header (RFC 9000, 17.3.1): first byte, DCID (at most 20), packet number (at most 4),
// AEAD tag (16). DATAGRAM frame (RFC 9221, 4): type and a length varint (2 bytes below 16384).
constexpr qsizetype kPacketOverhead = 1 + NGTCP2_MAX_CIDLEN + 4 + 16;
constexpr qsizetype kDatagramFrameOverhead = 1 + 2;

} // namespace

QuicPacketWriter::QuicPacketWriter(qsizetype datagramQueueCapacity)
    : m_datagrams(datagramQueueCapacity)
{}

QuicPacketWriter::Result QuicPacketWriter::writeBatch(ngtcp2_conn *conn, QuicApplication *app,
                                                      QuicPacketSink *sink, ngtcp2_tstamp ts)
{
    m_failure = {};
    ngtcp2_path_storage path;
    ngtcp2_path_storage_zero(&path);
    ngtcp2_pkt_info info{};
    const size_t maxUdp = ngtcp2_conn_get_max_tx_udp_payload_size(conn);
    const size_t pathMax = ngtcp2_conn_get_path_max_tx_udp_payload_size(conn);
    m_tx.start(std::max(ngtcp2_conn_get_send_quantum(conn), pathMax));
    std::array<ngtcp2_vec, kStreamVectors> vectors;

    for (;;) {
        const size_t destLength = m_tx.room() >= maxUdp ? maxUdp : pathMax;
        uint8_t *dest = m_tx.position();
        ngtcp2_ssize written = 0;
        int64_t streamId = -1;
        int fin = 0;
        int64_t vectorCount = 0;
        // Datagrams and stream data take turns to open a packet; whichever runs out first
        // lets the other fill the rest (NGTCP2_WRITE_*_FLAG_MORE coalesces them).
        const bool datagramFirst = !m_datagrams.isEmpty() && m_datagramTurn;
        if (!datagramFirst && ngtcp2_conn_get_max_data_left(conn) > 0) {
            vectorCount = app->streamDataToWrite(&streamId, &fin, vectors.data(), vectors.size());
            if (vectorCount < 0) {
                m_failure.nghttp3Error = int(vectorCount);
                return Result::Failed;
            }
        }

        if (streamId < 0 && !fin && !m_datagrams.isEmpty()) {
            const std::vector<unsigned char> &datagram = m_datagrams.front();
            if (qsizetype(datagram.size()) > maxDatagramBytes(conn)) {
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
                    m_failure.liberr = int(written);
                    return Result::Failed;
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
                    app->streamBlocked(streamId);
                    continue;
                case NGTCP2_ERR_STREAM_SHUT_WR:
                    app->streamWriteShut(streamId);
                    continue;
                case NGTCP2_ERR_WRITE_MORE:
                    if (app->streamDataWritten(streamId, size_t(accepted)) != 0) {
                        m_failure.liberr = NGTCP2_ERR_INTERNAL;
                        return Result::Failed;
                    }
                    continue;
                default:
                    m_failure.liberr = int(written);
                    return Result::Failed;
                }
            }
            if (accepted >= 0 && app->streamDataWritten(streamId, size_t(accepted)) != 0) {
                m_failure.liberr = NGTCP2_ERR_INTERNAL;
                return Result::Failed;
            }
        }

        if (written == 0) {
            // Congestion window, pacing, or nothing to send: what is in the batch goes now.
            if (m_tx.packets() == 0)
                return Result::Idle;
            return m_tx.send(sink) ? Result::Idle : Result::Blocked;
        }
        m_datagramTurn = !m_datagramTurn;
        if (m_tx.add(path.path, size_t(written), pathMax) != QuicTxBatch::Verdict::Continue)
            return m_tx.send(sink) ? Result::More : Result::Blocked;
    }
}

qsizetype QuicPacketWriter::maxDatagramBytes(ngtcp2_conn *conn)
{
    const ngtcp2_transport_params *remote = ngtcp2_conn_get_remote_transport_params(conn);
    if (!remote || remote->max_datagram_frame_size == 0)
        return 0;
    // RFC 9221, 3: max_datagram_frame_size bounds the whole frame (type, length, payload).
    const qsizetype frameLimit =
        qsizetype(std::min<quint64>(remote->max_datagram_frame_size, quint64(1) << 30)) - 1 -
        wire::varintLength(remote->max_datagram_frame_size);
    const qsizetype pathLimit = qsizetype(ngtcp2_conn_get_path_max_tx_udp_payload_size(conn)) -
                                kPacketOverhead - kDatagramFrameOverhead;
    return std::max<qsizetype>(0, std::min(frameLimit, pathLimit));
}

Status QuicPacketWriter::queueDatagram(ngtcp2_conn *conn, QByteArrayView prefix,
                                       QByteArrayView payload)
{
    const qsizetype limit = maxDatagramBytes(conn);
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
    return {};
}

void QuicPacketWriter::fillStats(TransportStats &stats) const
{
    stats.bytesSent += m_tx.bytesSent();
    stats.framesSent += m_tx.packetsSent();
    stats.datagramsSent = m_datagramsSent;
    stats.datagramDrops.tooLarge = m_datagramsTooLarge;
    stats.datagramDrops.queueFull = m_datagramsQueueFull;
    stats.datagramDrops.notNegotiated = m_datagramsNotNegotiated;
}

} // namespace qmasque::h3
