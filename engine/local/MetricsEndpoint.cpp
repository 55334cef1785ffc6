#include "local/MetricsEndpoint.h"

#include "core/Log.h"
#include "core/MetricsRegistry.h"
#include "transport/h1/H1Codec.h"

#include <QtCore/QTimer>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

namespace qmasque {

namespace {

constexpr qsizetype kMaxHeadBytes = 8192;
constexpr int kReadTimeoutMs = 5000;
constexpr int kMaxConnections = 16;

Error listenError(const QTcpServer &server)
{
    switch (server.serverError()) {
    case QAbstractSocket::AddressInUseError:
        return Error(ErrorCode::AddressInUse, server.errorString());
    case QAbstractSocket::SocketAccessError:
        return Error(ErrorCode::PermissionDenied, server.errorString());
    default:
        return Error(ErrorCode::Io, server.errorString());
    }
}

} // namespace

MetricsEndpoint::MetricsEndpoint(Renderer render, QObject *parent)
    : QObject(parent)
    , m_render(std::move(render))
    , m_server(new QTcpServer(this))
{
    connect(m_server, &QTcpServer::newConnection, this, &MetricsEndpoint::handleNewConnection);
}

MetricsEndpoint::~MetricsEndpoint() = default;

Status MetricsEndpoint::listen(const QHostAddress &address, quint16 port)
{
    if (!m_server->listen(address, port))
        return listenError(*m_server);
    return {};
}

quint16 MetricsEndpoint::serverPort() const
{
    return m_server->serverPort();
}

void MetricsEndpoint::handleNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        if (m_open >= kMaxConnections) {
            socket->abort();
            socket->deleteLater();
            continue;
        }
        ++m_open;
        socket->setParent(this);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { handleReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QObject::destroyed, this, [this] { --m_open; });
        // A client that never finishes its request does not keep a slot.
        QTimer::singleShot(kReadTimeoutMs, socket, [socket] { socket->abort(); });
    }
}

void MetricsEndpoint::handleReadyRead(QTcpSocket *socket)
{
    if (socket->property("answered").toBool()) {
        socket->readAll();
        return;
    }
    const QByteArray buffer = socket->peek(kMaxHeadBytes + 1);
    auto end = findHeadEnd(buffer, kMaxHeadBytes);
    if (!end) {
        respond(socket, 431, "text/plain", "request head too large\n");
        return;
    }
    if (*end == 0)
        return; // incomplete
    socket->read(*end);
    auto head = parseRequestHead(QByteArrayView(buffer).first(*end));
    if (!head) {
        respond(socket, 400, "text/plain", "bad request\n");
        return;
    }
    const bool isHead = head->method == "HEAD";
    if (head->method != "GET" && !isHead) {
        respond(socket, 405, "text/plain", "only GET\n");
        return;
    }
    const qsizetype query = head->target.indexOf('?');
    const QByteArray path = query < 0 ? head->target : head->target.first(query);
    if (path != "/metrics") {
        respond(socket, 404, "text/plain", "try /metrics\n");
        return;
    }
    ++m_scrapes;
    respond(socket, 200, MetricsRegistry::kContentType, m_render(), isHead);
}

void MetricsEndpoint::respond(QTcpSocket *socket, int status, QByteArrayView contentType,
                              const QByteArray &body, bool headOnly)
{
    socket->setProperty("answered", true);
    QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' +
                          reasonPhrase(status).toByteArray() + "\r\n";
    appendField(response, "content-type", contentType);
    appendField(response, "content-length", QByteArray::number(body.size()));
    appendField(response, "connection", "close");
    response += "\r\n";
    if (!headOnly)
        response += body;
    socket->write(response);
    socket->disconnectFromHost();
}

} // namespace qmasque
