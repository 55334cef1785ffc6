#pragma once

#include "api/Result.h"
#include "proxy/SocketUtil.h"

#include <QtCore/QObject>
#include <QtCore/QSocketNotifier>
#include <QtNetwork/QHostAddress>

#include <memory>

namespace qmasque {

// TcpTargetSocket: a non-blocking TCP socket to a tunnel's target, on a raw descriptor with two
// QSocketNotifiers. Unlike QTcpSocket it has no internal buffers (the tunnel decides what is
// read, and when: that is the backpressure) and it can half-close (shutdownWrite(): FIN to the
// target while still reading its bytes; RFC 9293, 3.6).
//
// Events: connected() or failed() once (queued after connectTo()), then readable() while the
// read notifier is enabled and bytes or EOF are waiting, writable() while write notification is
// on and the send buffer has room. Engine thread only; owned by its parent.
class TcpTargetSocket final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TcpTargetSocket)

public:
    explicit TcpTargetSocket(QObject *parent = nullptr);
    ~TcpTargetSocket() override;

    // connectTo: starts a non-blocking connect. An immediate failure (no route, bad family) is
    // also reported through failed(), queued, so callers have one code path.
    void connectTo(const QHostAddress &address, quint16 port);

    // read: up to `max` bytes. Returns the count (> 0), 0 at EOF (the target sent FIN), -1 when
    // nothing is waiting; -2 on an error (see error(); the socket is unusable then).
    qint64 read(char *buffer, qint64 max);
    // write: sends what the kernel takes now: the count (0 = full: enable write notification),
    // -1 on an error (error()).
    qint64 write(const char *data, qint64 size);
    // shutdownWrite: FIN to the target (after everything written so far). Idempotent.
    void shutdownWrite();
    // abortOnClose: the descriptor is closed with an RST (SO_LINGER 0) instead of a FIN, for
    // tunnels the client aborted (RFC 9293, 3.6: abort).
    void abortOnClose();

    void setReadEnabled(bool enabled);
    void setWriteNotification(bool enabled);

    bool isConnected() const noexcept { return m_connected; }
    const Error &error() const noexcept { return m_error; }
    QHostAddress address() const { return m_address; }
    quint16 port() const noexcept { return m_port; }

Q_SIGNALS:
    void connected();
    void failed(const qmasque::Error &reason);
    void readable();
    void writable();

private:
    void handleWritable();
    void fail(const Error &reason);

    SocketFd m_fd;
    std::unique_ptr<QSocketNotifier> m_readNotifier;
    std::unique_ptr<QSocketNotifier> m_writeNotifier;
    QHostAddress m_address;
    quint16 m_port = 0;
    bool m_connected = false;
    bool m_failed = false;
    bool m_writeShut = false;
    Error m_error;
};

} // namespace qmasque
