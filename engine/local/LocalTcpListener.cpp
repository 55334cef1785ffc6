#include "local/LocalTcpListener.h"

namespace qmasque {

QHostAddress listenAddress(const QString &host)
{
    if (host.compare(QStringLiteral("localhost"), Qt::CaseInsensitive) == 0)
        return QHostAddress(QHostAddress::LocalHost);
    QHostAddress address;
    if (!address.setAddress(host))
        return {};
    return address;
}

LocalTcpListener::LocalTcpListener(AcceptHandler onAccepted, QObject *parent)
    : QTcpServer(parent)
    , m_onAccepted(std::move(onAccepted))
{}

LocalTcpListener::~LocalTcpListener() = default;

Status LocalTcpListener::listenOn(const Endpoint &endpoint, const QString &what)
{
    const QHostAddress address = listenAddress(endpoint.host);
    if (address.isNull())
        return Error(ErrorCode::InvalidConfig,
                     QStringLiteral("%1 %2: the listen address must be an IP address")
                         .arg(what, endpoint.toString()));
    if (listen(address, endpoint.port))
        return {};
    const QString detail =
        QStringLiteral("%1 %2: %3").arg(what, endpoint.toString(), errorString());
    switch (serverError()) {
    case QAbstractSocket::AddressInUseError:
        return Error(ErrorCode::AddressInUse, detail);
    case QAbstractSocket::SocketAccessError:
        return Error(ErrorCode::PermissionDenied, detail);
    case QAbstractSocket::SocketAddressNotAvailableError:
        return Error(ErrorCode::InvalidConfig, detail);
    default:
        return Error(ErrorCode::Io, detail);
    }
}

Endpoint LocalTcpListener::boundEndpoint() const
{
    return Endpoint{serverAddress().toString(), serverPort()};
}

void LocalTcpListener::incomingConnection(qintptr socketDescriptor)
{
    SocketFd fd{int(socketDescriptor)};
    if (m_onAccepted)
        m_onAccepted(std::move(fd));
}

} // namespace qmasque
