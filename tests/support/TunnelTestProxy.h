#pragma once

#include "api/Profile.h"
#include "support/StreamEchoServer.h"
#include "transport/ServerOptions.h"

#include <QtCore/QObject>

#include <memory>

QT_BEGIN_NAMESPACE
class QUdpSocket;
QT_END_NAMESPACE

namespace qmasque {
class H3ServerListener;
class TlsServerListener;
} // namespace qmasque

namespace qmasque::test {

// TunnelTestProxy: real listeners for the tunnel integration tests, on 127.0.0.1: TLS over TCP
// (h2 and h1 by ALPN) and QUIC (h3) on the same port number, every connection answered by one
// StreamEchoServer: 2xx (capsule-protocol: ?1 for connect-udp / connect-ip; h1 Upgrades become
// 101), then stream bytes and QUIC datagrams echoed. What it answers can be changed with
// echo().setPolicy().
//
// UdpMode::Blocked binds a plain UDP socket on the port that reads and drops everything (a
// firewall dropping UDP: h3 gets no answer at all); UdpMode::Closed leaves the UDP port unbound.
class TunnelTestProxy : public QObject
{
    Q_OBJECT

public:
    enum class UdpMode
    {
        Serve,
        Blocked,
        Closed
    };

    explicit TunnelTestProxy(QObject *parent = nullptr);
    ~TunnelTestProxy() override;

    // serverOptions: the TestPki identity, the ServerOptions defaults otherwise.
    static ServerOptions serverOptions();
    // policy: the default answer described above.
    static Response defaultResponse(const IncomingRequest &request);

    // start: listens (retrying when the UDP port number is taken); false with `error` set.
    bool start(UdpMode udp = UdpMode::Serve, const ServerOptions &options = serverOptions());
    quint16 port() const { return m_port; }
    StreamEchoServer &echo() { return m_echo; }
    TlsServerListener *tlsListener() const { return m_tls.get(); }
    H3ServerListener *h3Listener() const { return m_h3.get(); }

    // profile: a client profile for this proxy (https://127.0.0.1:port, trusting the test CA)
    // with the given transports.
    Profile profile(const QList<TransportKind> &transports) const;

    QString error;

private:
    bool listenOnce(UdpMode udp, const ServerOptions &options);

    StreamEchoServer m_echo;
    std::unique_ptr<TlsServerListener> m_tls;
    std::unique_ptr<H3ServerListener> m_h3;
    std::unique_ptr<QUdpSocket> m_blackHole;
    quint16 m_port = 0;
};

} // namespace qmasque::test
