#include "transport/tls/TlsServerListener.h"

#include "core/Log.h"
#include "transport/h1/H1ServerConnection.h"
#include "transport/h2/H2ServerConnection.h"
#include "transport/tls/TlsErrors.h"
#include "transport/tls/TlsServerConfig.h"

#include <QtCore/QTimer>
#include <QtNetwork/QSslSocket>
#include <QtNetwork/QTcpServer>

#include <functional>
#include <memory>
#include <optional>

namespace qmasque {

// Acceptor: QTcpServer handing raw descriptors to the listener, which wraps them in QSslSocket.
class TlsServerListener::Acceptor final : public QTcpServer
{
public:
    explicit Acceptor(std::function<void(qintptr)> onIncoming)
        : m_onIncoming(std::move(onIncoming))
    {}

protected:
    void incomingConnection(qintptr descriptor) override { m_onIncoming(descriptor); }

private:
    std::function<void(qintptr)> m_onIncoming;
};

TlsServerListener::TlsServerListener(const ServerOptions &options, QObject *parent)
    : ServerListener(parent)
    , m_options(options)
    , m_acceptor(
          std::make_unique<Acceptor>([this](qintptr descriptor) { handleIncoming(descriptor); }))
{}

TlsServerListener::~TlsServerListener()
{
    for (ServerConnection *connection : std::as_const(m_connections))
        connection->disconnect(this);
    for (QSslSocket *socket : std::as_const(m_handshaking))
        socket->disconnect(this);
}

Status TlsServerListener::listen(const QHostAddress &address, quint16 port)
{
    QList<QByteArray> alpn;
    if (m_options.enableH2)
        alpn << "h2";
    if (m_options.enableH1)
        alpn << "http/1.1";
    if (alpn.isEmpty())
        return Error(ErrorCode::InvalidConfig, QStringLiteral("neither h2 nor http/1.1 enabled"));
    auto configuration = makeTlsServerConfiguration(m_options.tls, alpn);
    if (!configuration)
        return configuration.error();
    m_configuration = *configuration;
    if (!m_acceptor->listen(address, port)) {
        const QString text = m_acceptor->errorString();
        switch (m_acceptor->serverError()) {
        case QAbstractSocket::AddressInUseError:
            return Error(ErrorCode::AddressInUse, text);
        case QAbstractSocket::SocketAccessError:
            return Error(ErrorCode::PermissionDenied, text);
        default:
            return Error(ErrorCode::Io, text);
        }
    }
    m_draining = false;
    qCDebug(lcProxy).noquote() << "TLS listener on" << address.toString() << serverPort();
    return {};
}

quint16 TlsServerListener::serverPort() const
{
    return m_acceptor->serverPort();
}

void TlsServerListener::handleIncoming(qintptr descriptor)
{
    auto *socket = new QSslSocket(this);
    if (!socket->setSocketDescriptor(descriptor) || m_draining) {
        socket->abort();
        socket->deleteLater();
        return;
    }
    m_handshaking.insert(socket);
    // No Nagle, as on the client side (TlsClientConnector): tunnels carry small, latency-bound
    // writes (DATAGRAM capsules, interactive bytes) that must not wait for a delayed ACK.
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    socket->setSslConfiguration(m_configuration);
    connect(socket, &QSslSocket::encrypted, this, [this, socket] { handleEncrypted(socket); });
    connect(socket, &QSslSocket::sslErrors, this, [this, socket](const QList<QSslError> &errors) {
        // A missing client certificate is acceptable when it is optional; anything else in the
        // list aborts the handshake (QSslSocket does that after this signal).
        if (m_options.tls.requireClientCertificate)
            return;
        for (const QSslError &error : errors) {
            if (error.error() != QSslError::NoPeerCertificate)
                return;
        }
        socket->ignoreSslErrors(errors);
    });
    // The fatal alert we send names the reason (a missing or refused client certificate is
    // tls_client_certificate); the socket error that follows only says the handshake failed.
    auto alert = std::make_shared<std::optional<Error>>();
    connect(socket, &QSslSocket::alertSent, this,
            [alert](QSsl::AlertLevel level, QSsl::AlertType type, const QString &description) {
                if (level == QSsl::AlertLevel::Fatal && !*alert)
                    *alert = tlsAlertError(type, description);
            });
    connect(socket, &QSslSocket::errorOccurred, this, [this, socket, alert] {
        Error reason = alert->value_or(Error(ErrorCode::TlsHandshakeFailed));
        reason.detail = socket->errorString();
        handleHandshakeFailure(socket, reason);
    });
    QTimer::singleShot(qMax(1, m_options.handshakeTimeoutMs), socket, [this, socket] {
        handleHandshakeFailure(
            socket,
            Error(
                ErrorCode::HandshakeTimeout,
                QStringLiteral("no TLS handshake within %1 ms").arg(m_options.handshakeTimeoutMs)));
    });
    socket->startServerEncryption();
}

void TlsServerListener::handleHandshakeFailure(QSslSocket *socket, const Error &reason)
{
    if (!m_handshaking.remove(socket))
        return;
    qCDebug(lcProxy).noquote() << "TLS handshake from" << socket->peerAddress().toString()
                               << "failed:" << reason.toString();
    const QHostAddress peer = socket->peerAddress();
    socket->disconnect(this);
    // Not aborted here: inside errorOccurred() QSslSocket still has to flush the fatal alert that
    // tells the client why (certificate_required, unknown_ca, ...); it aborts by itself next.
    if (reason.code == ErrorCode::HandshakeTimeout || reason.code == ErrorCode::Shutdown)
        socket->abort();
    socket->deleteLater();
    Q_EMIT handshakeFailed(peer, reason);
}

void TlsServerListener::handleEncrypted(QSslSocket *socket)
{
    if (!m_handshaking.contains(socket))
        return;
    const QSslConfiguration negotiated = socket->sslConfiguration();
    const QByteArray alpn = negotiated.nextNegotiatedProtocol();
    // RFC 7301, 3.2: a client that offered no ALPN speaks HTTP/1.1 by default.
    const bool noAlpn = alpn.isEmpty() && negotiated.nextProtocolNegotiationStatus() ==
                                              QSslConfiguration::NextProtocolNegotiationNone;
    const bool h2 = alpn == "h2" && m_options.enableH2;
    const bool h1 = (alpn == "http/1.1" || noAlpn) && m_options.enableH1;
    if (!h2 && !h1) {
        handleHandshakeFailure(socket, Error(ErrorCode::AlpnMismatch,
                                             QStringLiteral("no common application protocol")));
        return;
    }
    m_handshaking.remove(socket);
    socket->disconnect(this);
    if (h2) {
        auto *connection = new H2ServerConnection(socket, m_options, this);
        adopt(connection);
        connection->start();
    } else {
        auto *connection = new H1ServerConnection(socket, m_options, this);
        adopt(connection);
        connection->start();
    }
}

void TlsServerListener::adopt(ServerConnection *connection)
{
    m_connections.insert(connection);
    connect(connection, &ServerConnection::closed, this, [this, connection] {
        m_connections.remove(connection);
        connection->deleteLater();
    });
    Q_EMIT newConnection(connection);
    if (m_draining)
        connection->goaway();
}

void TlsServerListener::goawayAll()
{
    m_draining = true;
    m_acceptor->close();
    for (QSslSocket *socket : m_handshaking.values())
        handleHandshakeFailure(socket,
                               Error(ErrorCode::Shutdown, QStringLiteral("listener draining")));
    for (ServerConnection *connection : m_connections.values())
        connection->goaway();
}

void TlsServerListener::close()
{
    m_draining = true;
    m_acceptor->close();
    for (QSslSocket *socket : m_handshaking.values())
        handleHandshakeFailure(socket,
                               Error(ErrorCode::Shutdown, QStringLiteral("listener closed")));
    for (ServerConnection *connection : m_connections.values())
        connection->close();
}

} // namespace qmasque
