#pragma once

#include "transport/ServerConnection.h"
#include "transport/ServerOptions.h"
#include "transport/StreamHandler.h"
#include "transport/h3/H3ServerConnection.h"
#include "transport/h3/H3ServerListener.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>

#include <map>
#include <memory>

namespace qmasque::test {

// H3TestServer: an HTTP/3 server for the integration tests, on the real H3ServerListener. It
// answers by path, for any method (extended CONNECT, classic CONNECT, GET):
//   /echo            200, echoes stream data (with backpressure) and HTTP datagrams
//   /refuse/<code>   <code> with a Proxy-Status field and a short body, then FIN
//   /source/<bytes>  200, then <bytes> bytes of H3TestPattern (with backpressure), then FIN
//   /sink            200, verifies the pattern of what it receives; consumes it unless stalled
//   /file            200 with fileBody() (what HTTP/3 clients such as gtlsclient fetch)
//   anything else    404
// Classic CONNECT (no :path) echoes. Datagrams are echoed on any open stream (the server-side
// routing a proxy would do), counted in datagramsEchoed().
class H3TestServer : public QObject
{
    Q_OBJECT

public:
    explicit H3TestServer(const ServerOptions &options = defaultOptions(),
                          QObject *parent = nullptr);
    ~H3TestServer() override;

    // defaultOptions: TestPki's server certificate for localhost, 127.0.0.1 and ::1.
    static ServerOptions defaultOptions();
    // fileBody: what GET /file returns (256 KiB of pattern).
    static QByteArray fileBody();

    Status listen(const QHostAddress &address = QHostAddress::LocalHost, quint16 port = 0);
    quint16 port() const;
    H3ServerListener *listener() const { return m_listener; }
    // lastConnection: the most recently accepted connection, if still alive.
    H3ServerConnection *lastConnection() const { return m_lastConnection; }
    int connectionCount() const { return m_connectionCount; }

    // The sink's state (all /sink streams together).
    void setSinkStalled(bool stalled);
    qint64 sinkBytes() const { return m_sinkBytes; }
    qint64 sinkUnconsumed() const { return m_sinkUnconsumed; }
    bool sinkIntact() const { return m_sinkIntact; }
    bool sinkFinished() const { return m_sinkFinished; }

    // The source's state (the last /source stream).
    qint64 sourceAccepted() const { return m_sourceAccepted; }
    bool sourceBlocked() const { return m_sourceBlocked; }

    quint64 datagramsEchoed() const { return m_datagramsEchoed; }
    quint64 echoDatagramFailures() const { return m_echoDatagramFailures; }

Q_SIGNALS:
    void requestSeen(const QByteArray &method, const QByteArray &protocol, const QByteArray &path);
    void sinkProgress();

private:
    class Handler;
    friend class Handler;
    void handleConnection(ServerConnection *connection);
    void handleRequest(H3ServerConnection *connection, StreamId id, const IncomingRequest &request);
    void removeHandler(const QPointer<H3ServerConnection> &connection, H3ServerConnection *key,
                       StreamId id);

    ServerOptions m_options;
    H3ServerListener *m_listener; // child
    QPointer<H3ServerConnection> m_lastConnection;
    int m_connectionCount = 0;
    std::map<std::pair<H3ServerConnection *, StreamId>, std::unique_ptr<Handler>> m_handlers;

    bool m_sinkStalled = false;
    qint64 m_sinkBytes = 0;
    qint64 m_sinkUnconsumed = 0;
    bool m_sinkIntact = true;
    bool m_sinkFinished = false;
    qint64 m_sourceAccepted = 0;
    bool m_sourceBlocked = false;
    quint64 m_datagramsEchoed = 0;
    quint64 m_echoDatagramFailures = 0;
};

} // namespace qmasque::test
