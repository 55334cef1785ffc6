#include "support/ProxyTestTargets.h"

#include "support/H3TestPattern.h"

#include <QtNetwork/QTcpSocket>

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace qmasque::test {

UdpEchoTarget::UdpEchoTarget(QObject *parent)
    : QObject(parent)
{
    connect(&m_socket, &QUdpSocket::readyRead, this, &UdpEchoTarget::handleReadyRead);
}

bool UdpEchoTarget::start(const QHostAddress &address)
{
    m_buffer.resize(70000);
    m_socket.setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 4 * 1024 * 1024);
    return m_socket.bind(address, 0);
}

void UdpEchoTarget::handleReadyRead()
{
    QHostAddress from;
    quint16 port = 0;
    while (m_socket.hasPendingDatagrams()) {
        const qint64 size = m_socket.readDatagram(m_buffer.data(), m_buffer.size(), &from, &port);
        if (size < 0)
            return;
        m_largest = qMax(m_largest, size);
        if (reply) {
            const QByteArray answer = reply(QByteArrayView(m_buffer.constData(), size));
            m_socket.writeDatagram(answer, from, port);
        } else {
            m_socket.writeDatagram(m_buffer.constData(), size, from, port);
        }
        ++m_echoed;
    }
}

TcpTarget::TcpTarget(Mode mode, QObject *parent)
    : QObject(parent)
    , m_mode(mode)
{
    connect(&m_server, &QTcpServer::newConnection, this, &TcpTarget::handleConnection);
}

TcpTarget::~TcpTarget() = default;

bool TcpTarget::start(const QHostAddress &address)
{
    return m_server.listen(address, 0);
}

void TcpTarget::handleConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        ++connections;
        socket->setParent(this);
        socket->setReadBufferSize(1024 * 1024);
        received = 0;
        receivedIntact = true;
        peerFinished = false;
        sourceDone = false;
        m_sourceSent = 0;
        if (m_mode == Mode::ResetOnData) {
            connect(socket, &QTcpSocket::readyRead, this, [socket] {
                const linger option{1, 0};
                ::setsockopt(int(socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &option,
                             sizeof(option));
                socket->abort();
            });
            continue;
        }
        if (m_mode == Mode::Echo) {
            connect(socket, &QTcpSocket::readyRead, this, [this, socket] { pumpEcho(socket); });
            connect(socket, &QTcpSocket::bytesWritten, this, [this, socket] { pumpEcho(socket); });
            connect(socket, &QTcpSocket::readChannelFinished, this, [this, socket] {
                pumpEcho(socket);
                peerFinished = true;
                Q_EMIT progressed();
            });
            pumpEcho(socket);
        } else {
            connect(socket, &QTcpSocket::bytesWritten, this,
                    [this, socket] { pumpSource(socket); });
            m_last = socket;
            connect(socket, &QTcpSocket::readyRead, this, [this, socket] { drain(socket); });
            connect(socket, &QTcpSocket::readChannelFinished, this, [this, socket] {
                drain(socket);
                peerFinished = true;
                Q_EMIT progressed();
            });
            if (m_mode == Mode::SourceThenHalfClose)
                pumpSource(socket);
        }
    }
}

void TcpTarget::setReadPaused(bool paused)
{
    m_readPaused = paused;
    if (!paused && m_last)
        drain(m_last);
}

void TcpTarget::drain(QTcpSocket *socket)
{
    if (m_readPaused)
        return;
    const QByteArray bytes = socket->readAll();
    if (bytes.isEmpty())
        return;
    if (!H3TestPattern::matches(bytes, received))
        receivedIntact = false;
    received += bytes.size();
    Q_EMIT progressed();
}

void TcpTarget::pumpEcho(QTcpSocket *socket)
{
    constexpr qint64 kMaxQueued = 4 * 1024 * 1024;
    while (socket->bytesToWrite() < kMaxQueued && socket->bytesAvailable() > 0) {
        const QByteArray bytes = socket->read(256 * 1024);
        received += bytes.size();
        socket->write(bytes);
    }
}

void TcpTarget::pumpSource(QTcpSocket *socket)
{
    constexpr qint64 kChunk = 256 * 1024;
    while (m_sourceSent < sourceBytes && socket->bytesToWrite() < 2 * kChunk) {
        const qint64 size = qMin(kChunk, sourceBytes - m_sourceSent);
        socket->write(H3TestPattern::chunk(m_sourceSent, size));
        m_sourceSent += size;
    }
    if (m_sourceSent == sourceBytes && socket->bytesToWrite() == 0 && !sourceDone) {
        sourceDone = true;
        // Half-close: FIN after the last byte, reading goes on (QTcpSocket cannot do this).
        ::shutdown(int(socket->socketDescriptor()), SHUT_WR);
        Q_EMIT progressed();
    }
}

BlackholeTarget::BlackholeTarget() = default;

BlackholeTarget::~BlackholeTarget()
{
    for (int fd : m_fillers)
        ::close(fd);
    if (m_listener >= 0)
        ::close(m_listener);
}

bool BlackholeTarget::start()
{
    m_listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (m_listener < 0 || ::bind(m_listener, reinterpret_cast<sockaddr *>(&address), length) != 0 ||
        ::listen(m_listener, 0) != 0 ||
        ::getsockname(m_listener, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return false;
    m_port = ntohs(address.sin_port);
    // Fill the accept queue (backlog 0 admits one connection): later SYNs are dropped.
    for (int i = 0; i < 4; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return false;
        m_fillers.push_back(fd);
        (void)::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address));
    }
    // The first filler's handshake completing means the queue holds it: full from now on.
    pollfd entry{m_fillers.front(), POLLOUT, 0};
    return ::poll(&entry, 1, 5000) == 1 && (entry.revents & POLLOUT);
}

quint16 unusedTcpPort()
{
    QTcpServer server;
    server.listen(QHostAddress::LocalHost, 0);
    return server.serverPort();
}

} // namespace qmasque::test
