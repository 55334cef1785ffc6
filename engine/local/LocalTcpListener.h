#pragma once

#include "api/Profile.h"
#include "api/Result.h"
#include "proxy/SocketUtil.h"

#include <QtNetwork/QHostAddress>
#include <QtNetwork/QTcpServer>

#include <functional>

namespace qmasque {

// LocalTcpListener: the listening socket of a TCP front end (HTTP proxy, tcp-forward). Accepted
// connections are handed over as raw descriptors (for LocalStreamSocket), never as QTcpSocket,
// so the front end owns every byte and can half-close. Engine thread only.
class LocalTcpListener final : public QTcpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LocalTcpListener)

public:
    using AcceptHandler = std::function<void(SocketFd fd)>;

    explicit LocalTcpListener(AcceptHandler onAccepted, QObject *parent = nullptr);
    ~LocalTcpListener() override;

    // listenOn: binds `endpoint` (an IP literal, or "localhost"). Errors: invalid_config (not an
    // address of this host), address_in_use, permission_denied (a privileged port), io_error;
    // `what` ("http-proxy") starts the message.
    Status listenOn(const Endpoint &endpoint, const QString &what);
    // boundEndpoint: the address as bound (the real port when 0 was asked).
    Endpoint boundEndpoint() const;

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    AcceptHandler m_onAccepted;
};

// listenAddress: the QHostAddress of a front end's listen host ("127.0.0.1", "::1", "::",
// "localhost"); null when it is not an IP literal or "localhost".
QHostAddress listenAddress(const QString &host);

} // namespace qmasque
