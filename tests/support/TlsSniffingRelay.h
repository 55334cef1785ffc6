#pragma once

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

#include <optional>

namespace qmasque::test {

// TlsSniffingRelay: a TCP relay on 127.0.0.1 between a client and a target port that reads the
// first TLS ClientHello passing through and records its server_name (SNI, RFC 6066, 3), so tests
// observe on the wire what the client sent. It can also freeze (stop forwarding both ways, like
// a dead path) and cut (abort both sides, like a peer that vanished). One connection at a time.
class TlsSniffingRelay : public QObject
{
    Q_OBJECT

public:
    explicit TlsSniffingRelay(quint16 targetPort, QObject *parent = nullptr);

    bool listen();
    quint16 port() const { return m_server.serverPort(); }

    // helloSeen: a complete ClientHello was parsed; sni: its server_name, if it had one.
    bool helloSeen() const { return m_helloSeen; }
    std::optional<QByteArray> sni() const { return m_sni; }

    void freeze();
    void cut();

private:
    void handleNewConnection();
    void forwardFromClient();
    void forwardFromTarget();
    void parseClientHello();

    QTcpServer m_server;
    const quint16 m_targetPort;
    QPointer<QTcpSocket> m_client;
    QPointer<QTcpSocket> m_target;
    QByteArray m_pendingToTarget; // client bytes before the target connected
    QByteArray m_helloBytes;
    bool m_helloSeen = false;
    bool m_frozen = false;
    std::optional<QByteArray> m_sni;
};

} // namespace qmasque::test
