#include "transport/tls/TlsClientConnector.h"

#include "core/Log.h"
#include "transport/tls/TlsClientConfig.h"
#include "transport/tls/TlsErrors.h"

#include <QtNetwork/QSslCipher>
#include <QtNetwork/QSslSocket>

namespace qmasque {

TlsClientConnector::TlsClientConnector(QSslSocket *socket, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
{
    connect(m_socket, &QSslSocket::connected, this, [this] {
        m_tcpConnected = true;
        // No Nagle: small writes (a DATAGRAM capsule, an interactive TCP tunnel's bytes, an h2
        // WINDOW_UPDATE) must leave at once, not wait for the peer's delayed ACK.
        m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    });
    connect(m_socket, &QSslSocket::encrypted, this, &TlsClientConnector::handleEncrypted);
    connect(m_socket, &QSslSocket::sslErrors, this, &TlsClientConnector::handleSslErrors);
    connect(m_socket, &QSslSocket::errorOccurred, this, &TlsClientConnector::handleSocketError);
    connect(m_socket, &QSslSocket::alertReceived, this, &TlsClientConnector::handleAlert);
}

TlsClientConnector::~TlsClientConnector() = default;

void TlsClientConnector::start(const ConnectOptions &options, const QList<QByteArray> &alpn)
{
    m_target = options.host + QLatin1Char(':') + QString::number(options.port);
    auto setup = makeTlsClientSetup(options.host, options.tls, alpn);
    if (!setup) {
        // Queued: failed() never comes from inside start().
        QMetaObject::invokeMethod(
            this, [this, error = setup.error()] { fail(error); }, Qt::QueuedConnection);
        return;
    }
    m_checkPins = setup->checkPins;
    m_pins = options.tls.pinsSha256;
    if (setup->insecure)
        qCWarning(lcTls).noquote() << "TLS verification is DISABLED (insecure) for" << m_target
                                   << "- anyone on the path can read and alter this connection";
    m_socket->setSslConfiguration(setup->configuration);
    m_socket->connectToHostEncrypted(options.host, options.port, setup->peerName);
}

void TlsClientConnector::handleSslErrors(const QList<QSslError> &errors)
{
    // Not ignored: QSslSocket aborts the handshake right after this signal; remember why.
    m_verificationErrors = errors;
}

void TlsClientConnector::handleAlert(QSsl::AlertLevel level, QSsl::AlertType type,
                                     const QString &description)
{
    if (level == QSsl::AlertLevel::Fatal && !m_peerAlert)
        m_peerAlert = tlsAlertError(type, description);
}

void TlsClientConnector::handleEncrypted()
{
    if (m_done)
        return;
    if (m_checkPins && !pinMatches(m_socket->peerCertificate(), m_pins)) {
        m_socket->abort();
        fail(Error(ErrorCode::TlsPinMismatch,
                   QStringLiteral("the certificate of %1 matches none of the %2 pinned keys")
                       .arg(m_target)
                       .arg(m_pins.size())));
        return;
    }
    m_done = true;
    qCDebug(lcTls).noquote() << "TLS established with" << m_target
                             << m_socket->sessionCipher().name();
    Q_EMIT established();
}

void TlsClientConnector::handleSocketError()
{
    if (m_done)
        return;
    const Error failure = socketError(m_socket->error(), m_socket->errorString());
    if (!m_verificationErrors.isEmpty())
        fail(tlsVerificationError(m_verificationErrors));
    else if (m_peerAlert)
        fail(*m_peerAlert);
    else
        fail(failure);
}

Error TlsClientConnector::errorAfterHandshake(const Error &socketFailure) const
{
    return m_peerAlert ? *m_peerAlert : socketFailure;
}

void TlsClientConnector::fail(const Error &error)
{
    if (m_done)
        return;
    m_done = true;
    qCDebug(lcTls).noquote() << "TLS connect to" << m_target << "failed:" << error.toString();
    Q_EMIT failed(error);
}

} // namespace qmasque
