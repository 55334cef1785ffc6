#pragma once

#include "transport/h3/UdpSocket.h"

#include <ngtcp2/ngtcp2.h>

#include <array>
#include <utility>
#include <vector>

namespace qmasque::h3 {

class QuicPacketSink;

// QuicTxBatch: the QUIC packets of one write pass, assembled back to back in a buffer that is
// allocated once and reused, so that a run of equal-sized packets leaves in one GSO send
// (UdpSocket). It decides when a packet cannot join the batch (another path, a larger size, a
// PMTU probe among regular packets) and keeps whatever the socket refused (EAGAIN) for resend()
// once it is writable again. Not copyable; owned by its QuicConnection.
class QuicTxBatch
{
public:
    enum class Verdict : quint8
    {
        Continue, // room for more
        SendNow,  // full (or the last packet was short): send()
        SendApart // the last packet does not fit the batch: send() sends both, in order
    };

    QuicTxBatch();
    Q_DISABLE_COPY_MOVE(QuicTxBatch)

    // start: a new batch of at most `budget` bytes (ngtcp2's send quantum).
    void start(size_t budget);
    uint8_t *position() noexcept { return m_buffer.data() + m_used; }
    size_t room() const noexcept { return m_budget - m_used; }
    int packets() const noexcept { return m_packets; }

    // add: the packet of `size` bytes ngtcp2 just wrote at position() for `path`. `pathMax` is
    // the current path's maximum UDP payload (larger packets are PMTU probes).
    Verdict add(const ngtcp2_path &path, size_t size, size_t pathMax);

    // send: sends the batch (and a packet set apart). False when the socket was full: the rest
    // is kept, and the caller waits for writability and calls resend().
    bool send(QuicPacketSink *sink);
    // resend: sends what was kept; true when nothing is left.
    bool resend(QuicPacketSink *sink);
    bool isBlocked() const noexcept { return m_blockedCount > 0; }
    void discardBlocked() noexcept { m_blockedCount = 0; }

    quint64 bytesSent() const noexcept { return m_bytesSent; }
    quint64 packetsSent() const noexcept { return m_packetsSent; }
    // takeError: the last errno other than EAGAIN the socket reported (0: none), then clears it.
    int takeError() noexcept { return std::exchange(m_error, 0); }

private:
    struct Range
    {
        size_t offset = 0;
        size_t size = 0;
        size_t segmentSize = 0;
        SocketAddress to;
    };

    bool sendRange(QuicPacketSink *sink, Range &range);

    std::vector<uint8_t> m_buffer;
    size_t m_budget = 0;
    size_t m_used = 0;
    size_t m_segment = 0;
    int m_packets = 0;
    SocketAddress m_batchTo;
    ngtcp2_path_storage m_batchPath;
    bool m_hasApart = false;
    Range m_apart;
    std::array<Range, 2> m_blocked;
    int m_blockedCount = 0;
    quint64 m_bytesSent = 0;
    quint64 m_packetsSent = 0;
    int m_error = 0;
};

} // namespace qmasque::h3
