#include "tunnel/IpTunnel.h"

#include "core/Log.h"

namespace qmasque {

namespace {

// RFC 9484, 4.7 / 15.2: the CONNECT-IP capsule types.
constexpr quint64 kAddressAssign = 0x01;
constexpr quint64 kAddressRequest = 0x02;
constexpr quint64 kRouteAdvertisement = 0x03;

} // namespace

IpTunnel::IpTunnel(TunnelConfig config, qint64 mtu, QObject *parent)
    : DatagramTunnel(std::move(config), parent)
    , m_mtu(qBound<qint64>(kMinMtu, mtu, 65535))
{
    m_mtuTimer.setInterval(kMtuPollMs);
    connect(&m_mtuTimer, &QTimer::timeout, this, &IpTunnel::handleMtuPoll);
}

IpTunnel::~IpTunnel()
{
    m_mtuTimer.stop();
}

qint64 IpTunnel::pathMtu() const
{
    return m_channel.maxDatagramPayload();
}

qint64 IpTunnel::mtu() const
{
    if (!isOpen())
        return 0;
    return qMin(m_mtu, pathMtu());
}

Status IpTunnel::sendPacket(QByteArrayView packet)
{
    if (isOpen() && packet.size() > mtu()) {
        ++m_counters.dropTooLarge;
        return Error(ErrorCode::PacketTooLarge,
                     QStringLiteral("%1 bytes, MTU %2").arg(packet.size()).arg(mtu()));
    }
    return sendPayload(packet, m_mtu);
}

bool IpTunnel::deferOpen()
{
    if (transport() != TransportKind::H3 || pathMtu() >= kMinMtu)
        return false;
    // RFC 9484, 10.1: the path must carry 1280-byte packets; path MTU discovery may still be
    // raising the limit, so give it a moment (bounded) before giving up.
    m_mtuWaitStartMs = elapsedMs();
    m_mtuTimer.start();
    return true;
}

void IpTunnel::handleMtuPoll()
{
    if (state() != TunnelState::Connecting) {
        m_mtuTimer.stop();
        return;
    }
    if (pathMtu() >= kMinMtu) {
        m_mtuTimer.stop();
        completeOpen();
        return;
    }
    if (elapsedMs() - m_mtuWaitStartMs >= kMtuWaitMs) {
        m_mtuTimer.stop();
        endTunnel(handshakeTimeoutError(), End::Reset, StreamResetReason::Cancel);
    }
}

Error IpTunnel::handshakeTimeoutError() const
{
    if (m_mtuWaitStartMs < 0)
        return TunnelSession::handshakeTimeoutError();
    return Error(ErrorCode::MtuTooLow,
                 QStringLiteral("the HTTP/3 path carries %1-byte datagrams, CONNECT-IP needs %2 "
                                "(RFC 9484, 10.1)")
                     .arg(pathMtu())
                     .arg(kMinMtu));
}

void IpTunnel::onChannelDatagram(QByteArrayView payload)
{
    deliverPayload(payload);
}

Status IpTunnel::onChannelCapsule(quint64 type, QByteArrayView value)
{
    switch (type) {
    case kAddressAssign: {
        auto assigned = wire::parseAddressAssign(value);
        if (!assigned)
            return assigned.error();
        // RFC 9484, 4.7.1: each ADDRESS_ASSIGN carries the whole current set; addresses absent
        // from it are no longer assigned. Answered requests leave the pending list.
        for (const wire::AssignedAddress &address : *assigned) {
            if (address.requestId != 0)
                m_ourRequests.remove(address.requestId);
        }
        m_assigned = *assigned;
        emit addressesAssigned(m_assigned);
        return {};
    }
    case kAddressRequest: {
        auto requested = wire::parseAddressRequest(value);
        if (!requested)
            return requested.error();
        for (const wire::RequestedAddress &request : *requested)
            m_peerRequests.insert(request.requestId, request);
        emit addressesRequested(*requested);
        return {};
    }
    case kRouteAdvertisement: {
        auto routes = wire::parseRouteAdvertisement(value);
        if (!routes)
            return routes.error();
        // RFC 9484, 4.7.3: the latest advertisement replaces the previous one.
        m_routes = *routes;
        emit routesAdvertised(m_routes);
        return {};
    }
    default:
        return {}; // RFC 9297, 3.2: unknown capsule types are ignored
    }
}

Result<QList<quint64>> IpTunnel::requestAddresses(const QList<wire::IpPrefix> &prefixes)
{
    QList<wire::RequestedAddress> requests;
    QList<quint64> ids;
    quint64 nextId = m_nextRequestId;
    for (const wire::IpPrefix &prefix : prefixes) {
        requests.append(wire::RequestedAddress{nextId, prefix});
        ids.append(nextId++);
    }
    auto value = wire::encodeAddressRequest(requests); // validates (bad_prefix, ...)
    if (!value)
        return value.error();
    if (Status sent = sendCapsule(kAddressRequest, *value); !sent)
        return sent.error();
    // RFC 9484, 4.7.2: request ids are never reused within the stream.
    m_nextRequestId = nextId;
    for (const wire::RequestedAddress &request : requests)
        m_ourRequests.insert(request.requestId, request);
    return ids;
}

Status IpTunnel::assignAddresses(const QList<wire::AssignedAddress> &addresses)
{
    for (const wire::AssignedAddress &address : addresses) {
        if (address.requestId != 0 && !m_peerRequests.contains(address.requestId))
            return Error(
                ErrorCode::BadRequestId,
                QStringLiteral("no pending ADDRESS_REQUEST with id %1").arg(address.requestId));
    }
    auto value = wire::encodeAddressAssign(addresses);
    if (!value)
        return value.error();
    if (Status sent = sendCapsule(kAddressAssign, *value); !sent)
        return sent;
    for (const wire::AssignedAddress &address : addresses)
        m_peerRequests.remove(address.requestId);
    return {};
}

Status IpTunnel::advertiseRoutes(const QList<wire::IpAddressRange> &ranges)
{
    auto value = wire::encodeRouteAdvertisement(ranges);
    if (!value)
        return value.error();
    return sendCapsule(kRouteAdvertisement, *value);
}

void IpTunnel::onEnding()
{
    m_mtuTimer.stop();
    DatagramTunnel::onEnding();
}

} // namespace qmasque
