#pragma once

#include "api/Error.h"
#include "local/LocalStreamSocket.h"
#include "local/SocketWriteQueue.h"
#include "tunnel/TcpTunnel.h"

#include <QtCore/QByteArray>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QTimer>

namespace qmasque {

// TcpRelay: pumps the bytes of one local TCP connection through one open TCP tunnel, both ways,
// until both are done. Shared by the TCP front ends (tcp-forward, the HTTP proxy's CONNECT; the
// SOCKS5 CONNECT can use it the same way once its handshake is over).
//
// Backpressure, end to end:
//  - up: the socket is read only while the tunnel takes bytes (TcpTunnel::write()); a short
//    write stops reading until writable(), so the kernel's receive buffer fills and TCP closes
//    the application's window. At most kReadChunk bytes wait here.
//  - down: tunnel bytes are written straight to the socket, and TcpTunnel::consume() is called
//    only for bytes the kernel took; the rest waits here until the socket is writable. So the
//    bytes held here never exceed the tunnel's receive window (ConnectOptions::
//    streamReceiveWindow): the proxy cannot send more before we return credit.
// Half-close: the application's FIN becomes the tunnel's FIN (shutdownWrite()). HTTP/1.1 cannot
// half-close (a TLS close ends both directions): there the relay goes on delivering the target's
// bytes after the application's FIN until kH1FinGraceMs (setH1FinGraceMs()) pass without any
// arriving or waiting, then closes the tunnel, so request/response exchanges still get their
// answer and applications that went away do not hold a tunnel forever. The other way, the
// tunnel's FIN (readFinished()) becomes a FIN to the application once every byte before it was
// written. Both FINs exchanged end the tunnel cleanly (peer_fin).
//
// End: finished(reason) once, when the tunnel closed and everything it delivered was written to
// the application (a graceful end: the application then got FIN), or at once on an error: a
// local socket error aborts the tunnel (RST to the target), a tunnel error (reset, connection
// lost, ...) closes the application's connection with an RST so it sees a failure, never a clean
// EOF. Neither object is owned: the owner deletes both after finished() (deleteLater(): it is
// emitted from inside socket and tunnel callbacks). Engine thread only.
class TcpRelay final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TcpRelay)

public:
    static constexpr qint64 kReadChunk = 64 * 1024;
    static constexpr int kH1FinGraceMs = 5000;

    // `socket` and `tunnel` (open) are not owned and must outlive the relay, or the tunnel may
    // close first (it is guarded).
    TcpRelay(LocalStreamSocket *socket, TcpTunnel *tunnel, QObject *parent = nullptr);
    ~TcpRelay() override;

    // start: begins relaying. `initialUp`: bytes already read from the application (e.g. after
    // an HTTP CONNECT head) that go to the tunnel first. `initialDown`: bytes of our own for the
    // application before the tunnel's (the CONNECT or SOCKS5 success reply). Call once.
    void start(QByteArray initialUp = {}, QByteArrayView initialDown = {});
    // closeGracefully: ends both sides now with FINs (front end stopping); finished() follows
    // when the tunnel has closed.
    void closeGracefully();
    // setH1FinGraceMs: see the class comment; call before start().
    void setH1FinGraceMs(int ms) { m_h1FinGraceMs = ms; }

    bool isFinished() const noexcept { return m_finished; }
    qint64 bytesUp() const noexcept { return m_bytesUp; }
    qint64 bytesDown() const noexcept { return m_down.tunnelBytesWritten(); }
    // pendingUp / pendingDown: bytes waiting here for the tunnel (at most kReadChunk) and for
    // the socket (at most the tunnel's receive window).
    qint64 pendingUp() const noexcept { return m_up.size() - m_upOffset; }
    qint64 pendingDown() const noexcept { return m_down.pending(); }

Q_SIGNALS:
    void finished(const qmasque::Error &reason);

private:
    void pumpUp();
    void handleTunnelWritable();
    void receive(QByteArrayView data);
    void queueDown(QByteArrayView data, bool ownBytes);
    void handleSocketWritable();
    void handleTunnelReadFinished();
    void handleTunnelClosed(const Error &reason);
    void shutdownTunnelWrite();
    void maybeFinishGracefully();
    void fail(const Error &reason);
    void finish(const Error &reason);

    LocalStreamSocket *m_socket;  // not owned; outlives the relay
    QPointer<TcpTunnel> m_tunnel; // not owned (TunnelClient's); may close first
    QByteArray m_up;              // read from the application, not yet taken by the tunnel
    qsizetype m_upOffset = 0;
    SocketWriteQueue m_down; // from the tunnel (and initialDown), not yet taken by the socket
    qint64 m_bytesUp = 0;
    bool m_started = false;
    bool m_upEof = false;        // the application sent FIN
    bool m_tunnelFin = false;    // the tunnel reported readFinished()
    bool m_tunnelClosed = false; // closed() arrived (graceful)
    Error m_closeReason;         // of the tunnel
    int m_h1FinGraceMs = kH1FinGraceMs;
    QTimer m_h1FinGrace; // HTTP/1.1 after the application's FIN: quiet time until close
    bool m_finished = false;
};

} // namespace qmasque
