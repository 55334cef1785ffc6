#pragma once

#include "api/Error.h"
#include "proxy/ProxyMetrics.h"
#include "proxy/ProxyRequest.h"
#include "transport/ServerConnection.h"
#include "transport/StreamHandler.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QPointer>

#include <memory>

namespace qmasque {

struct ProxyContext;

// ProxyTunnel: the server side of one tunnel request; the base of the UDP, TCP and IP
// handlers. It registers itself as the stream's handler at start(), runs the protocol's set-up
// (resolve, access control, dial), then either accepts (2xx; h1 turns it into 101 or a CONNECT
// 200) or refuses (status, Proxy-Status and a text body: ProxyRefusal.h), and logs one line at
// open and one at close (or one refusal line):
//
//   tunnel-open id=c3/8 client=127.0.0.1:50012 transport=h3 protocol=udp target=example.com:53
//     peer=93.184.216.34:53
//   tunnel-close id=c3/8 client=... transport=h3 protocol=udp target=... reason=peer_fin
//     duration_ms=5123 bytes_up=120 bytes_down=480 datagrams_up=2 datagrams_down=2 drops=0
//   tunnel-refused id=c3/12 client=... transport=h2 protocol=tcp target=10.0.0.1:22 status=403
//     reason=forbidden detail="10.0.0.1 is not an allowed target"
//
// (each on one line, lcProxy at info level). Values never contain spaces except `detail`, which
// is quoted.
//
// Lifetime: created and owned (as a QObject child) by its ProxyConnection. When it ends it
// emits finished(this) once and deletes itself later (deleteLater), never inside its own
// callbacks. The connection pointer is guarded: a connection that goes away first is noticed.
// Engine thread only.
class ProxyTunnel : public QObject, public StreamHandler
{
    Q_OBJECT

public:
    enum class State : quint8
    {
        Setup, // request received, no response yet
        Open,  // 2xx sent, data flows
        Closed,
    };

    ProxyTunnel(ProxyContext &context, ServerConnection *connection, StreamId id,
                const TunnelRequest &request, const QString &logId, QObject *parent);
    ~ProxyTunnel() override;

    // start: becomes the stream's handler and begins the set-up.
    void start();
    // terminate: ends the tunnel now (the drain deadline passed, or the proxy stops): the stream
    // is reset and the tunnel finishes with `reason`.
    void terminate(const Error &reason);

    StreamId streamId() const noexcept { return m_streamId; }
    TunnelProtocol protocol() const noexcept { return m_request.protocol; }
    TransportKind transport() const noexcept { return m_transport; }
    State state() const noexcept { return m_state; }
    const TunnelRequest &request() const noexcept { return m_request; }
    // counters: the traffic so far (live values).
    ProxyTunnelCounters counters() const { return m_counters; }

    // StreamHandler (server side: no responses arrive; resets and connection loss end us).
    // onDatagram() gets the h3 QUIC DATAGRAM frames the ProxyConnection routes here by stream
    // id; tunnels without datagrams (TCP) ignore them.
    void onStreamResponse(StreamId id, const Response &response) override;
    void onStreamReset(StreamId id, const Error &reason) override;
    void onConnectionClosed(StreamId id, const Error &reason) override;

Q_SIGNALS:
    // finished: the tunnel ended (or was refused); it is deleted later.
    void finished(qmasque::ProxyTunnel *tunnel);

protected:
    // startSetup: the protocol's set-up; ends in accept() or refuse() (possibly later).
    virtual void startSetup() = 0;
    // releaseResources: sockets, timers, pool addresses; called once when the tunnel ends.
    virtual void releaseResources() = 0;
    // dropCount: datagrams or packets dropped so far (for the close line).
    virtual quint64 dropCount() const { return 0; }

    // accept: sends the 2xx (with capsule-protocol: ?1 when `capsules`), logs the open line.
    // `peer` names what was reached ("93.184.216.34:53"). False when the stream is gone (the
    // tunnel then has finished).
    bool accept(bool capsules, const QString &peer);
    // refuse: the refusal response, the refusal line, finished.
    void refuse(const Error &reason);
    // finish: the tunnel is over (nothing more is sent); logs the close line.
    void finish(const Error &reason);
    // abort: resets the stream with `resetReason`, then finish(reason).
    void abort(StreamResetReason resetReason, const Error &reason);

    // disposeLater: releases a QObject that may be emitting right now (a socket, a resolver):
    // disconnected at once, deleted by the event loop.
    template<typename T>
    static void disposeLater(std::unique_ptr<T> &object)
    {
        if (!object)
            return;
        object->disconnect();
        object.release()->deleteLater();
    }

    // stream: the connection while it lives (nullptr after it went away).
    ServerConnection *stream() const { return m_connection.data(); }
    bool isClosed() const noexcept { return m_state == State::Closed; }

    ProxyContext &m_context;
    const StreamId m_streamId;
    ProxyTunnelCounters m_counters;

private:
    QPointer<ServerConnection> m_connection;
    const TunnelRequest m_request;
    const TransportKind m_transport;
    const QString m_logId;
    const QString m_client;
    State m_state = State::Setup;
    bool m_handlerSet = false;
    QElapsedTimer m_age;
};

} // namespace qmasque
