#pragma once

#include "transport/ServerListener.h"
#include "transport/ServerOptions.h"

#include <QtCore/QSet>
#include <QtNetwork/QSslConfiguration>

#include <memory>

QT_BEGIN_NAMESPACE
class QSslSocket;
QT_END_NAMESPACE

namespace qmasque {

class ServerConnection;

// TlsServerListener: the TLS-over-TCP listener for HTTP/2 and HTTP/1.1 (QTcpServer accepting,
// QSslSocket in server mode, OpenSSL backend). Per accepted socket it runs the TLS handshake
// within ServerOptions::handshakeTimeoutMs, then picks the protocol by ALPN (RFC 7301): "h2"
// (when enableH2) makes an H2ServerConnection, "http/1.1" or no ALPN at all (when enableH1) an
// H1ServerConnection; the server prefers h2 when the client offers both. newConnection() is
// emitted before the connection reads its first byte, so connect to requestReceived() in the slot.
//
// Client certificates (mTLS) follow TlsServerSettings (see TlsServerConfig.h); handshakes that
// fail (untrusted or missing client certificate, timeout, no common protocol) are reported with
// handshakeFailed() and never become connections.
//
// Ownership: connections are children of the listener until they close; a closed connection is
// deleted later (deleteLater()) by the listener. Engine thread only.
class TlsServerListener final : public ServerListener
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TlsServerListener)

public:
    explicit TlsServerListener(const ServerOptions &options, QObject *parent = nullptr);
    ~TlsServerListener() override;

    // listen: loads the certificate and key (invalid_config), binds (address_in_use,
    // permission_denied, io_error) and starts accepting.
    Status listen(const QHostAddress &address, quint16 port) override;
    quint16 serverPort() const override;
    void goawayAll() override;
    void close() override;

    // connectionCount: connections handed out and not closed yet.
    qint64 connectionCount() const { return m_connections.size(); }

Q_SIGNALS:
    // handshakeFailed: a client connected but did not become a connection.
    void handshakeFailed(const QHostAddress &peer, const qmasque::Error &reason);

private:
    class Acceptor;

    void handleIncoming(qintptr descriptor);
    void handleEncrypted(QSslSocket *socket);
    void handleHandshakeFailure(QSslSocket *socket, const Error &reason);
    void adopt(ServerConnection *connection);

    const ServerOptions m_options;
    QSslConfiguration m_configuration;
    std::unique_ptr<Acceptor> m_acceptor;
    QSet<QSslSocket *> m_handshaking;       // children; deleted once they fail or are adopted
    QSet<ServerConnection *> m_connections; // children until they close
    bool m_draining = false;
};

} // namespace qmasque
