#include "support/TlsScriptedServer.h"

#include "support/TestPki.h"

#include <QtCore/QFile>
#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslKey>

namespace qmasque::test {

TlsScriptedServer::TlsScriptedServer(QObject *parent)
    : QObject(parent)
{
    connect(&m_server, &QTcpServer::pendingConnectionAvailable, this,
            &TlsScriptedServer::handleConnection);
}

bool TlsScriptedServer::listen()
{
    const TestPki &pki = TestPki::instance();
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificateChain(QSslCertificate::fromPath(pki.serverCert));
    QFile keyFile(pki.serverKey);
    if (!keyFile.open(QIODevice::ReadOnly))
        return false;
    configuration.setPrivateKey(QSslKey(&keyFile, QSsl::Ec));
    configuration.setAllowedNextProtocols({"http/1.1"});
    m_server.setSslConfiguration(configuration);
    return m_server.listen(QHostAddress::LocalHost, 0);
}

void TlsScriptedServer::handleConnection()
{
    m_socket = qobject_cast<QSslSocket *>(m_server.nextPendingConnection());
    m_socket->setParent(this);
    m_received.clear();
    m_replied = false;
    m_clientClosed = false;
    connect(m_socket, &QSslSocket::readyRead, this, &TlsScriptedServer::handleReadyRead);
    connect(m_socket, &QSslSocket::disconnected, this, [this] { m_clientClosed = true; });
    handleReadyRead();
}

void TlsScriptedServer::handleReadyRead()
{
    m_received += m_socket->readAll();
    const qsizetype end = m_received.indexOf("\r\n\r\n");
    if (!m_replied && end >= 0 && m_script) {
        m_replied = true;
        const QByteArray reply = m_script(m_received.left(end + 4));
        if (!reply.isEmpty())
            m_socket->write(reply);
    }
    Q_EMIT bytesReceived();
}

} // namespace qmasque::test
