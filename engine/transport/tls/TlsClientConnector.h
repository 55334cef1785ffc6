#pragma once

#include "api/Error.h"
#include "transport/ConnectOptions.h"

#include <QtCore/QObject>
#include <QtNetwork/QSsl>
#include <QtNetwork/QSslError>

#include <optional>

QT_BEGIN_NAMESPACE
class QSslSocket;
QT_END_NAMESPACE

namespace qmasque {

// TlsClientConnector: connects a QSslSocket to the proxy and runs the TLS handshake with the
// trust decision of TlsSettings (see TlsSettings.h and TlsClientConfig.h), then hands the socket
// back to its transport. Shared by H1Transport and H2Transport.
//
// Ownership: the socket is not owned; it must outlive the connector (both are children of the
// transport, the connector created after the socket). Engine thread only.
// Deadlines are the transport's: it aborts the socket when its connect timeout fires.
class TlsClientConnector final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TlsClientConnector)

public:
    explicit TlsClientConnector(QSslSocket *socket, QObject *parent = nullptr);
    ~TlsClientConnector() override;

    // start: resolves and connects to options.host:port and starts TLS offering `alpn`. Exactly
    // one of established() or failed() follows, never from inside this call.
    void start(const ConnectOptions &options, const QList<QByteArray> &alpn);

    // tcpConnected: the TCP connection is up (the handshake may still be running).
    bool tcpConnected() const noexcept { return m_tcpConnected; }

    // errorAfterHandshake: the typed error for a socket failure once established() was emitted.
    // A fatal TLS alert from the peer wins (with TLS 1.3 a server refuses our client certificate
    // only after our side of the handshake finished); otherwise socketError().
    Error errorAfterHandshake(const Error &socketFailure) const;

Q_SIGNALS:
    // established: the handshake finished and the peer is trusted. negotiatedAlpn() is set.
    void established();
    // failed: DNS, TCP, TLS or trust failure, typed (tls_* codes, connection_refused, ...).
    void failed(const qmasque::Error &error);

private:
    void handleEncrypted();
    void handleSslErrors(const QList<QSslError> &errors);
    void handleSocketError();
    void handleAlert(QSsl::AlertLevel level, QSsl::AlertType type, const QString &description);
    void fail(const Error &error);

    QSslSocket *m_socket; // not owned; outlives this object
    QList<QByteArray> m_pins;
    QList<QSslError> m_verificationErrors;
    std::optional<Error> m_peerAlert;
    QString m_target; // "host:port" for log lines
    bool m_checkPins = false;
    bool m_tcpConnected = false;
    bool m_done = false;
};

} // namespace qmasque
