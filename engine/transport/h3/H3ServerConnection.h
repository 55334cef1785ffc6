#pragma once

#include "transport/ServerConnection.h"
#include "transport/ServerOptions.h"
#include "transport/h3/H3Session.h"
#include "transport/h3/QuicConnection.h"

#include <memory>

namespace qmasque {

// H3ServerConnection: the server side of one HTTP/3 connection, made by H3ServerListener for
// a client's first Initial packet (never by anyone else). Its packets travel through the
// listener's shared UDP socket. It is handed out with ServerListener::newConnection() once the
// handshake completed (connected() fires just before); every request then comes as
// requestReceived(). Extended CONNECT (RFC 9220) is enabled; H3 datagrams too.
//
// Ownership: a child of the listener, which deletes it after closed() once the QUIC closing
// period (three PTOs) is over. Engine thread only.
class H3ServerConnection final : public ServerConnection, private h3::H3SessionEvents
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H3ServerConnection)

public:
    H3ServerConnection(const ServerOptions &options, QObject *parent);
    ~H3ServerConnection() override;

    // accept: creates the QUIC side for the client's first packet (the listener's job).
    Status accept(std::unique_ptr<h3::QuicTlsSession> tls, const h3::QuicAccept &accept,
                  h3::QuicPacketSink *sink, h3::QuicConnectionIdRegistry *registry);
    h3::QuicConnection *quic() const noexcept { return m_quic.get(); }

    TransportKind kind() const override { return TransportKind::H3; }
    State state() const override;
    Status submitResponse(StreamId id, const Response &response, bool endStream) override;
    QHostAddress peerAddress() const override;
    quint16 peerPort() const override;

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
    // H3SessionEvents
    void sessionConnected() override;
    void sessionSettingsChanged() override;
    void sessionGoawayReceived(StreamId id) override;
    void sessionStreamReset(StreamId id, const Error &reason) override;
    void sessionDatagramReceived(StreamId id, QByteArrayView payload) override;
    void sessionRequestReceived(StreamId id, const IncomingRequest &request) override;
    void sessionClosed(const Error &reason) override;

    ServerOptions m_options;
    bool m_closed = false;
    // The QUIC connection goes first (it calls into the session).
    std::unique_ptr<h3::H3Session> m_session;
    std::unique_ptr<h3::QuicConnection> m_quic;
};

} // namespace qmasque
