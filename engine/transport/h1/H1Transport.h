#pragma once

#include "transport/Transport.h"
#include "transport/h1/H1Codec.h"
#include "transport/tls/TlsSessionInfo.h"

#include <QtCore/QTimer>

#include <memory>

QT_BEGIN_NAMESPACE
class QSslSocket;
QT_END_NAMESPACE

namespace qmasque {

class H1Channel;
class TlsClientConnector;

// H1Transport: HTTP/1.1 over TLS (QSslSocket, ALPN "http/1.1" offered; a server that selects no
// ALPN is accepted, one that selects another protocol is alpn_mismatch). One tunnel per
// connection: the single stream has id 1 and a second submitRequest() fails with stream_limit.
//
// Requests (RFC 9112):
//  - extended CONNECT (Request::protocol set): the Upgrade form of RFC 9298, 3.2 / RFC 9484, 3:
//    `GET <path> HTTP/1.1`, `Host: <authority>`, `Connection: Upgrade`, `Upgrade: <protocol>`
//    plus the request's fields (e.g. `Capsule-Protocol: ?1`). Success is `101 Switching
//    Protocols` naming the same protocol (else bad_upgrade_response); it is delivered as
//    response status 101, then the socket's bytes are stream data both ways (capsules), starting
//    with any bytes that came in the same read as the 101 head;
//  - classic CONNECT: `CONNECT host:port HTTP/1.1`, `Host: host:port` (the authority as given,
//    IPv6 bracketed by the caller), fields such as Proxy-Authorization passed through; any 2xx
//    makes the socket a raw byte tunnel;
//  - plain requests without a body (Request::endStream must be set).
// Anything else the proxy answers is a refusal: status and fields via onStreamResponse(), then
// the body (framed by Content-Length, chunked, or the close; at most kMaxRefusalBody bytes) as
// stream data with FIN; the connection then closes. Heads are bounded by kMaxHeadBytes
// (head_too_large); bad heads are bad_status_line / malformed_header; these reach the handler as
// onStreamReset() and the connection closes with the same error.
//
// endStream() cannot half-close: the TLS socket closes once the send buffer drained (the peer
// sees the end of the tunnel in both directions). Engine thread only; owned by its parent.
class H1Transport final : public Transport
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H1Transport)

public:
    static constexpr qint64 kMaxHeadBytes = 16 * 1024;
    static constexpr qint64 kMaxRefusalBody = 64 * 1024;

    explicit H1Transport(QObject *parent = nullptr);
    ~H1Transport() override;

    TransportKind kind() const override { return TransportKind::H1; }
    State state() const override { return m_state; }

    void connectToProxy(const ConnectOptions &options) override;
    Result<StreamId> submitRequest(const Request &request) override;
    std::optional<qint64> peerStreamLimit() const override { return 1; }

    Status setStreamHandler(StreamId id, StreamHandler *handler) override;
    void clearStreamHandler(StreamId id) override;
    Result<qint64> sendStreamData(StreamId id, QByteArrayView data) override;
    Status endStream(StreamId id) override;
    void resetStream(StreamId id, StreamResetReason reason) override;
    void consumeStreamData(StreamId id, qint64 bytes) override;
    Status sendDatagram(StreamId id, QByteArrayView payload) override;
    qint64 maxDatagramPayload(StreamId id) const override;
    // peerSettings: HTTP/1.1 has no SETTINGS; `received` stays false.
    PeerSettings peerSettings() const override { return {}; }
    qint64 openStreamCount() const override;
    void goaway() override;
    void close() override;
    TransportStats stats() const override;

private:
    enum class Phase : quint8
    {
        NoRequest,    // connected, nothing submitted
        AwaitingHead, // request written, waiting for the response head
        Tunnel,       // 101 / 2xx: raw bytes both ways
        Body,         // a refusal or plain response body
        Done          // the response ended
    };

    void handleEstablished();
    void handleReadyRead();
    void handleDisconnected();
    void handleDeadline();
    bool parseResponseHead();
    void deliverBody(QByteArrayView bytes);
    void failStream(const Error &reason);
    void fail(const Error &reason);
    // finishConnection: closed() follows (queued, once); the socket is aborted or closed cleanly.
    void finishConnection(const Error &reason, bool abort = false);
    Error notConnected() const;

    State m_state = State::Idle;
    Phase m_phase = Phase::NoRequest;
    ConnectOptions m_options;
    TlsSessionInfo m_tls;
    QTimer m_deadline;
    QByteArray m_upgradeProtocol; // the protocol an Upgrade request asked for
    bool m_classicConnect = false;
    QByteArray m_headBuffer;
    H1BodyDecoder m_body;
    qint64 m_bodyBytes = 0;
    bool m_refusal = false;
    bool m_goaway = false;
    bool m_closedEmitted = false;
    // Declared in dependency order: the connector and the channel refer to the socket.
    std::unique_ptr<QSslSocket> m_socket;
    std::unique_ptr<TlsClientConnector> m_connector;
    std::unique_ptr<H1Channel> m_channel;
};

} // namespace qmasque
