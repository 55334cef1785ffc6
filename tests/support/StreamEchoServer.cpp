#include "support/StreamEchoServer.h"

#include "transport/ServerListener.h"

namespace qmasque::test {

// EchoStream: the handler of one echoed stream.
class StreamEchoServer::EchoStream final : public StreamHandler
{
public:
    EchoStream(StreamEchoServer *server, ServerConnection *connection, StreamId id)
        : m_server(server)
        , m_connection(connection)
        , m_id(id)
    {}

    ~EchoStream() override
    {
        if (m_connection)
            m_connection->clearStreamHandler(m_id);
    }

    void onStreamResponse(StreamId, const Response &) override {}

    void onStreamData(StreamId, QByteArrayView data, bool fin) override
    {
        m_pending.append(data.data(), data.size());
        m_finRequested = m_finRequested || fin;
        pump();
    }

    void onStreamReset(StreamId id, const Error &reason) override
    {
        m_done = true;
        ++m_server->m_resetStreams;
        Q_EMIT m_server->streamReset(id, reason);
    }

    void onStreamWritable(StreamId) override { pump(); }

private:
    void pump()
    {
        if (!m_connection || m_done)
            return;
        if (!m_pending.isEmpty()) {
            auto accepted = m_connection->sendStreamData(m_id, m_pending);
            if (!accepted)
                return;
            // Credit only what went back out: a client that does not read stalls its sending.
            m_connection->consumeStreamData(m_id, *accepted);
            m_server->m_bytesEchoed += *accepted;
            m_pending.remove(0, qsizetype(*accepted));
        }
        if (m_pending.isEmpty() && m_finRequested) {
            m_done = true;
            (void)m_connection->endStream(m_id);
            ++m_server->m_finishedStreams;
            Q_EMIT m_server->streamFinished(m_id);
        }
    }

    StreamEchoServer *m_server; // owns this object
    QPointer<ServerConnection> m_connection;
    const StreamId m_id;
    QByteArray m_pending;
    bool m_finRequested = false;
    bool m_done = false;
};

StreamEchoServer::StreamEchoServer(QObject *parent)
    : QObject(parent)
{}

StreamEchoServer::~StreamEchoServer() = default;

Response StreamEchoServer::defaultResponse(const IncomingRequest &request)
{
    Response response;
    response.status = 200;
    if (!request.protocol.isEmpty())
        response.headers.append(Header{"capsule-protocol", "?1"});
    return response;
}

void StreamEchoServer::attach(ServerConnection *connection)
{
    m_lastConnection = connection;
    connect(connection, &ServerConnection::requestReceived, this,
            [this, connection](StreamId id, const IncomingRequest &request) {
                handleRequest(connection, id, request);
            });
    connect(connection, &ServerConnection::closed, this,
            [this, connection] { forget(connection); });
    // h3: QUIC DATAGRAM frames back to the stream they came for (RFC 9297, 2.1).
    connect(connection, &HttpConnection::datagramReceived, this,
            [this, connection](StreamId id, QByteArrayView payload) {
                if (connection->sendDatagram(id, payload))
                    ++m_datagramsEchoed;
                else
                    ++m_datagramEchoFailures;
            });
}

void StreamEchoServer::attach(ServerListener *listener)
{
    connect(listener, &ServerListener::newConnection, this,
            [this](ServerConnection *connection) { attach(connection); });
}

void StreamEchoServer::handleRequest(ServerConnection *connection, StreamId id,
                                     const IncomingRequest &request)
{
    m_requests.append(request);
    const Response response = m_policy(request);
    Q_EMIT requestSeen(id, request);
    if (response.status >= 200 && response.status <= 299) {
        auto stream = std::make_unique<EchoStream>(this, connection, id);
        if (!connection->setStreamHandler(id, stream.get()).ok())
            return;
        m_streams[{connection, id}] = std::move(stream);
        (void)connection->submitResponse(id, response, false);
        return;
    }
    // A refusal: status, fields, a short body, end of stream.
    if (connection->submitResponse(id, response, false).ok()) {
        (void)connection->sendStreamData(id, m_refusalBody);
        (void)connection->endStream(id);
    }
}

void StreamEchoServer::forget(ServerConnection *connection)
{
    for (auto it = m_streams.begin(); it != m_streams.end();) {
        if (it->first.first == connection)
            it = m_streams.erase(it);
        else
            ++it;
    }
}

} // namespace qmasque::test
