#pragma once

#include "transport/Transport.h"
#include "transport/tls/TlsSessionInfo.h"

#include <QtCore/QTimer>

#include <memory>

QT_BEGIN_NAMESPACE
class QSslSocket;
QT_END_NAMESPACE

namespace qmasque {

class H2Session;
class TlsClientConnector;

// H2Transport: the HTTP/2 client: TLS over TCP through QSslSocket (OpenSSL backend, ALPN "h2"
// required) and an nghttp2 client session (H2Session). Multiplexes streams: extended CONNECT
// (RFC 8441, after the peer's SETTINGS_ENABLE_CONNECT_PROTOCOL = 1), classic CONNECT (RFC 9113,
// 8.5) and plain requests.
//
// Lifecycle: construct unconnected (TransportFactory: `new H2Transport(parent)`),
// connectToProxy(), then connected() once the TLS handshake chose "h2" and the peer's first
// SETTINGS arrived, so peerSettings().extendedConnect is final for the first request; or
// closed(error). ConnectOptions::connectTimeoutMs covers TCP + TLS + that first SETTINGS.
//
// Extended CONNECT before the peer's SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 fails with
// no_extended_connect (SETTINGS not received yet counts as "not enabled"). A request beyond the
// peer's SETTINGS_MAX_CONCURRENT_STREAMS (followed live, settingsChanged()) fails with
// stream_limit; nothing is ever queued. After GOAWAY, streams above its last stream id are reset
// with goaway; the others finish and the connection then closes (connection_closed).
//
// Liveness: a PING every ConnectOptions::keepaliveMs measures the RTT (stats()); when neither
// the PING ACK nor any other byte arrived for ConnectOptions::idleTimeoutMs, the connection
// closes with connection_lost. Everything else follows the Transport/HttpConnection contracts;
// see H2Session for flow control and buffering. Engine thread only; owned by its parent.
class H2Transport final : public Transport
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H2Transport)

public:
    explicit H2Transport(QObject *parent = nullptr);
    ~H2Transport() override;

    TransportKind kind() const override { return TransportKind::H2; }
    State state() const override { return m_state; }

    void connectToProxy(const ConnectOptions &options) override;
    Result<StreamId> submitRequest(const Request &request) override;
    std::optional<qint64> peerStreamLimit() const override;

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
    void handleEstablished();
    void handleSettings(bool first);
    void handleSocketFailure();
    void handleDeadline();
    // fail: ends the connection with `reason`; closed() is emitted queued, once.
    void fail(const Error &reason);
    void emitClosed(const Error &reason);
    Error notConnected() const;

    State m_state = State::Idle;
    ConnectOptions m_options;
    TlsSessionInfo m_tls;
    QTimer m_deadline; // connect + TLS + first SETTINGS
    bool m_closedEmitted = false;
    bool m_closeQueued = false;
    // Declared in dependency order: the session and the connector refer to the socket, so they
    // are destroyed before it.
    std::unique_ptr<QSslSocket> m_socket;
    std::unique_ptr<TlsClientConnector> m_connector;
    std::unique_ptr<H2Session> m_session;
};

} // namespace qmasque
