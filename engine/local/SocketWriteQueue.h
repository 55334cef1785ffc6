#pragma once

#include "local/LocalStreamSocket.h"
#include "tunnel/TcpTunnel.h"

#include <QtCore/QByteArray>

namespace qmasque {

// SocketWriteQueue: the bytes on their way from a TCP tunnel to a local application's socket.
// They are written straight through while the kernel takes them and queued here otherwise (with
// the socket's write notification on until the queue drains), so their order is kept.
//
// Flow-control credit goes back to the tunnel (TcpTunnel::consume()) only for tunnel bytes the
// kernel took, so what waits here never exceeds the tunnel's receive window. Bytes of our own
// (a CONNECT or SOCKS5 reply, a rewritten response head) return no credit; they must be queued
// before any tunnel byte that is still waiting (they are: replies and heads precede bodies).
// Used by TcpRelay and HttpForwardExchange. Engine thread only.
class SocketWriteQueue
{
public:
    explicit SocketWriteQueue(LocalStreamSocket *socket)
        : m_socket(socket)
    {}

    // write: false on a socket error (LocalStreamSocket::error()). `tunnel` may be null (gone):
    // its credit is then not returned, the bytes are still delivered.
    bool write(QByteArrayView data, bool ownBytes, TcpTunnel *tunnel);

    enum class Flush : quint8
    {
        Drained, // everything was written; the write notification is off
        Pending, // the socket is full again; the notification stays on
        Failed,  // a socket error
    };
    // flush: on the socket's writable().
    Flush flush(TcpTunnel *tunnel);

    bool isEmpty() const noexcept { return m_offset == m_queue.size(); }
    qint64 pending() const noexcept { return m_queue.size() - m_offset; }
    // tunnelBytesWritten: tunnel bytes the kernel took so far (own bytes not included).
    qint64 tunnelBytesWritten() const noexcept { return m_tunnelBytes; }
    void clear();

private:
    void credit(qint64 bytes, TcpTunnel *tunnel);

    LocalStreamSocket *m_socket; // not owned
    QByteArray m_queue;
    qsizetype m_offset = 0;
    qint64 m_ownPending = 0; // bytes at the front of the queue that are ours
    qint64 m_tunnelBytes = 0;
};

} // namespace qmasque
