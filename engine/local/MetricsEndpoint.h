#pragma once

#include "api/Result.h"

#include <QtCore/QObject>
#include <QtNetwork/QHostAddress>

#include <functional>

class QTcpServer;
class QTcpSocket;

namespace qmasque {

// MetricsEndpoint: serves OpenMetrics text on GET /metrics (HTTP/1.1, one request per
// connection) for Prometheus-style scrapers. Engine thread. Bounded: request heads up to 8 KiB,
// 5 s to send one, at most 16 connections at once; anything else gets 404/405/400 and a close.
class MetricsEndpoint final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MetricsEndpoint)

public:
    // render: produces the body for each scrape (called on the engine thread).
    using Renderer = std::function<QByteArray()>;

    explicit MetricsEndpoint(Renderer render, QObject *parent = nullptr);
    ~MetricsEndpoint() override;

    // listen: address_in_use / permission_denied / io_error on failure.
    Status listen(const QHostAddress &address, quint16 port);
    quint16 serverPort() const;
    quint64 scrapes() const noexcept { return m_scrapes; }

private:
    void handleNewConnection();
    void handleReadyRead(QTcpSocket *socket);
    void respond(QTcpSocket *socket, int status, QByteArrayView contentType, const QByteArray &body,
                 bool headOnly = false);

    Renderer m_render;
    QTcpServer *m_server; // child
    int m_open = 0;
    quint64 m_scrapes = 0;
};

} // namespace qmasque
