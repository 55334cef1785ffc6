#pragma once

#include "api/Result.h"

#include <QtCore/QObject>
#include <QtNetwork/QHostAddress>

#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <vector>

class QSocketNotifier;
struct mmsghdr;
struct iovec;

namespace qmasque::h3 {

// SocketAddress: an IPv4 or IPv6 socket address with its length, as the socket calls and ngtcp2
// take it. A value; cheap to copy.
struct SocketAddress
{
    sockaddr_storage storage{};
    socklen_t length = 0;

    sockaddr *data() noexcept { return reinterpret_cast<sockaddr *>(&storage); }
    const sockaddr *data() const noexcept { return reinterpret_cast<const sockaddr *>(&storage); }
    int family() const noexcept { return storage.ss_family; }
    bool isValid() const noexcept { return length > 0; }

    // fromHostAddress: QHostAddress::Any maps to the IPv6 wildcard (dual stack), AnyIPv4 to
    // 0.0.0.0; scoped IPv6 addresses keep their scope id.
    static SocketAddress fromHostAddress(const QHostAddress &address, quint16 port);
    static SocketAddress fromNative(const sockaddr *address, socklen_t length);
    QHostAddress hostAddress() const;
    quint16 port() const noexcept;
    // isWildcard: the unspecified address (0.0.0.0 or ::).
    bool isWildcard() const noexcept;

    friend bool operator==(const SocketAddress &a, const SocketAddress &b) noexcept;
};

// UdpSocket: one non-blocking native UDP socket driven by the Qt event loop (QSocketNotifier),
// the only place the H3 transport touches the kernel. It reads in batches (recvmmsg) and sends
// runs of equal-sized QUIC packets with one syscall: UDP generic segmentation offload
// (UDP_SEGMENT) where the kernel allows it, sendmmsg otherwise. The first EIO/EINVAL from a GSO
// send disables GSO for the socket (logged once), and the same bytes go out without it.
//
// Socket buffers are sized for throughput (8 MiB each way; one log line per process when the
// kernel caps them, naming the sysctl). IP fragmentation is disabled (DF set) so that ngtcp2's
// path MTU probes are honest. ECN is not used.
//
// Threading: engine thread only. The receiver (not owned) must outlive the socket and must not
// delete it from inside a Receiver callback.
class UdpSocket final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UdpSocket)

public:
    // Receiver: gets what the socket reads. Views are valid only during the call.
    class Receiver
    {
    public:
        virtual ~Receiver() = default;
        // handleDatagram: one UDP payload from `from`.
        virtual void handleDatagram(const SocketAddress &from, const quint8 *data,
                                    qsizetype size) = 0;
        // handleReadFinished: a read batch ended; the place to flush what the packets caused.
        virtual void handleReadFinished() = 0;
        // handleWritable: the socket has room again after a send returned EAGAIN.
        virtual void handleWritable() = 0;
        // handleSocketError: an asynchronous error (ICMP port unreachable surfaces as
        // ECONNREFUSED on a connected socket), as an errno value.
        virtual void handleSocketError(int error) = 0;
    };

    // SendResult: `bytesSent` of the buffer left the host (or were dropped by the kernel for a
    // reason that must not stall the sender: EMSGSIZE on a too-large PMTU probe, ENOBUFS).
    // `error` is 0, EAGAIN when the socket buffer is full (wait for handleWritable(), then send
    // the rest), or another errno value that the caller maps (ECONNREFUSED, ENETUNREACH, ...).
    struct SendResult
    {
        qsizetype bytesSent = 0;
        int error = 0;
    };

    // kSlotSize: the largest UDP payload the socket reads; longer datagrams are dropped. QUIC
    // endpoints advertise it as max_udp_payload_size.
    static constexpr qsizetype kSlotSize = 2048;
    // kMaxSegments: packets per GSO send (Linux accepts up to 64 segments of one datagram).
    static constexpr int kMaxSegments = 64;
    // kMaxBatchBytes: the largest buffer one send() takes (a GSO super-datagram < 64 KiB).
    static constexpr qsizetype kMaxBatchBytes = 65000;

    UdpSocket(Receiver *receiver, QObject *parent = nullptr);
    ~UdpSocket() override;

    // bind: opens a socket bound to `local` (servers). Port 0 picks a free port.
    // Errors: address_in_use, permission_denied, io_error.
    Status bind(const SocketAddress &local);
    // connectTo: opens a socket on an ephemeral port of `remote`'s family and connects it, so the
    // kernel filters other senders and reports ICMP errors (clients). Errors: io_error,
    // network_unreachable.
    Status connectTo(const SocketAddress &remote);
    void close();

    bool isOpen() const noexcept { return m_fd >= 0; }
    const SocketAddress &localAddress() const noexcept { return m_local; }
    bool gsoEnabled() const noexcept { return m_gso; }

    // send: sends `size` bytes as packets of `segmentSize` bytes (the last one may be shorter);
    // `to` is ignored on a connected socket (pass nullptr). segmentSize <= 0 means one packet.
    SendResult send(const SocketAddress *to, const quint8 *data, qsizetype size,
                    qsizetype segmentSize);

    // waitForWritable: calls Receiver::handleWritable() once the socket can send again.
    void waitForWritable();

private:
    Status open(int family);
    void configure();
    void handleReadable();
    void handleWritableNotification();
    SendResult sendGso(const SocketAddress *to, const quint8 *data, qsizetype size,
                       qsizetype segmentSize);
    SendResult sendEach(const SocketAddress *to, const quint8 *data, qsizetype size,
                        qsizetype segmentSize);

    Receiver *m_receiver; // not owned; outlives the socket
    int m_fd = -1;
    bool m_connected = false;
    bool m_gso = false;
    SocketAddress m_local;
    std::unique_ptr<QSocketNotifier> m_readNotifier;
    std::unique_ptr<QSocketNotifier> m_writeNotifier;

    // Receive batch, allocated once: kBatch slots of kSlotSize bytes with their headers.
    std::vector<quint8> m_rxBuffer;
    std::vector<mmsghdr> m_rxMessages;
    std::vector<iovec> m_rxVectors;
    std::vector<SocketAddress> m_rxNames;
    // Send headers for the sendmmsg fallback, allocated once.
    std::vector<mmsghdr> m_txMessages;
    std::vector<iovec> m_txVectors;
};

} // namespace qmasque::h3
