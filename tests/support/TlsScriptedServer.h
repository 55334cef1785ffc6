#pragma once

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtNetwork/QSslServer>
#include <QtNetwork/QSslSocket>

#include <functional>

namespace qmasque::test {

// TlsScriptedServer: a raw TLS server (TestPki identity, ALPN http/1.1) for HTTP/1.1 client tests
// that need exact bytes on the wire: it collects what the client sends and, once a complete
// request head (up to the blank line) arrived, writes the scripted reply in a single write, so
// a head and the bytes after it reach the client in one TLS record. One connection at a time.
class TlsScriptedServer : public QObject
{
    Q_OBJECT

public:
    using Script = std::function<QByteArray(const QByteArray &head)>;

    explicit TlsScriptedServer(QObject *parent = nullptr);

    bool listen();
    quint16 port() const { return m_server.serverPort(); }
    void setScript(Script script) { m_script = std::move(script); }

    // received: every byte the client sent so far (head included).
    const QByteArray &received() const { return m_received; }
    QSslSocket *socket() const { return m_socket; }
    bool clientClosed() const { return m_clientClosed; }

Q_SIGNALS:
    void bytesReceived();

private:
    void handleConnection();
    void handleReadyRead();

    QSslServer m_server;
    QPointer<QSslSocket> m_socket;
    Script m_script;
    QByteArray m_received;
    bool m_replied = false;
    bool m_clientClosed = false;
};

} // namespace qmasque::test
