#pragma once

#include "api/Profile.h"
#include "local/LocalFrontEnd.h"
#include "proxy/SocketUtil.h"

#include <QtCore/QSet>

namespace qmasque {

class LocalTcpListener;
class TcpForwardConnection;
class TunnelClient;

// TcpForwarderOptions: limits of a tcp-forward.
struct TcpForwarderOptions
{
    int maxClients = 1024; // connections beyond this many are reset at once
    // h1FinGraceMs: over HTTP/1.1, how long a quiet tunnel stays after the application's FIN
    // (TcpRelay::setH1FinGraceMs()).
    int h1FinGraceMs = 5000;
};

// TcpForwarder: "--tcp-forward 127.0.0.1:2222=ssh.example:22": every connection accepted on
// the local address gets its own TCP tunnel to the fixed target, and its bytes are relayed both
// ways by a TcpRelay (backpressure end to end; half-close both ways where the transport allows:
// h2 and h3 carry FIN each way, HTTP/1.1 cannot half-close, so the application's FIN there
// only stops reading until the proxy closes). Reading from the application starts only once the
// tunnel is open; a tunnel that fails to open resets the application's connection (as a refused
// connect would).
//
// Engine thread only; connections are children. `client` (not owned) must outlive the
// forwarder.
class TcpForwarder final : public LocalFrontEnd
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TcpForwarder)

public:
    TcpForwarder(TunnelClient *client, const Forward &forward, QObject *parent = nullptr);
    TcpForwarder(TunnelClient *client, const Forward &forward, const TcpForwarderOptions &options,
                 QObject *parent = nullptr);
    ~TcpForwarder() override;

    Status start() override;
    void stop() override;
    QString description() const override;
    int activeClients() const override { return int(m_connections.size()); }

    Endpoint boundEndpoint() const { return m_bound; }
    // Totals since start().
    quint64 acceptedClients() const noexcept { return m_accepted; }
    quint64 failedOpens() const noexcept { return m_failedOpens; }
    quint64 refusedClients() const noexcept { return m_refused; }

private:
    friend class TcpForwardConnection;
    void handleAccepted(SocketFd fd);
    void remove(TcpForwardConnection *connection, bool openFailed);

    TunnelClient *m_client; // not owned
    const Forward m_forward;
    const TcpForwarderOptions m_options;
    Endpoint m_bound;
    LocalTcpListener *m_listener = nullptr;     // child
    QSet<TcpForwardConnection *> m_connections; // children
    quint64 m_accepted = 0;
    quint64 m_failedOpens = 0;
    quint64 m_refused = 0;
};

} // namespace qmasque
