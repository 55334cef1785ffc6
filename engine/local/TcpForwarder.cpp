#include "local/TcpForwarder.h"

#include "core/Log.h"
#include "local/LocalStreamSocket.h"
#include "local/LocalTcpListener.h"
#include "local/TcpRelay.h"
#include "tunnel/TunnelClient.h"

namespace qmasque {

// TcpForwardConnection: one accepted connection: its socket, the pending open, then the relay.
// No signals of its own: it reports to the forwarder directly.
class TcpForwardConnection final : public QObject
{
public:
    TcpForwardConnection(TcpForwarder *forwarder, SocketFd fd)
        : QObject(forwarder)
        , m_forwarder(forwarder)
        , m_socket(new LocalStreamSocket(std::move(fd), this))
    {}

    ~TcpForwardConnection() override
    {
        if (m_openId != 0)
            m_forwarder->m_client->cancel(m_openId);
        delete m_relay; // closes an unfinished tunnel before the socket goes
    }

    void open()
    {
        const Endpoint &target = m_forwarder->m_forward.target;
        m_openId = m_forwarder->m_client->openTcp(
            target.host, target.port, this,
            [this](const Result<TcpTunnel *> &result) {
                m_openId = 0;
                if (!result) {
                    qCDebug(lcLocal)
                        << "tcp-forward" << m_socket->peerString() << result.error().toString();
                    // What a refused connect looks like to the application.
                    m_socket->abortOnClose();
                    m_socket->close();
                    m_forwarder->remove(this, true);
                    return;
                }
                m_relay = new TcpRelay(m_socket, *result, this);
                m_relay->setH1FinGraceMs(m_forwarder->m_options.h1FinGraceMs);
                QObject::connect(m_relay, &TcpRelay::finished, this, [this](const Error &reason) {
                    qCDebug(lcLocal)
                        << "tcp-forward" << m_socket->peerString() << "ended:" << reason.toString();
                    m_socket->close();
                    m_forwarder->remove(this, false);
                });
                m_relay->start();
            },
            QStringLiteral("tcp-forward ") + m_socket->peerString());
    }

    void stop()
    {
        if (m_relay && !m_relay->isFinished()) {
            m_relay->closeGracefully(); // FINs both ways; the relay's finished() removes us
            return;
        }
        if (m_openId != 0)
            m_forwarder->m_client->cancel(std::exchange(m_openId, 0));
        m_socket->close();
        m_forwarder->remove(this, false);
    }

    void reset()
    {
        m_socket->abortOnClose();
        m_socket->close();
    }

private:
    TcpForwarder *m_forwarder;   // parent
    LocalStreamSocket *m_socket; // child
    TcpRelay *m_relay = nullptr; // child
    quint64 m_openId = 0;
};

TcpForwarder::TcpForwarder(TunnelClient *client, const Forward &forward, QObject *parent)
    : TcpForwarder(client, forward, TcpForwarderOptions(), parent)
{}

TcpForwarder::TcpForwarder(TunnelClient *client, const Forward &forward,
                           const TcpForwarderOptions &options, QObject *parent)
    : LocalFrontEnd(parent)
    , m_client(client)
    , m_forward(forward)
    , m_options(options)
    , m_bound(forward.local)
{}

TcpForwarder::~TcpForwarder()
{
    delete m_listener;
    qDeleteAll(std::exchange(m_connections, {}));
}

Status TcpForwarder::start()
{
    if (m_listener)
        return {};
    auto *listener =
        new LocalTcpListener([this](SocketFd fd) { handleAccepted(std::move(fd)); }, this);
    if (Status listening = listener->listenOn(m_forward.local, QStringLiteral("tcp-forward"));
        !listening) {
        delete listener;
        return listening;
    }
    m_listener = listener;
    m_bound = listener->boundEndpoint();
    qCInfo(lcLocal).noquote() << description() << "listening";
    return {};
}

void TcpForwarder::stop()
{
    if (m_listener) {
        m_listener->close();
        delete std::exchange(m_listener, nullptr);
    }
    const QSet<TcpForwardConnection *> connections = m_connections;
    for (TcpForwardConnection *connection : connections)
        connection->stop();
}

QString TcpForwarder::description() const
{
    return QStringLiteral("tcp-forward %1=%2").arg(m_bound.toString(), m_forward.target.toString());
}

void TcpForwarder::handleAccepted(SocketFd fd)
{
    auto *connection = new TcpForwardConnection(this, std::move(fd));
    if (m_connections.size() >= m_options.maxClients) {
        ++m_refused;
        connection->reset();
        delete connection;
        return;
    }
    ++m_accepted;
    m_connections.insert(connection);
    connection->open();
}

void TcpForwarder::remove(TcpForwardConnection *connection, bool openFailed)
{
    if (openFailed)
        ++m_failedOpens;
    if (m_connections.remove(connection))
        connection->deleteLater(); // called from inside the connection's callbacks
}

} // namespace qmasque
