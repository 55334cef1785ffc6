#pragma once

#include "api/Result.h"

#include <QtCore/QObject>
#include <QtNetwork/QHostAddress>

namespace qmasque {

class ServerConnection;

// ServerListener: accepts connections on one address (TLS over TCP for h1/h2, QUIC over UDP for
// h3) and hands each one out as a ServerConnection. The listener owns its connections (they are
// its children) until they close; a connection that closed is deleted by its listener later.
class ServerListener : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

    // listen: binds and starts accepting. Port 0 picks a free port (see serverPort()).
    // Errors: address_in_use, permission_denied, invalid_config (certificate or key unusable).
    virtual Status listen(const QHostAddress &address, quint16 port) = 0;
    virtual quint16 serverPort() const = 0;
    // goawayAll: graceful shutdown of every connection (GOAWAY, drain); stops accepting.
    virtual void goawayAll() = 0;
    // close: stops accepting and closes every connection now.
    virtual void close() = 0;

Q_SIGNALS:
    // newConnection: a connection finished its handshake (ALPN decided). Connect to its
    // requestReceived() before returning to see its first request.
    void newConnection(qmasque::ServerConnection *connection);
};

} // namespace qmasque
