#include "local/Socks5Server.h"

#include "core/Log.h"
#include "local/Socks5Connection.h"
#include "proxy/ProxyLog.h"

#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

namespace qmasque {

Result<Socks5Config> Socks5Config::fromProfile(const Profile &profile)
{
    Socks5Config config;
    auto endpoint = parseEndpoint(profile.socks, u"127.0.0.1");
    if (!endpoint)
        return Error(ErrorCode::InvalidConfig, QStringLiteral("socks: ") + endpoint.error().detail);
    if (endpoint->host == u"localhost")
        config.address = QHostAddress(QHostAddress::LocalHost);
    else if (!config.address.setAddress(endpoint->host))
        return Error(ErrorCode::InvalidConfig,
                     QStringLiteral("socks: '%1' is not an IP address").arg(endpoint->host));
    config.port = endpoint->port;
    if (!profile.socksAuth.isEmpty()) {
        const qsizetype colon = profile.socksAuth.indexOf(u':');
        if (colon <= 0)
            return Error(ErrorCode::InvalidConfig, QStringLiteral("socks-auth: must be USER:PASS"));
        config.username = profile.socksAuth.first(colon).toUtf8();
        config.password = profile.socksAuth.sliced(colon + 1).toUtf8();
        // RFC 1929, 2: ULEN and PLEN are one byte each.
        if (config.username.size() > 255 || config.password.isEmpty() ||
            config.password.size() > 255)
            return Error(ErrorCode::InvalidConfig,
                         QStringLiteral("socks-auth: USER and PASS must be 1..255 bytes"));
    }
    return config;
}

Socks5Server::Socks5Server(TunnelClient *client, Socks5Config config, QObject *parent)
    : LocalFrontEnd(parent)
    , m_client(client)
    , m_config(std::move(config))
    , m_server(new QTcpServer(this))
{
    // Bursts of clients (a browser opening dozens of connections, 500 curls) queue in the
    // kernel instead of being refused: Qt's default backlog is 50.
    m_server->setListenBacklogSize(1024);
    connect(m_server, &QTcpServer::newConnection, this, &Socks5Server::handleNewConnections);
}

Socks5Server::~Socks5Server()
{
    stop();
}

Status Socks5Server::start()
{
    if (m_server->isListening())
        return {};
    if (!m_server->listen(m_config.address, m_config.port)) {
        const QString where = formatEndpoint(m_config.address, m_config.port);
        switch (m_server->serverError()) {
        case QAbstractSocket::AddressInUseError:
            return Error(ErrorCode::AddressInUse,
                         QStringLiteral("socks5 %1: address in use").arg(where));
        case QAbstractSocket::SocketAccessError:
            return Error(ErrorCode::PermissionDenied,
                         QStringLiteral("socks5 %1: permission denied").arg(where));
        default:
            return Error(ErrorCode::Io,
                         QStringLiteral("socks5 %1: %2").arg(where, m_server->errorString()));
        }
    }
    qCInfo(lcLocal, "%s listening", qPrintable(description()));
    return {};
}

void Socks5Server::stop()
{
    m_server->close();
    // Each stop() ends its tunnel gracefully; the connections report finished() and go.
    const QList<Socks5Connection *> connections = m_connections;
    for (Socks5Connection *connection : connections)
        connection->stop();
}

QString Socks5Server::description() const
{
    const quint16 port = m_server->isListening() ? m_server->serverPort() : m_config.port;
    return QStringLiteral("socks5 ") + formatEndpoint(m_config.address, port);
}

quint16 Socks5Server::serverPort() const
{
    return m_server->serverPort();
}

QList<QPair<QByteArray, quint64>> Socks5Server::drops() const
{
    return {
        {QByteArrayLiteral("socks5_udp_fragmented"), m_stats.udpFragmented},
        {QByteArrayLiteral("socks5_udp_malformed"), m_stats.udpMalformed},
        {QByteArrayLiteral("socks5_udp_foreign_source"), m_stats.udpForeignSource},
        {QByteArrayLiteral("socks5_udp_pending_overflow"), m_stats.udpPendingOverflow},
        {QByteArrayLiteral("socks5_udp_target_limit"), m_stats.udpTargetLimit},
        {QByteArrayLiteral("socks5_udp_target_failed"), m_stats.udpTargetFailed},
    };
}

void Socks5Server::handleNewConnections()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        if (m_connections.size() >= m_config.maxClients) {
            ++m_stats.clientsRefused;
            socket->abort();
            socket->deleteLater();
            continue;
        }
        ++m_stats.clientsAccepted;
        auto *connection = new Socks5Connection(socket, m_client, m_config, &m_stats, this);
        connect(connection, &Socks5Connection::finished, this, &Socks5Server::handleFinished);
        m_connections.append(connection);
    }
}

void Socks5Server::handleFinished(Socks5Connection *connection)
{
    if (m_connections.removeOne(connection))
        connection->deleteLater();
}

} // namespace qmasque
