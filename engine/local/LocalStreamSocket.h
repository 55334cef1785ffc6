#pragma once

#include "api/Result.h"
#include "proxy/SocketUtil.h"

#include <QtCore/QObject>
#include <QtCore/QSocketNotifier>
#include <QtNetwork/QHostAddress>

#include <memory>

namespace qmasque {

// LocalStreamSocket: one accepted local TCP connection (an application talking to a front end),
// on its raw descriptor with two QSocketNotifiers. Unlike QTcpSocket it keeps no buffers of its
// own, so what the kernel holds is all there is (the owner decides when to read: that is the
// backpressure towards the application), and it can half-close: shutdownWrite() sends FIN while
// reading goes on, and read() reports the application's FIN as 0 without closing anything
// (RFC 9293, 3.6). QTcpSocket closes the whole connection on the peer's FIN.
//
// Events: readable() while reading is enabled and bytes, EOF or an error wait; writable() while
// write notification is on and the send buffer has room. Level-triggered: re-enabling reading
// with bytes waiting fires again. Engine thread only; owned by its parent.
class LocalStreamSocket final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LocalStreamSocket)

public:
    // Adopts `fd` (a connected TCP socket; made non-blocking here). Reading starts disabled.
    explicit LocalStreamSocket(SocketFd fd, QObject *parent = nullptr);
    ~LocalStreamSocket() override;

    // read: up to `max` bytes: the count (> 0), 0 at EOF (the application sent FIN), -1 when
    // nothing is waiting, -2 on an error (error(); the socket is unusable then).
    qint64 read(char *buffer, qint64 max);
    // write: what the kernel takes now: the count (0 = full: enable write notification and
    // wait for writable()), -1 on an error (error(); e.g. the application reset or closed).
    qint64 write(const char *data, qint64 size);
    // shutdownWrite: FIN to the application after everything written so far. Idempotent.
    void shutdownWrite();
    // abortOnClose: the descriptor is closed with an RST (SO_LINGER 0) instead of a FIN: what
    // the application sees when its tunnel failed (a reset, not a clean end).
    void abortOnClose();
    // close: closes the descriptor now (stops both notifiers). Idempotent.
    void close();

    void setReadEnabled(bool enabled);
    void setWriteNotification(bool enabled);

    bool isOpen() const noexcept { return m_fd.isValid(); }
    bool isWriteShut() const noexcept { return m_writeShut; }
    const Error &error() const noexcept { return m_error; }
    QHostAddress peerAddress() const { return m_peerAddress; }
    quint16 peerPort() const noexcept { return m_peerPort; }
    // peerString: "127.0.0.1:51234" ("[::1]:51234"), for logs and the dashboard.
    QString peerString() const;

Q_SIGNALS:
    void readable();
    void writable();

private:
    SocketFd m_fd;
    std::unique_ptr<QSocketNotifier> m_readNotifier;
    std::unique_ptr<QSocketNotifier> m_writeNotifier;
    QHostAddress m_peerAddress;
    quint16 m_peerPort = 0;
    bool m_writeShut = false;
    Error m_error;
};

} // namespace qmasque
