#include "support/H3TestServer.h"

#include "support/H3TestPattern.h"
#include "support/TestPki.h"
#include "transport/h3/H3ServerConnection.h"

#include <tuple>

namespace qmasque::test {

namespace {

constexpr qsizetype kSourceChunk = 64 * 1024;
constexpr qsizetype kFileBytes = 256 * 1024;

} // namespace

// Handler: one stream of the test server (echo, source or sink).
class H3TestServer::Handler final : public StreamHandler
{
public:
    enum class Mode
    {
        Echo,
        Source,
        Sink
    };

    Handler(H3TestServer *server, H3ServerConnection *connection, StreamId id, Mode mode,
            qint64 sourceBytes = 0)
        : m_server(server)
        , m_connection(connection)
        , m_id(id)
        , m_mode(mode)
        , m_sourceTotal(sourceBytes)
    {}

    void onStreamResponse(StreamId, const Response &) override {}

    void onStreamData(StreamId, QByteArrayView data, bool fin) override
    {
        switch (m_mode) {
        case Mode::Echo:
            if (m_pendingOffset > 0 && m_pendingOffset == m_pending.size()) {
                m_pending.clear();
                m_pendingOffset = 0;
            }
            m_pending.append(data);
            m_finPending = m_finPending || fin;
            pump();
            break;
        case Mode::Sink:
            if (!H3TestPattern::matches(data, m_received))
                m_server->m_sinkIntact = false;
            m_received += data.size();
            m_server->m_sinkBytes += data.size();
            if (m_server->m_sinkStalled) {
                m_unconsumed += data.size();
                m_server->m_sinkUnconsumed += data.size();
            } else {
                m_connection->consumeStreamData(m_id, data.size());
            }
            if (fin) {
                m_server->m_sinkFinished = true;
                std::ignore = m_connection->endStream(m_id);
                scheduleRemoval();
            }
            Q_EMIT m_server->sinkProgress();
            break;
        case Mode::Source:
            m_connection->consumeStreamData(m_id, data.size());
            break;
        }
    }

    void onStreamReset(StreamId, const Error &) override { scheduleRemoval(); }

    void onStreamWritable(StreamId) override { pump(); }

    void pump()
    {
        if (m_mode == Mode::Echo) {
            while (m_pendingOffset < m_pending.size()) {
                const auto accepted = m_connection->sendStreamData(
                    m_id, QByteArrayView(m_pending).sliced(m_pendingOffset));
                if (!accepted || *accepted == 0)
                    return; // gone, or full: onStreamWritable() resumes
                // Credit the peer only for what we passed on: echo backpressure.
                m_connection->consumeStreamData(m_id, *accepted);
                m_pendingOffset += *accepted;
            }
            if (m_finPending && !m_finSent) {
                m_finSent = true;
                std::ignore = m_connection->endStream(m_id);
                scheduleRemoval();
            }
        } else if (m_mode == Mode::Source) {
            m_server->m_sourceBlocked = false;
            while (m_sourceSent < m_sourceTotal) {
                const qsizetype size =
                    qsizetype(std::min<qint64>(kSourceChunk, m_sourceTotal - m_sourceSent));
                const QByteArray chunk = H3TestPattern::chunk(m_sourceSent, size);
                const auto accepted = m_connection->sendStreamData(m_id, chunk);
                if (!accepted)
                    return;
                m_sourceSent += *accepted;
                m_server->m_sourceAccepted = m_sourceSent;
                if (*accepted < size) {
                    m_server->m_sourceBlocked = true;
                    return;
                }
            }
            if (!m_finSent) {
                m_finSent = true;
                std::ignore = m_connection->endStream(m_id);
            }
        }
    }

    void resumeSink() { m_connection->consumeStreamData(m_id, std::exchange(m_unconsumed, 0)); }

    Mode mode() const { return m_mode; }

private:
    void scheduleRemoval()
    {
        // Never delete a handler inside its own callback: the server drops it later.
        QMetaObject::invokeMethod(
            m_server,
            [server = m_server, connection = QPointer<H3ServerConnection>(m_connection),
             key = m_connection, id = m_id] { server->removeHandler(connection, key, id); },
            Qt::QueuedConnection);
    }

