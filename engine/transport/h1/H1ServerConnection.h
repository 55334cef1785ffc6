#pragma once

#include "transport/ServerConnection.h"
#include "transport/ServerOptions.h"
#include "transport/h1/H1Codec.h"
#include "transport/tls/TlsSessionInfo.h"

#include <QtCore/QTimer>

#include <memory>
#include <optional>

QT_BEGIN_NAMESPACE
class QSslSocket;
QT_END_NAMESPACE

namespace qmasque {

class H1Channel;

// H1ServerConnection: one accepted HTTP/1.1 connection (ALPN "http/1.1" or none) carrying one
// request, mapped to IncomingRequest as ServerConnection.h documents:
//  - `GET <path>` with `Upgrade: <token>` and `Connection: upgrade` -> method CONNECT, protocol
//    <token> (lower-cased), scheme https, authority = Host, path (RFC 9298, 3.2; RFC 9484, 3);
//  - `CONNECT host:port` -> classic CONNECT with that authority (RFC 9110, 9.3.6);
//  - anything else -> a plain request; a Content-Length or chunked body becomes stream data.
// Connection-specific fields (Connection, Upgrade, Keep-Alive, Proxy-Connection, TE,
// Transfer-Encoding, Host) are not copied into IncomingRequest::headers.
//
// submitResponse(): to an Upgrade request, any 2xx or 101 is written as `101 Switching
// Protocols` with `Connection: Upgrade` and `Upgrade: <token>` (so proxy handlers answer 200 on
// every HTTP version); to CONNECT a 2xx is written as is; then the socket carries raw stream bytes
// both ways. Every other response is written with `Connection: close` (and `Content-Length: 0`
// when it ends the stream at once); its body is delimited by the close, which follows endStream()
// once everything was written. A request head above ServerOptions::maxRequestHeadBytes is
// answered 431, a malformed one 400, and the connection closes; no head within idleTimeoutMs
// closes it too. endStream() closes the socket after the buffer drained (no half-close).
//
// Ownership: takes the encrypted socket as its child; created by TlsServerListener. Engine
// thread only.
class H1ServerConnection final : public ServerConnection
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H1ServerConnection)

public:
    H1ServerConnection(QSslSocket *socket, const ServerOptions &options, QObject *parent = nullptr);
    ~H1ServerConnection() override;

    // start: begins reading (bytes that came with the handshake included). Call once, after
    // connecting to requestReceived().
    void start();

    TransportKind kind() const override { return TransportKind::H1; }
    State state() const override { return m_state; }
    Status submitResponse(StreamId id, const Response &response, bool endStream) override;
    QHostAddress peerAddress() const override { return m_peerAddress; }
    quint16 peerPort() const override { return m_peerPort; }

    Status setStreamHandler(StreamId id, StreamHandler *handler) override;
    void clearStreamHandler(StreamId id) override;
    Result<qint64> sendStreamData(StreamId id, QByteArrayView data) override;
    Status endStream(StreamId id) override;
    void resetStream(StreamId id, StreamResetReason reason) override;
    void consumeStreamData(StreamId id, qint64 bytes) override;
    Status sendDatagram(StreamId id, QByteArrayView payload) override;
    qint64 maxDatagramPayload(StreamId id) const override;
    PeerSettings peerSettings() const override { return {}; }
    qint64 openStreamCount() const override;
    void goaway() override;
    void close() override;
    TransportStats stats() const override;

private:
    enum class Phase : quint8
    {
        AwaitingHead,
        Request, // request announced, body (if any) being read, no response yet
        Tunnel,  // 2xx / 101 sent to a tunnel request
        Closing  // refusal sent or failed: the socket closes once drained
    };

    void handleReadyRead();
    void handleDisconnected();
    bool parseRequest();
    void deliverBody(QByteArrayView bytes);
    void refuseHead(int status, const Error &reason);
    // finish: closed() follows (queued, once); the socket is aborted or closed cleanly.
    void finish(const Error &reason, bool abort = false);

    const ServerOptions m_options;
    State m_state = State::Connected;
    Phase m_phase = Phase::AwaitingHead;
    TlsSessionInfo m_tls;
    QHostAddress m_peerAddress;
    quint16 m_peerPort = 0;
    QTimer m_headTimer;
    QByteArray m_headBuffer;
    QByteArray m_upgradeProtocol;
    bool m_tunnelRequest = false;
    bool m_responseSubmitted = false;
    bool m_started = false;
    bool m_closedEmitted = false;
    H1BodyDecoder m_body;
    std::optional<Error> m_failReason; // why a refused head closes the connection
    QSslSocket *m_socket;              // owned as a child
    std::unique_ptr<H1Channel> m_channel;
};

} // namespace qmasque
