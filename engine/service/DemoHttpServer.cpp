#include "service/DemoHttpServer.h"

#include "service/DemoContent.h"

#include <QtCore/QPointer>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

namespace qmasque {

namespace {

constexpr qsizetype kMaxHead = 8 * 1024;
constexpr qint64 kMaxQueued = 256 * 1024;

QByteArray indexPage()
{
    return QByteArrayLiteral(
        "<!DOCTYPE html>\n<html><head><title>QMasque demo</title></head><body>\n"
        "<h1>QMasque demo file server</h1>\n"
        "<p>Every file is generated: byte <i>i</i> is <i>i</i> mod 251. Any size works "
        "(plain bytes, or K, M, G suffixes, up to 1G); add <code>.sha256</code> for its "
        "checksum.</p>\n<ul>\n"
        "<li><a href=\"/1K\">/1K</a></li>\n<li><a href=\"/1M\">/1M</a> "
        "(<a href=\"/1M.sha256\">sha256</a>)</li>\n"
        "<li><a href=\"/64M\">/64M</a> (<a href=\"/64M.sha256\">sha256</a>)</li>\n"
        "<li><a href=\"/1G\">/1G</a></li>\n</ul>\n</body></html>\n");
}

} // namespace

DemoHttpServer::DemoHttpServer(QObject *parent)
    : QObject(parent)
    , m_server(new QTcpServer(this))
{
    m_server->setListenBacklogSize(1024);
    connect(m_server, &QTcpServer::newConnection, this, &DemoHttpServer::handleNewConnections);
}

DemoHttpServer::~DemoHttpServer() = default;

Status DemoHttpServer::listen(const QHostAddress &address, quint16 port, bool fallBack)
{
    if (m_server->listen(address, port))
        return {};
    if (fallBack && m_server->serverError() == QAbstractSocket::AddressInUseError &&
        m_server->listen(address, 0))
        return {};
    return Error(m_server->serverError() == QAbstractSocket::AddressInUseError
                     ? ErrorCode::AddressInUse
                     : ErrorCode::Io,
                 QStringLiteral("demo http %1:%2: %3")
                     .arg(address.toString())
                     .arg(port)
                     .arg(m_server->errorString()));
}

quint16 DemoHttpServer::port() const
{
    return m_server->serverPort();
}

void DemoHttpServer::close()
{
    m_server->close();
    const QList<QTcpSocket *> sockets = m_clients.keys();
    m_clients.clear();
    for (QTcpSocket *socket : sockets) {
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
    }
}

void DemoHttpServer::handleNewConnections()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        m_clients.insert(socket, Client{});
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { handleReadyRead(socket); });
        connect(socket, &QTcpSocket::bytesWritten, this, [this, socket] { pump(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            m_clients.remove(socket);
            socket->deleteLater();
        });
    }
}

void DemoHttpServer::handleReadyRead(QTcpSocket *socket)
{
    auto it = m_clients.find(socket);
    if (it == m_clients.end())
        return;
    Client &client = *it;
    // One request at a time: a pipelined next request waits until this response is queued.
    while (!client.responding) {
        client.head += socket->read(kMaxHead + 1 - client.head.size());
        const qsizetype end = client.head.indexOf("\r\n\r\n");
        if (end < 0) {
            if (client.head.size() > kMaxHead) {
                client.closeAfter = true;
                sendSimple(socket, client, 431, "Request Header Fields Too Large", "text/plain",
                           "request head too large\n", false);
            }
            return;
        }
        const QByteArray head = client.head.left(end);
        client.head.remove(0, end + 4);
        respond(socket, client, head);
        if (!m_clients.contains(socket))
            return;
    }
}