    H3TestServer *m_server;
    H3ServerConnection *m_connection;
    StreamId m_id;
    Mode m_mode;
    QByteArray m_pending;
    qsizetype m_pendingOffset = 0;
    bool m_finPending = false;
    bool m_finSent = false;
    qint64 m_received = 0;
    qint64 m_unconsumed = 0;
    qint64 m_sourceTotal = 0;
    qint64 m_sourceSent = 0;
};

H3TestServer::H3TestServer(const ServerOptions &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_listener(new H3ServerListener(options, this))
{
    connect(m_listener, &ServerListener::newConnection, this, &H3TestServer::handleConnection);
}

H3TestServer::~H3TestServer()
{
    m_handlers.clear();
}

ServerOptions H3TestServer::defaultOptions()
{
    const TestPki &pki = TestPki::instance();
    ServerOptions options;
    options.tls.certificateFile = pki.serverCert;
    options.tls.privateKeyFile = pki.serverKey;
    return options;
}

QByteArray H3TestServer::fileBody()
{
    return H3TestPattern::chunk(0, kFileBytes);
}

Status H3TestServer::listen(const QHostAddress &address, quint16 port)
{
    return m_listener->listen(address, port);
}

quint16 H3TestServer::port() const
{
    return m_listener->serverPort();
}

void H3TestServer::setSinkStalled(bool stalled)
{
    m_sinkStalled = stalled;
    if (stalled)
        return;
    m_sinkUnconsumed = 0;
    for (auto &[key, handler] : m_handlers) {
        if (handler->mode() == Handler::Mode::Sink)
            handler->resumeSink();
    }
}

void H3TestServer::handleConnection(ServerConnection *serverConnection)
{
    auto *connection = static_cast<H3ServerConnection *>(serverConnection);
    m_lastConnection = connection;
    ++m_connectionCount;
    connect(connection, &ServerConnection::requestReceived, this,
            [this, connection](StreamId id, const IncomingRequest &request) {
                handleRequest(connection, id, request);
            });
    connect(connection, &HttpConnection::datagramReceived, this,
            [this, connection](StreamId id, QByteArrayView payload) {
                if (connection->sendDatagram(id, payload))
                    ++m_datagramsEchoed;
                else
                    ++m_echoDatagramFailures;
            });
    connect(connection, &HttpConnection::closed, this, [this, connection] {
        for (auto it = m_handlers.begin(); it != m_handlers.end();) {
            if (it->first.first == connection)
                it = m_handlers.erase(it);
            else
                ++it;
        }
    });
}

void H3TestServer::handleRequest(H3ServerConnection *connection, StreamId id,
                                 const IncomingRequest &request)
{
    Q_EMIT requestSeen(request.method, request.protocol, request.path);
    const QByteArray &path = request.path;
    const bool classicConnect = request.method == "CONNECT" && request.protocol.isEmpty();

    auto serve = [&](Handler::Mode mode, qint64 sourceBytes = 0) {
        auto handler = std::make_unique<Handler>(this, connection, id, mode, sourceBytes);
        Handler *raw = handler.get();
        m_handlers[{connection, id}] = std::move(handler);
        std::ignore = connection->setStreamHandler(id, raw);
        std::ignore = connection->submitResponse(id, Response{200, {}}, false);
        raw->pump();
    };
    auto answer = [&](int status, const HeaderList &headers, const QByteArray &body) {
        connection->clearStreamHandler(id); // any request body is discarded (and credited)
        std::ignore = connection->submitResponse(id, Response{status, headers}, false);
        std::ignore = connection->sendStreamData(id, body);
        std::ignore = connection->endStream(id);
    };

    if (classicConnect || path == "/echo") {
        serve(Handler::Mode::Echo);
    } else if (path.startsWith("/source/")) {
        serve(Handler::Mode::Source, path.mid(8).toLongLong());
    } else if (path == "/sink") {
        serve(Handler::Mode::Sink);
    } else if (path.startsWith("/refuse/")) {
        const int status = path.mid(8).toInt();
        answer(
            status,
            {{"proxy-status", "qmasque-test; error=destination_ip_prohibited; details=\"test\""}},
            "refused");
    } else if (path == "/file") {
        const QByteArray body = fileBody();
        answer(200,
               {{"content-type", "application/octet-stream"},
                {"content-length", QByteArray::number(body.size())}},
               body);
    } else {
        answer(404, {}, "not found");
    }
}

void H3TestServer::removeHandler(const QPointer<H3ServerConnection> &connection,
                                 H3ServerConnection *key, StreamId id)
{
    const auto it = m_handlers.find({key, id});
    if (it == m_handlers.end())
        return;
    if (connection)
        connection->clearStreamHandler(id);
    m_handlers.erase(it);
}

} // namespace qmasque::test
