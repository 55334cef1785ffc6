#pragma once

#include "tunnel/TunnelSession.h"

#include <functional>

namespace qmasque {

// TcpTunnel: a TCP byte stream through the proxy: classic CONNECT (RFC 9110, 9.3.6) by default,
// templated connect-tcp (draft-ietf-httpbis-connect-tcp) when the profile asks. The bytes are the
// request stream's data; both directions are flow-controlled end to end.
//
// For the local front ends (SOCKS5 CONNECT, HTTP proxy, tcp-forward):
//  - write(data) -> bytes accepted (0..size), at most what the stream's send buffer has room
//    for. A short count means "full": writable() follows when there is room again; then write
//    the rest. Errors: not_ready, write_closed (after shutdownWrite()), stream_closed.
//  - setReceiver(fn): fn(view) gets the received bytes in order (view valid during the call:
//    copy what you keep). Then call consume(n) once n of them are drained to the local socket:
//    only consumed bytes reopen the proxy's flow-control window, so a slow local reader stalls
//    the remote sender. Without a receiver the bytes are held (unconsumed) and handed to the
//    next setReceiver().
//  - readFinished(): the proxy sent FIN (the target closed its side): no more bytes will come;
//    writing is still allowed (half-close). Reported after every received byte was delivered.
//  - shutdownWrite(): sends FIN after the queued bytes and keeps reading (half-close). HTTP/1.1
//    cannot half-close (a TLS close_notify ends both directions): there it fails with
//    not_supported and canHalfClose() is false; keep reading until the proxy closes, or close().
//  - Both FINs exchanged: the tunnel ends with peer_fin. close(): graceful (FIN, pooled stream
//    released gracefully); abort(): reset with CONNECT_ERROR / H3_CONNECT_ERROR (RFC 9113, 8.5;
//    RFC 9114, 4.4), as a TCP RST would be.
class TcpTunnel final : public TunnelSession
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TcpTunnel)

public:
    using Receiver = std::function<void(QByteArrayView data)>;

    explicit TcpTunnel(TunnelConfig config, QObject *parent = nullptr);
    ~TcpTunnel() override;

    TunnelProtocol protocol() const override { return TunnelProtocol::Tcp; }

    Result<qint64> write(QByteArrayView data);
    void setReceiver(Receiver receiver);
    // consume: `bytes` delivered bytes were drained locally (clamped to what is outstanding).
    void consume(qint64 bytes);
    Status shutdownWrite();

    bool canHalfClose() const noexcept { return transport() != TransportKind::H1; }
    bool isReadFinished() const noexcept { return m_peerFin && m_held.isEmpty(); }
    bool isWriteShut() const noexcept { return finSent(); }
    // unconsumed: delivered (or held) bytes not consumed yet.
    qint64 unconsumed() const noexcept { return m_unconsumed; }

Q_SIGNALS:
    void writable();
    void readFinished();

protected:
    void onOpened() override;
    void handleStreamBody(QByteArrayView data, bool fin) override;
    void handleWritable() override;
    void onEnding() override;
    bool peerFinished() const override { return m_peerFin; }

private:
    void flushHeld();
    void reportPeerFin();
    void maybeFinish();

    Receiver m_receiver;
    QByteArray m_held; // received while no receiver was set (unconsumed)
    qint64 m_unconsumed = 0;
    bool m_peerFin = false;
    bool m_peerFinReported = false;
    bool m_writeBlocked = false;
};

} // namespace qmasque
