#include "support/H3LossyRelay.h"

#include <QtCore/QVariant>
#include <QtNetwork/QNetworkDatagram>

#include <algorithm>

namespace qmasque::test {

H3LossyRelay::H3LossyRelay(const QHostAddress &target, quint16 targetPort, Impairment toTarget,
                           Impairment toClient, quint32 seed, QObject *parent)
    : QObject(parent)
    , m_target(target)
    , m_targetPort(targetPort)
    , m_toTarget(toTarget)
    , m_toClient(toClient)
    , m_random(seed)
{
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &H3LossyRelay::release);
    connect(&m_front, &QUdpSocket::readyRead, this, &H3LossyRelay::readFront);
    connect(&m_back, &QUdpSocket::readyRead, this, &H3LossyRelay::readBack);
    m_clock.start();
}

bool H3LossyRelay::listen()
{
    for (QUdpSocket *socket : {&m_front, &m_back}) {
        if (!socket->bind(QHostAddress::LocalHost, 0))
            return false;
        socket->setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, QVariant(4 << 20));
        socket->setSocketOption(QAbstractSocket::SendBufferSizeSocketOption, QVariant(4 << 20));
    }
    return true;
}

void H3LossyRelay::readFront()
{
    while (m_front.hasPendingDatagrams()) {
        const QNetworkDatagram datagram = m_front.receiveDatagram();
        m_client = datagram.senderAddress();
        m_clientPort = quint16(datagram.senderPort());
        enqueue(datagram.data(), true);
    }
}

void H3LossyRelay::readBack()
{
    while (m_back.hasPendingDatagrams())
        enqueue(m_back.receiveDatagram().data(), false);
}

void H3LossyRelay::enqueue(QByteArray data, bool toTarget)
{
    const Impairment &impairment = toTarget ? m_toTarget : m_toClient;
    if (m_uniform(m_random) < impairment.loss) {
        ++m_dropped;
        return;
    }
    const qint64 due = m_clock.elapsed() + impairment.delayMs;
    // Keep the queue ordered even when the two directions have different delays.
    auto at = m_pending.end();
    while (at != m_pending.begin() && std::prev(at)->dueMs > due)
        --at;
    m_pending.insert(at, Pending{due, std::move(data), toTarget});
    if (!m_timer.isActive() || m_pending.front().dueMs == due)
        m_timer.start(int(std::max<qint64>(0, m_pending.front().dueMs - m_clock.elapsed())));
}

void H3LossyRelay::release()
{
    const qint64 now = m_clock.elapsed();
    while (!m_pending.empty() && m_pending.front().dueMs <= now) {
        const Pending &packet = m_pending.front();
        if (packet.toTarget)
            m_back.writeDatagram(packet.data, m_target, m_targetPort);
        else if (m_clientPort != 0)
            m_front.writeDatagram(packet.data, m_client, m_clientPort);
        ++m_forwarded;
        m_pending.pop_front();
    }
    if (!m_pending.empty())
        m_timer.start(int(std::max<qint64>(0, m_pending.front().dueMs - now)));
}

} // namespace qmasque::test
