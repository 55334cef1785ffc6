#pragma once

#include "api/Error.h"
#include "transport/ServerConnection.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>

#include <unordered_map>

namespace qmasque {

class MasqueProxy;
class ProxyTunnel;

// ProxyConnection: the proxy's side of one accepted client connection (h1, h2 or h3): it admits
// or refuses each request, owns the tunnels (as QObject children), routes the connection's QUIC
// DATAGRAM frames to them by stream id (h3), and tells them when the connection closes.
//
// Admission, in order: 503 overload when the proxy drains or a tunnel limit is reached (this
// connection's concurrent tunnels, or the proxy's), 407 without accepted credentials (with
// Proxy-Authenticate challenges), then the request's own refusals (ProxyRequestParser), then the
// tunnel's set-up (403, 502, 504). Each refusal is logged (tunnel-refused) and counted.
//
// Lifetime: created by the MasqueProxy for every newConnection(), its child; it emits
// finished() after the ServerConnection closed and every tunnel was told, and the MasqueProxy
// deletes it later. Engine thread only.
class ProxyConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProxyConnection)

public:
    ProxyConnection(MasqueProxy &proxy, ServerConnection *connection, quint64 id, QObject *parent);
    ~ProxyConnection() override;

    qsizetype tunnelCount() const { return qsizetype(m_tunnels.size()); }
    TransportKind transport() const noexcept { return m_transport; }
    // goaway: graceful shutdown of the connection (GOAWAY; open tunnels continue).
    void goaway();
    // terminate: every tunnel is reset and the connection closed now.
    void terminate(const Error &reason);
    // liveCounters: the traffic of the open tunnels, added to `stats`.
    void addLiveCounters(quint64 *bytesUp, quint64 *bytesDown, quint64 *datagramsUp,
                         quint64 *datagramsDown) const;
    quint64 unknownDatagrams() const noexcept { return m_unknownDatagrams; }

Q_SIGNALS:
    void finished(qmasque::ProxyConnection *connection);

private:
    void handleRequest(StreamId id, const IncomingRequest &request);
    void handleDatagram(StreamId id, QByteArrayView payload);
    void handleClosed(const Error &reason);
    void refuse(StreamId id, const IncomingRequest &request, const Error &reason,
                const HeaderList &extraHeaders = {});
    void handleTunnelFinished(ProxyTunnel *tunnel);

    MasqueProxy &m_proxy;
    QPointer<ServerConnection> m_connection;
    const quint64 m_id;
    const TransportKind m_transport;
    const QString m_client;
    std::unordered_map<StreamId, ProxyTunnel *> m_tunnels; // children
    quint64 m_unknownDatagrams = 0;
    bool m_closed = false;
};

} // namespace qmasque
