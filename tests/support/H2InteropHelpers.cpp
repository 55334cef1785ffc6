#include "support/H2InteropHelpers.h"

#include "support/H2TestUtil.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QStandardPaths>
#include <QtNetwork/QTcpSocket>

namespace qmasque::test {

QString programPath(const QString &name)
{
    // Daemons live in sbin, which a user's PATH may not list.
    return QStandardPaths::findExecutable(
        name, {QStringLiteral("/usr/local/sbin"), QStringLiteral("/usr/local/bin"),
               QStringLiteral("/usr/sbin"), QStringLiteral("/usr/bin"), QStringLiteral("/sbin"),
               QStringLiteral("/bin")});
}

namespace {

quint16 probeFreePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

// accepts: whether a TCP connection to the port succeeds now.
bool accepts(quint16 port)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    waitUntil(
        [&] {
            return socket.state() == QAbstractSocket::ConnectedState ||
                   socket.state() == QAbstractSocket::UnconnectedState;
        },
        2000);
    const bool connected = socket.state() == QAbstractSocket::ConnectedState;
    socket.abort();
    return connected;
}

} // namespace

ExternalServer::ExternalServer(QString program, ArgumentsFor arguments, QObject *parent)
    : QObject(parent)
    , m_program(std::move(program))
    , m_arguments(std::move(arguments))
{}

ExternalServer::~ExternalServer()
{
    stop();
}

bool ExternalServer::start()
{
    for (int attempt = 0; attempt < 5; ++attempt) {
        const quint16 port = probeFreePort();
        if (port && startOnce(port)) {
            m_port = port;
            return true;
        }
        stop();
    }
    return false;
}

bool ExternalServer::startOnce(quint16 port)
{
    m_process = std::make_unique<QProcess>();
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    m_process->setWorkingDirectory(m_dir.path());
    m_process->start(m_program, m_arguments(port, m_dir.path()));
    if (!m_process->waitForStarted(5000))
        return false;
    // Ready once it accepts connections; an early exit means the port was taken meanwhile.
    const bool ready =
        waitUntil([&] { return m_process->state() != QProcess::Running || accepts(port); }, 10000);
    m_lastOutput = QString::fromLocal8Bit(m_process->readAll());
    return ready && m_process->state() == QProcess::Running;
}

void ExternalServer::stop()
{
    if (!m_process)
        return;
    if (m_process->state() != QProcess::NotRunning) {
        m_process->terminate(); // SIGTERM to the process we started
        if (!m_process->waitForFinished(5000)) {
            m_process->kill();
            m_process->waitForFinished(2000);
        }
    }
    m_lastOutput += QString::fromLocal8Bit(m_process->readAll());
    m_process.reset();
}

QString ExternalServer::diagnostics() const
{
    QString text = m_program + QStringLiteral(" output: ") + m_lastOutput;
    const QDir dir(m_dir.path());
    for (const QString &log : dir.entryList({QStringLiteral("*.log")}, QDir::Files)) {
        QFile file(dir.filePath(log));
        if (file.open(QIODevice::ReadOnly))
            text += QStringLiteral("\n--- ") + log + QStringLiteral(":\n") +
                    QString::fromLocal8Bit(file.readAll().right(4000));
    }
    return text;
}

EchoTcpServer::EchoTcpServer(QObject *parent)
    : QObject(parent)
{
    connect(&m_server, &QTcpServer::newConnection, this, [this] {
        while (QTcpSocket *socket = m_server.nextPendingConnection()) {
            socket->setParent(this);
            connect(socket, &QTcpSocket::readyRead, this, [this, socket] {
                const QByteArray bytes = socket->readAll();
                m_bytesEchoed += bytes.size();
                socket->write(bytes);
            });
            connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        }
    });
}

bool EchoTcpServer::listen()
{
    return m_server.listen(QHostAddress::LocalHost, 0);
}

H2TinyHttpServer::H2TinyHttpServer(QByteArray body, QObject *parent)
    : QObject(parent)
    , m_body(std::move(body))
{
    connect(&m_server, &QTcpServer::newConnection, this, [this] {
        while (QTcpSocket *socket = m_server.nextPendingConnection()) {
            socket->setParent(this);
            auto head = std::make_shared<QByteArray>();
            connect(socket, &QTcpSocket::readyRead, this, [this, socket, head] {
                *head += socket->readAll();
                if (!head->contains("\r\n\r\n") || head->isNull())
                    return;
                ++m_requests;
                head->clear();
                socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                              "Content-Length: " +
                              QByteArray::number(m_body.size()) + "\r\nConnection: close\r\n\r\n");
                socket->write(m_body);
                socket->disconnectFromHost(); // after the buffered bytes are written
            });
            connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        }
    });
}

bool H2TinyHttpServer::listen()
{
    return m_server.listen(QHostAddress::LocalHost, 0);
}

} // namespace qmasque::test
