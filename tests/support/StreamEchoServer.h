#pragma once

#include "transport/ServerConnection.h"
#include "transport/StreamHandler.h"

#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QPointer>

#include <functional>
#include <map>
#include <memory>

namespace qmasque {
class ServerListener;
}

namespace qmasque::test {

// StreamEchoServer: a test fixture that answers every request of the ServerConnections attached
// to it, whatever their HTTP version (h1, h2, h3): the policy decides the response; a 2xx (h1
// maps it to 101 for Upgrade requests) is followed by an echo of the stream's bytes back to the
// client, FIN answered with FIN; any other status is a refusal: the policy's response, a short
// body, end of stream.
//
// The echo is flow-controlled end to end: bytes are consumed only once they were accepted by
// sendStreamData(), so a client that stops reading stalls its own sending. HTTP datagrams that
// arrive as QUIC DATAGRAM frames (h3) are echoed the same way, on the stream they name (h1/h2
// carry them as DATAGRAM capsules, which the stream echo returns anyway).
class StreamEchoServer : public QObject
{
    Q_OBJECT

public:
    using Policy = std::function<Response(const IncomingRequest &request)>;

    explicit StreamEchoServer(QObject *parent = nullptr);
    ~StreamEchoServer() override;

    // attach: serves `connection` (a listener's newConnection() slot calls this).
    void attach(ServerConnection *connection);
    // attach: serves every connection the listener hands out from now on.
    void attach(ServerListener *listener);

    // setPolicy: the response per request; the default answers 200 with capsule-protocol: ?1
    // for extended CONNECT.
    void setPolicy(Policy policy) { m_policy = std::move(policy); }
    void setRefusalBody(const QByteArray &body) { m_refusalBody = body; }

    const QList<IncomingRequest> &requests() const { return m_requests; }
    ServerConnection *lastConnection() const { return m_lastConnection; }
    qint64 bytesEchoed() const { return m_bytesEchoed; }
    int finishedStreams() const { return m_finishedStreams; }
    int resetStreams() const { return m_resetStreams; }
    quint64 datagramsEchoed() const { return m_datagramsEchoed; }
    quint64 datagramEchoFailures() const { return m_datagramEchoFailures; }

    // defaultResponse: the default policy.
    static Response defaultResponse(const IncomingRequest &request);

Q_SIGNALS:
    void requestSeen(qmasque::StreamId id, const qmasque::IncomingRequest &request);
    void streamFinished(qmasque::StreamId id);
    void streamReset(qmasque::StreamId id, const qmasque::Error &reason);

private:
    class EchoStream;
    friend class EchoStream;

    void handleRequest(ServerConnection *connection, StreamId id, const IncomingRequest &request);
    void forget(ServerConnection *connection);

    Policy m_policy = &StreamEchoServer::defaultResponse;
    QByteArray m_refusalBody = "refused by the test server";
    QList<IncomingRequest> m_requests;
    QPointer<ServerConnection> m_lastConnection;
    std::map<std::pair<ServerConnection *, StreamId>, std::unique_ptr<EchoStream>> m_streams;
    qint64 m_bytesEchoed = 0;
    int m_finishedStreams = 0;
    int m_resetStreams = 0;
    quint64 m_datagramsEchoed = 0;
    quint64 m_datagramEchoFailures = 0;
};

} // namespace qmasque::test
