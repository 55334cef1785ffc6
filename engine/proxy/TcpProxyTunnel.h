#pragma once

#include "proxy/ProxyTunnel.h"

#include <memory>

namespace qmasque {

class HostResolver;
class TcpDialer;
class TcpTargetSocket;

// TcpProxyTunnel: classic CONNECT (RFC 9110, 9.3.6) and templated connect-tcp on the proxy.
// Set-up: resolve, keep the permitted addresses (403 when none), dial them Happy Eyeballs style
// (TcpDialer), answer 200 once connected: 502 connection_refused, 504 connection_timeout,
// 502 dns_error otherwise.
//
// Data moves with backpressure end to end, both ways, without intermediate queues:
//  - target -> client: read into one reused buffer only while the stream accepts everything
//    offered; when sendStreamData() takes less, reading stops until onStreamWritable(), so a
//    client that does not read stalls the target through TCP flow control;
//  - client -> target: bytes are written to the socket at once; what the kernel does not take is
//    kept until the socket is writable; flow-control credit (consumeStreamData) is returned only
//    for bytes written to the target, so a target that does not read stalls the client.
// Half-close both ways: the client's FIN becomes shutdown(SHUT_WR) after the last byte; the
// target's FIN becomes the stream's FIN after its last byte; the other direction keeps flowing
// (h1 cannot half-close: its endStream closes the connection). A target error (reset) resets the
// stream with CONNECT_ERROR (RFC 9113, 8.5; RFC 9114, 4.4); a client reset makes the target see
// an RST.
class TcpProxyTunnel final : public ProxyTunnel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TcpProxyTunnel)

public:
    TcpProxyTunnel(ProxyContext &context, ServerConnection *connection, StreamId id,
                   const TunnelRequest &request, const QString &logId, QObject *parent);
    ~TcpProxyTunnel() override;

    void onStreamData(StreamId id, QByteArrayView data, bool fin) override;
    void onStreamWritable(StreamId id) override;

protected:
    void startSetup() override;
    void releaseResources() override;

private:
    void handleResolved(const QList<QHostAddress> &addresses);
    void handleConnected(TcpTargetSocket *socket);
    void handleTargetReadable();
    void handleTargetWritable();
    // writeToTarget: writes `data`; returns the count taken, -1 after a target failure (the
    // tunnel is aborted then).
    qint64 writeToTarget(QByteArrayView data);
    bool flushToClient();
    void targetFailed(const Error &reason);
    void maybeFinish();

    std::unique_ptr<HostResolver> m_resolver;
    std::unique_ptr<TcpDialer> m_dialer;
    std::unique_ptr<TcpTargetSocket> m_socket;
    QByteArray m_readBuffer;    // target -> client, reused
    qint64 m_pendingOffset = 0; // unsent part of m_readBuffer: [offset, offset + length)
    qint64 m_pendingLength = 0;
    QByteArray m_toTarget; // client bytes the socket did not take yet
    qint64 m_toTargetOffset = 0;
    bool m_clientFin = false;   // the client ended its side
    bool m_targetShut = false;  // ... and we passed that on (shutdown(SHUT_WR))
    bool m_targetEof = false;   // the target ended its side
    bool m_streamEnded = false; // ... and we passed that on (endStream)
    bool m_clientAborted = false;
};

} // namespace qmasque
