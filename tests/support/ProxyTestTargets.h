#pragma once

#include <QtCore/QObject>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QUdpSocket>

#include <functional>
#include <memory>
#include <vector>

QT_BEGIN_NAMESPACE
class QTcpSocket;
QT_END_NAMESPACE

namespace qmasque::test {

// Local targets for proxy tests, on 127.0.0.1 port 0.

// UdpEchoTarget: sends every datagram back to where it came from.
class UdpEchoTarget : public QObject
{
    Q_OBJECT

public:
    explicit UdpEchoTarget(QObject *parent = nullptr);
    bool start(const QHostAddress &address = QHostAddress::LocalHost);
    quint16 port() const { return m_socket.localPort(); }
    quint64 echoed() const { return m_echoed; }
    qint64 largest() const { return m_largest; }
    // reply: when set, what is sent back instead of the datagram itself.
    std::function<QByteArray(QByteArrayView)> reply;

private:
    void handleReadyRead();

    QUdpSocket m_socket;
    QByteArray m_buffer;
    quint64 m_echoed = 0;
    qint64 m_largest = 0;
};

// TcpTarget: a TCP server for tunnel tests. Echo mode sends every byte back (reading only while
// less than 4 MiB waits to be written, so backpressure reaches the proxy) and closes after the
// peer's FIN once everything was echoed. Source mode sends `sourceBytes` of H3TestPattern, then
// half-closes (FIN) and keeps reading, counting and pattern-checking what arrives until the
// peer's FIN.
class TcpTarget : public QObject
{
    Q_OBJECT

public:
    enum class Mode
    {
        Echo,
        Sink, // reads and pattern-checks, sends nothing
        SourceThenHalfClose,
        ResetOnData, // RST as soon as bytes arrive
    };

    explicit TcpTarget(Mode mode, QObject *parent = nullptr);
    ~TcpTarget() override;
    bool start(const QHostAddress &address = QHostAddress::LocalHost);
    quint16 port() const { return m_server.serverPort(); }

    qint64 sourceBytes = 0;
    qint64 sourceSent() const { return m_sourceSent; }
    // setReadPaused: Sink and SourceThenHalfClose stop reading (the kernel buffers fill, the
    // sender stalls) until resumed.
    void setReadPaused(bool paused);
    // What the last connection received (source mode) and whether it saw EOF.
    qint64 received = 0;
    bool receivedIntact = true;
    bool peerFinished = false;
    bool sourceDone = false;
    int connections = 0;

Q_SIGNALS:
    void progressed();

private:
    void handleConnection();
    void pumpEcho(QTcpSocket *socket);
    void pumpSource(QTcpSocket *socket);
    void drain(QTcpSocket *socket);

    const Mode m_mode;
    QTcpServer m_server;
    qint64 m_sourceSent = 0;
    bool m_readPaused = false;
    QTcpSocket *m_last = nullptr; // the latest connection (a child)
};

// BlackholeTarget: a listening TCP socket whose accept queue is full and never drained, so
// further connection attempts get no SYN-ACK and hang until the client gives up (Linux drops
// SYNs when the accept queue is full): a deterministic "connect timeout" target.
class BlackholeTarget
{
public:
    BlackholeTarget();
    ~BlackholeTarget();
    bool start();
    quint16 port() const { return m_port; }

private:
    int m_listener = -1;
    std::vector<int> m_fillers;
    quint16 m_port = 0;
};

// unusedTcpPort: a port on 127.0.0.1 nobody listens on (bound once, then released).
quint16 unusedTcpPort();

} // namespace qmasque::test
