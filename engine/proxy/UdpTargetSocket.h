#pragma once

#include "api/Result.h"
#include "proxy/SocketUtil.h"

#include <QtCore/QObject>
#include <QtCore/QSocketNotifier>
#include <QtNetwork/QHostAddress>

#include <memory>

namespace qmasque {

// UdpTargetSocket: the connected UDP socket of one CONNECT-UDP tunnel (RFC 9298, 6: the proxy
// sends the payloads to the target and accepts only the target's answers, which a connected
// socket does in the kernel). Raw descriptor, non-blocking, large kernel buffers, no copies: the
// tunnel reads straight into its own buffer. readable() fires while datagrams are waiting.
// Engine thread only; owned by its parent.
class UdpTargetSocket final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UdpTargetSocket)

public:
    explicit UdpTargetSocket(QObject *parent = nullptr);
    ~UdpTargetSocket() override;

    // open: creates the socket and connects it to the target (no packet is sent).
    // Errors: network_unreachable, io_error.
    Status open(const QHostAddress &address, quint16 port);

    // receive: one datagram into `buffer`: its size (0 is a valid empty datagram), -1 when none
    // is waiting, -2 when it was larger than `max` (truncated: drop it). Errors reported by the
    // kernel for earlier sends (ICMP port unreachable -> ECONNREFUSED) are counted in icmpErrors()
    // and skipped.
    qint64 receive(char *buffer, qint64 max);
    // send: true when the kernel took the datagram; a full buffer drops it (UDP semantics).
    bool send(const char *data, qint64 size);

    void setReadEnabled(bool enabled);
    quint64 icmpErrors() const noexcept { return m_icmpErrors; }

Q_SIGNALS:
    void readable();

private:
    SocketFd m_fd;
    std::unique_ptr<QSocketNotifier> m_notifier;
    quint64 m_icmpErrors = 0;
};

} // namespace qmasque
