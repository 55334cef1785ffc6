#include "transport/h3/QuicTxBatch.h"

#include "transport/h3/QuicConnection.h"

#include <algorithm>
#include <cerrno>

namespace qmasque::h3 {

QuicTxBatch::QuicTxBatch()
    : m_buffer(size_t(UdpSocket::kMaxBatchBytes))
{
    ngtcp2_path_storage_zero(&m_batchPath);
}

void QuicTxBatch::start(size_t budget)
{
    m_budget = std::min(budget, m_buffer.size());
    m_used = 0;
    m_segment = 0;
    m_packets = 0;
    m_hasApart = false;
}

QuicTxBatch::Verdict QuicTxBatch::add(const ngtcp2_path &path, size_t size, size_t pathMax)
{
    if (m_packets == 0) {
        ngtcp2_path_copy(&m_batchPath.path, &path);
        m_segment = size;
    } else if (!ngtcp2_path_eq(&m_batchPath.path, &path) || size > m_segment ||
               (m_segment > pathMax && size != m_segment)) {
        // GSO sends equal segments (only the last may be shorter) on one path.
        m_hasApart = true;
        m_apart = {m_used, size, size,
                   SocketAddress::fromNative(path.remote.addr, path.remote.addrlen)};
        return Verdict::SendApart;
    }
    m_used += size;
    ++m_packets;
    if (m_budget - m_used < pathMax || size < m_segment || m_packets == UdpSocket::kMaxSegments)
        return Verdict::SendNow;
    return Verdict::Continue;
}

bool QuicTxBatch::send(QuicPacketSink *sink)
{
    Range batch{
        0, m_used, m_segment,
        SocketAddress::fromNative(m_batchPath.path.remote.addr, m_batchPath.path.remote.addrlen)};
    const bool sent = m_packets == 0 || sendRange(sink, batch);
    if (!sent)
        m_blocked[m_blockedCount++] = batch;
    if (m_hasApart) {
        m_hasApart = false;
        if (!sent)
            m_blocked[m_blockedCount++] = m_apart;
        else if (!sendRange(sink, m_apart))
            m_blocked[m_blockedCount++] = m_apart;
    }
    m_packets = 0;
    m_used = 0;
    return m_blockedCount == 0;
}

bool QuicTxBatch::resend(QuicPacketSink *sink)
{
    while (m_blockedCount > 0) {
        if (!sendRange(sink, m_blocked[0]))
            return false; // still full: the rest of m_blocked[0] was kept in place
        m_blocked[0] = m_blocked[1];
        --m_blockedCount;
    }
    return true;
}

bool QuicTxBatch::sendRange(QuicPacketSink *sink, Range &range)
{
    const ngtcp2_addr to{const_cast<sockaddr *>(range.to.data()), range.to.length};
    const UdpSocket::SendResult result = sink->sendPackets(
        to, m_buffer.data() + range.offset, qsizetype(range.size), qsizetype(range.segmentSize));
    const size_t sent = size_t(result.bytesSent);
    m_bytesSent += sent;
    m_packetsSent += (sent + range.segmentSize - 1) / range.segmentSize;
    if (sent >= range.size)
        return true;
    if (result.error == EAGAIN || result.error == EWOULDBLOCK) {
        range.offset += sent;
        range.size -= sent;
        return false;
    }
    // Any other error loses the packets, as the network might; the connection judges the
    // error (ICMP-style refusals) after the write pass.
    m_error = result.error;
    return true;
}

} // namespace qmasque::h3
