#pragma once

#include "api/Profile.h"
#include "local/LocalFrontEnd.h"
#include "local/Socks5Stats.h"

#include <QtNetwork/QHostAddress>

class QTcpServer;

namespace qmasque {

class Socks5Connection;
class TunnelClient;

// Socks5Config: one SOCKS5 listener. Times in milliseconds.
struct Socks5Config
{
    QHostAddress address = QHostAddress(QHostAddress::LocalHost);
    quint16 port = 1080; // 0 picks a free port (description() names the bound one)
    // RFC 1929 credentials; an empty username means no authentication.
    QByteArray username;
    QByteArray password;
    // The greeting, authentication and request must be complete within this time.
    int handshakeTimeoutMs = 10000;
    // Clients served at once; further connections are closed at once (counted).
    int maxClients = 4096;
    // UDP ASSOCIATE: distinct targets per association, and datagrams kept per target while its
    // tunnel opens.
    int maxUdpTargets = 256;
    int maxPendingDatagrams = 64;

    // fromProfile: `socks` ("ADDR:PORT", loopback when only a port is given) and `socks-auth`
    // ("USER:PASS"). Errors name the key (invalid_config).
    static Result<Socks5Config> fromProfile(const Profile &profile);
};

// Socks5Server: the SOCKS5 front end (RFC 1928, with RFC 1929 username/password). Each accepted
// TCP connection is a Socks5Connection (its child): CONNECT becomes a TCP tunnel, UDP ASSOCIATE a
// relay with one CONNECT-UDP tunnel per target. Domain names go to the proxy unresolved. A
// malformed or unsupported request gets its reply code and closes only that client.
//
// Engine thread only. `client` (not owned) must outlive the server; stop() before deleting it.
class Socks5Server final : public LocalFrontEnd
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Socks5Server)

public:
    Socks5Server(TunnelClient *client, Socks5Config config, QObject *parent = nullptr);
    ~Socks5Server() override;

    Status start() override;
    void stop() override;
    QString description() const override; // "socks5 127.0.0.1:1080"
    int activeClients() const override { return int(m_connections.size()); }
    QList<QPair<QByteArray, quint64>> drops() const override;

    quint16 serverPort() const;
    const Socks5Stats &stats() const noexcept { return m_stats; }

private:
    void handleNewConnections();
    void handleFinished(Socks5Connection *connection);

    TunnelClient *m_client; // not owned
    const Socks5Config m_config;
    QTcpServer *m_server;                    // child
    QList<Socks5Connection *> m_connections; // children
    Socks5Stats m_stats;
};

} // namespace qmasque
