#pragma once

#include "transport/ServerConnection.h"
#include "transport/ServerOptions.h"
#include "transport/tls/TlsSessionInfo.h"

#include <memory>

QT_BEGIN_NAMESPACE
class QSslSocket;
QT_END_NAMESPACE

namespace qmasque {

class H2Session;

// H2ServerConnection: one accepted HTTP/2 connection (ALPN "h2") on an encrypted QSslSocket,
// served by an nghttp2 server session (H2Session). It advertises
// SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441, 3) and ServerOptions::maxConcurrentStreams;
// every request head is announced with requestReceived(); the handler answers with
// submitResponse() and then moves stream data like a client session. Non-2xx responses that end
// the stream while the client is still sending are followed by RST_STREAM(NO_ERROR) (RFC 9113,
// 8.1). A connection without streams for ServerOptions::idleTimeoutMs closes with GOAWAY.
//
// Ownership: takes the socket (already encrypted) as its child. Created by TlsServerListener,
// which owns it until it closes. Engine thread only.
class H2ServerConnection final : public ServerConnection
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H2ServerConnection)

public:
    H2ServerConnection(QSslSocket *socket, const ServerOptions &options, QObject *parent = nullptr);
    ~H2ServerConnection() override;

    // start: sends the server preface and processes the bytes that came with the handshake.
    // Call once, after connecting to requestReceived(). closed() follows if nghttp2 refuses.
    void start();

    // setExtendedConnectEnabled: whether SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 is advertised
    // (default yes). A server that implements only classic CONNECT turns it off before start();
    // extended CONNECT requests are then malformed (RFC 8441, 4) and reset by nghttp2.
    void setExtendedConnectEnabled(bool enabled);

    // setMaxConcurrentStreams: announces a new SETTINGS_MAX_CONCURRENT_STREAMS at runtime (load
    // shedding; RFC 9113, 6.5.2). Streams beyond the new limit are refused once the client
    // acknowledged it.
    void setMaxConcurrentStreams(quint32 limit);

    // shedStreamsAbove: GOAWAY with `lastStreamId` as the last stream processed (RFC 9113, 6.8):
    // streams above it are refused (the client sees goaway and may retry them elsewhere), the
    // others finish; the connection then closes. goaway() uses the last stream received.
    void shedStreamsAbove(StreamId lastStreamId);

    TransportKind kind() const override { return TransportKind::H2; }
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
    PeerSettings peerSettings() const override;
    qint64 openStreamCount() const override;
    void goaway() override;
    void close() override;
    TransportStats stats() const override;

private:
    void handleSocketFailure();
    void handleFinished(const Error &reason);

    State m_state = State::Connected;
    TlsSessionInfo m_tls;
    QHostAddress m_peerAddress;
    quint16 m_peerPort = 0;
    bool m_started = false;
    bool m_extendedConnect = true;
    bool m_closedEmitted = false;
    // The socket is a QObject child (deleted after the session, which is destroyed with the
    // members, first).
    QSslSocket *m_socket; // owned as a child
    ServerOptions m_options;
    std::unique_ptr<H2Session> m_session;
};

} // namespace qmasque
