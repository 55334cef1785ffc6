#pragma once

#include "api/Result.h"

#include <QtCore/QObject>
#include <QtNetwork/QHostAddress>

class QUdpSocket;

namespace qmasque {

// DemoUdpEcho: the demo's UDP echo (RFC 862 style): every datagram goes back to its sender
// unchanged. One receive buffer for its life; lives on the demo thread.
class DemoUdpEcho final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DemoUdpEcho)

public:
    explicit DemoUdpEcho(QObject *parent = nullptr);
    ~DemoUdpEcho() override;

    // bind: `port`; when it is taken and `fallBack`, a free port instead.
    Status bind(const QHostAddress &address, quint16 port, bool fallBack);
    quint16 port() const;
    void close();
    quint64 echoed() const noexcept { return m_echoed; }

private:
    void handleReadyRead();

    QUdpSocket *m_socket; // child
    QByteArray m_buffer;
    quint64 m_echoed = 0;
};

} // namespace qmasque
