#pragma once

#include "api/Profile.h"
#include "local/HttpProxyClient.h"
#include "local/LocalFrontEnd.h"

#include <QtCore/QSet>

namespace qmasque {

class LocalTcpListener;
class TunnelClient;

// HttpProxyServer: the local HTTP proxy port ("--http-proxy 127.0.0.1:8080"). Applications that
// speak to an HTTP proxy get:
//  - CONNECT host:port (RFC 9110, 9.3.6): a TCP tunnel through the MASQUE proxy, answered
//    "200 Connection established" once it is open, then raw bytes both ways (TcpRelay);
//  - absolute-form requests (GET http://host[:port]/path, and every other method, with bodies
//    framed by Content-Length or chunked): forwarded to host:port through a TCP tunnel,
//    rewritten to origin-form without hop-by-hop fields, the response relayed back
//    (HttpForwardExchange). Each request gets its own tunnel; the client's connection stays
//    open across requests when both messages were delimited (keep-alive), else it is closed
//    after the response with "Connection: close".
// The client's Proxy-Authorization is never forwarded (the MASQUE proxy's credentials are the
// profile's --proxy-auth). Bad requests get an HTTP error response and close only their own
// connection (HttpProxyClient). Loopback only unless the profile gives another address.
//
// Engine thread only; clients are children. `client` (not owned) must outlive the server.
class HttpProxyServer final : public LocalFrontEnd
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpProxyServer)

public:
    HttpProxyServer(TunnelClient *client, const Endpoint &listen, QObject *parent = nullptr);
    HttpProxyServer(TunnelClient *client, const Endpoint &listen, const HttpProxyOptions &options,
                    QObject *parent = nullptr);
    ~HttpProxyServer() override;

    Status start() override;
    void stop() override;
    QString description() const override;
    int activeClients() const override { return int(m_clients.size()); }

    // boundEndpoint: the listen address with the real port (valid after start()).
    Endpoint boundEndpoint() const { return m_bound; }
    // refusedClients: connections answered 503 because maxClients were busy.
    quint64 refusedClients() const noexcept { return m_refused; }

private:
    void handleAccepted(SocketFd fd);
    void handleClientFinished(HttpProxyClient *client);

    TunnelClient *m_client; // not owned
    const Endpoint m_listen;
    const HttpProxyOptions m_options;
    Endpoint m_bound;
    LocalTcpListener *m_listener = nullptr; // child
    QSet<HttpProxyClient *> m_clients;      // children
    quint64 m_refused = 0;
};

} // namespace qmasque
