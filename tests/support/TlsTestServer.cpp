#include "support/TlsTestServer.h"

#include "support/TestPki.h"
#include "transport/tls/TlsServerListener.h"

namespace qmasque::test {

TlsTestServer::TlsTestServer(QObject *parent)
    : QObject(parent)
{}

TlsTestServer::~TlsTestServer() = default;

ServerOptions TlsTestServer::serverOptions()
{
    const TestPki &pki = TestPki::instance();
    ServerOptions options;
    options.tls.certificateFile = pki.serverCert;
    options.tls.privateKeyFile = pki.serverKey;
    return options;
}

bool TlsTestServer::start(const ServerOptions &options)
{
    if (!TestPki::instance().isValid()) {
        error = TestPki::instance().error;
        return false;
    }
    m_listener = std::make_unique<TlsServerListener>(options);
    m_echo.attach(m_listener.get());
    const Status listening = m_listener->listen(QHostAddress::LocalHost, 0);
    if (!listening)
        error = listening.error().toString();
    return listening.ok();
}

quint16 TlsTestServer::port() const
{
    return m_listener ? m_listener->serverPort() : 0;
}

ConnectOptions TlsTestServer::clientOptions() const
{
    ConnectOptions options;
    options.host = QStringLiteral("127.0.0.1");
    options.port = port();
    options.tls.useSystemTrust = false;
    options.tls.caFile = TestPki::instance().caCert;
    return options;
}

} // namespace qmasque::test
