#include "local/HttpProxyServer.h"

#include "core/Log.h"
#include "local/LocalTcpListener.h"

namespace qmasque {

HttpProxyServer::HttpProxyServer(TunnelClient *client, const Endpoint &listen, QObject *parent)
    : HttpProxyServer(client, listen, HttpProxyOptions(), parent)
{}

HttpProxyServer::HttpProxyServer(TunnelClient *client, const Endpoint &listen,
                                 const HttpProxyOptions &options, QObject *parent)
    : LocalFrontEnd(parent)
    , m_client(client)
    , m_listen(listen)
    , m_options(options)
    , m_bound(listen)
{}

HttpProxyServer::~HttpProxyServer()
{
    stop();
}

Status HttpProxyServer::start()
{
    if (m_listener)
        return {};
    auto *listener =
        new LocalTcpListener([this](SocketFd fd) { handleAccepted(std::move(fd)); }, this);
    if (Status listening = listener->listenOn(m_listen, QStringLiteral("http-proxy")); !listening) {
        delete listener;
        return listening;
    }
    m_listener = listener;
    m_bound = listener->boundEndpoint();
    qCInfo(lcLocal) << "http-proxy listening on" << m_bound.toString();
    return {};
}

void HttpProxyServer::stop()
{
    if (m_listener) {
        m_listener->close();
        delete std::exchange(m_listener, nullptr);
    }
    // Each client ends now (a CONNECT tunnel with FINs both ways) and reports finished().
    const QSet<HttpProxyClient *> clients = m_clients;
    for (HttpProxyClient *client : clients)
        client->stop();
}

QString HttpProxyServer::description() const
{
    return QStringLiteral("http-proxy ") + m_bound.toString();
}

void HttpProxyServer::handleAccepted(SocketFd fd)
{
    auto *client = new HttpProxyClient(m_client, std::move(fd), m_options, this);
    m_clients.insert(client);
    connect(client, &HttpProxyClient::finished, this, &HttpProxyServer::handleClientFinished);
    if (m_clients.size() > m_options.maxClients) {
        ++m_refused;
        client->refuse(
            503,
            Error(ErrorCode::Overload,
                  QStringLiteral("%1 clients are connected already").arg(m_options.maxClients)));
        return;
    }
    client->start();
}

void HttpProxyServer::handleClientFinished(HttpProxyClient *client)
{
    if (m_clients.remove(client))
        client->deleteLater(); // finished() comes from inside the client's own callbacks
}

} // namespace qmasque
