#include "support/TunnelTestProxy.h"

#include "support/TestPki.h"
#include "transport/h3/H3ServerListener.h"
#include "transport/tls/TlsServerListener.h"

#include <QtNetwork/QUdpSocket>

namespace qmasque::test {

TunnelTestProxy::TunnelTestProxy(QObject *parent)
    : QObject(parent)
{
    m_echo.setPolicy(&TunnelTestProxy::defaultResponse);
}

TunnelTestProxy::~TunnelTestProxy() = default;

ServerOptions TunnelTestProxy::serverOptions()
{
    const TestPki &pki = TestPki::instance();
    ServerOptions options;
    options.tls.certificateFile = pki.serverCert;
    options.tls.privateKeyFile = pki.serverKey;
    return options;
}

Response TunnelTestProxy::defaultResponse(const IncomingRequest &request)
{
    Response response;
    response.status = 200;
    if (request.protocol == "connect-udp" || request.protocol == "connect-ip")
        response.headers.append(Header{"capsule-protocol", "?1"});
    return response;
}

bool TunnelTestProxy::start(UdpMode udp, const ServerOptions &options)
{
    if (!TestPki::instance().isValid()) {
        error = TestPki::instance().error;
        return false;
    }
    // The TCP port is free (port 0); the same number on UDP may not be: try a few times.
    for (int attempt = 0; attempt < 20; ++attempt) {
        if (listenOnce(udp, options))
            return true;
    }
    return false;
}

bool TunnelTestProxy::listenOnce(UdpMode udp, const ServerOptions &options)
{
    m_h3.reset();
    m_blackHole.reset();
    m_tls = std::make_unique<TlsServerListener>(options);
    m_echo.attach(m_tls.get());
    if (Status listening = m_tls->listen(QHostAddress::LocalHost, 0); !listening) {
        error = listening.error().toString();
        return false;
    }
    m_port = m_tls->serverPort();
    switch (udp) {
    case UdpMode::Serve: {
        m_h3 = std::make_unique<H3ServerListener>(options);
        m_echo.attach(m_h3.get());
        if (Status listening = m_h3->listen(QHostAddress::LocalHost, m_port); !listening) {
            error = listening.error().toString();
            return false;
        }
        return true;
    }
    case UdpMode::Blocked: {
        m_blackHole = std::make_unique<QUdpSocket>();
        if (!m_blackHole->bind(QHostAddress::LocalHost, m_port)) {
            error = m_blackHole->errorString();
            return false;
        }
        QUdpSocket *socket = m_blackHole.get();
        connect(socket, &QUdpSocket::readyRead, socket, [socket] {
            while (socket->hasPendingDatagrams())
                socket->readDatagram(nullptr, 0); // dropped, as a firewall would
        });
        return true;
    }
    case UdpMode::Closed:
        return true;
    }
    return false;
}

Profile TunnelTestProxy::profile(const QList<TransportKind> &transports) const
{
    Profile profile;
    profile.proxy = QStringLiteral("https://127.0.0.1:%1").arg(m_port);
    profile.ca = TestPki::instance().caCert;
    profile.transports = transports;
    return profile;
}

} // namespace qmasque::test