void DemoHttpServer::respond(QTcpSocket *socket, Client &client, const QByteArray &head)
{
    ++m_requests;
    // RFC 9112, 3: request-line = method SP request-target SP HTTP-version.
    const QList<QByteArray> lines = head.split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    if (requestLine.size() != 3 || !requestLine[2].startsWith("HTTP/1.")) {
        client.closeAfter = true;
        sendSimple(socket, client, 400, "Bad Request", "text/plain", "bad request line\n", false);
        return;
    }
    client.closeAfter = requestLine[2] == "HTTP/1.0";
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed().toLower();
        if (line.startsWith("connection:")) {
            const QByteArray value = line.mid(11).trimmed();
            client.closeAfter = value == "close" || (client.closeAfter && value != "keep-alive");
        }
    }
    const QByteArray &method = requestLine[0];
    const bool headOnly = method == "HEAD";
    if (method != "GET" && !headOnly) {
        sendSimple(socket, client, 405, "Method Not Allowed", "text/plain", "GET or HEAD only\n",
                   false);
        return;
    }
    const QString path = QString::fromLatin1(requestLine[1]);
    if (path == u"/") {
        sendSimple(socket, client, 200, "OK", "text/html; charset=utf-8", indexPage(), headOnly);
        return;
    }
    if (path.endsWith(u".sha256")) {
        if (const auto size = demo::parseSize(QStringView(path).chopped(7))) {
            sendSimple(socket, client, 200, "OK", "text/plain", digest(*size) + '\n', headOnly);
            return;
        }
    } else if (const auto size = demo::parseSize(path)) {
        QByteArray response = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                              "Content-Length: " +
                              QByteArray::number(*size) +
                              "\r\nConnection: " + (client.closeAfter ? "close" : "keep-alive") +
                              "\r\n\r\n";
        socket->write(response);
        client.responding = true;
        client.bodyOffset = 0;
        client.bodyRemaining = headOnly ? 0 : *size;
        pump(socket);
        return;
    }
    sendSimple(socket, client, 404, "Not Found", "text/plain", "no such file\n", headOnly);
}

void DemoHttpServer::sendSimple(QTcpSocket *socket, Client &client, int status,
                                const QByteArray &reason, const QByteArray &type,
                                const QByteArray &body, bool headOnly)
{
    QByteArray response =
        "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\nContent-Type: " + type +
        "\r\nContent-Length: " + QByteArray::number(body.size()) +
        "\r\nConnection: " + (client.closeAfter ? "close" : "keep-alive") + "\r\n\r\n";
    if (!headOnly)
        response += body;
    socket->write(response);
    client.responding = true;
    client.bodyRemaining = 0;
    pump(socket);
}

void DemoHttpServer::pump(QTcpSocket *socket)
{
    auto it = m_clients.find(socket);
    if (it == m_clients.end() || !it->responding)
        return;
    Client &client = *it;
    while (client.bodyRemaining > 0 && socket->bytesToWrite() < kMaxQueued) {
        const QByteArrayView part = demo::slice(client.bodyOffset, client.bodyRemaining);
        socket->write(part.data(), part.size());
        client.bodyOffset += part.size();
        client.bodyRemaining -= part.size();
    }
    if (client.bodyRemaining == 0)
        finishResponse(socket, client);
}

void DemoHttpServer::finishResponse(QTcpSocket *socket, Client &client)
{
    client.responding = false;
    if (client.closeAfter) {
        m_clients.remove(socket); // `client` is gone from here on
        socket->disconnectFromHost();
        return;
    }
    if (!client.head.isEmpty() || socket->bytesAvailable() > 0) {
        QPointer<QTcpSocket> guarded = socket;
        QMetaObject::invokeMethod(
            this,
            [this, guarded] {
                if (guarded)
                    handleReadyRead(guarded);
            },
            Qt::QueuedConnection);
    }
}

QByteArray DemoHttpServer::digest(qint64 size)
{
    auto it = m_digests.find(size);
    if (it == m_digests.end())
        it = m_digests.insert(size, demo::sha256Hex(size));
    return *it;
}

} // namespace qmasque
