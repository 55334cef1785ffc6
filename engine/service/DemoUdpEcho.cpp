#include "service/DemoUdpEcho.h"

#include <QtCore/QVariant>
#include <QtNetwork/QUdpSocket>

namespace qmasque {

DemoUdpEcho::DemoUdpEcho(QObject *parent)
    : QObject(parent)
    , m_socket(new QUdpSocket(this))
{
    m_buffer.resize(65536);
    connect(m_socket, &QUdpSocket::readyRead, this, &DemoUdpEcho::handleReadyRead);
}

DemoUdpEcho::~DemoUdpEcho() = default;

Status DemoUdpEcho::bind(const QHostAddress &address, quint16 port, bool fallBack)
{
    bool bound = m_socket->bind(address, port);
    if (!bound && fallBack && m_socket->error() == QAbstractSocket::AddressInUseError)
        bound = m_socket->bind(address, 0);
    if (!bound)
        return Error(m_socket->error() == QAbstractSocket::AddressInUseError
                         ? ErrorCode::AddressInUse
                         : ErrorCode::Io,
                     QStringLiteral("demo udp-echo %1:%2: %3")
                         .arg(address.toString())
                         .arg(port)
                         .arg(m_socket->errorString()));
    m_socket->setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption,
                              QVariant(4 * 1024 * 1024));
    m_socket->setSocketOption(QAbstractSocket::SendBufferSizeSocketOption,
                              QVariant(4 * 1024 * 1024));
    return {};
}

quint16 DemoUdpEcho::port() const
{
    return m_socket->localPort();
}

void DemoUdpEcho::close()
{
    m_socket->close();
}

void DemoUdpEcho::handleReadyRead()
{
    QHostAddress sender;
    quint16 senderPort = 0;
    while (m_socket->hasPendingDatagrams()) {
        const qint64 size =
            m_socket->readDatagram(m_buffer.data(), m_buffer.size(), &sender, &senderPort);
        if (size < 0)
            break;
        if (m_socket->writeDatagram(m_buffer.constData(), size, sender, senderPort) == size)
            ++m_echoed;
    }
}

} // namespace qmasque
