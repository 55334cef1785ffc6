#pragma once

#include "tunnel/DatagramTunnel.h"
#include "wire/IpCapsules.h"

#include <QtCore/QList>
#include <QtCore/QMap>
#include <QtCore/QTimer>

namespace qmasque {

// IpTunnel: a CONNECT-IP tunnel (RFC 9484): IP packets both ways as context-0 HTTP datagrams,
// plus the address and route capsules.
//
// For the local TUN front end:
//  - sendPacket(packet): one IP packet. Above mtu() it is packet_too_large (counted); otherwise
//    as DatagramTunnel::sendPayload() (queue_full drops, counted). setReceiver(fn) gets packets.
//  - mtu(): the largest packet sendPacket() takes now: the configured MTU (kDefaultMtu, at least
//    kMinMtu) capped by what the path carries. Give the TUN device this MTU.
//  - Addresses and routes the proxy sends (ADDRESS_ASSIGN, ROUTE_ADVERTISEMENT; RFC 9484, 4.7):
//    each capsule replaces the previous set (4.7.1, 4.7.3), available as assignedAddresses() and
//    advertisedRoutes() at any time and signalled with addressesAssigned() / routesAdvertised().
//    The proxy's ADDRESS_REQUESTs are signalled with addressesRequested() and kept in
//    pendingPeerRequests() until assignAddresses() answers them.
//  - requestAddresses(prefixes): sends ADDRESS_REQUEST; request ids count up from 1 and are
//    never reused; each request stays in pendingRequests() until an ADDRESS_ASSIGN answers it.
//  - assignAddresses(list): sends ADDRESS_ASSIGN; a non-zero request id must answer a pending
//    peer request (bad_request_id), id 0 is an unprompted assignment.
//  - advertiseRoutes(ranges): sends ROUTE_ADVERTISEMENT (validated: bad_route).
// Capsules that do not parse (malformed_ip_capsule, bad_prefix, bad_route, ...) reset the stream
// with MessageError and close the tunnel with that error.
//
// RFC 9484, 10.1: over HTTP/3 the path must carry 1280-byte packets in QUIC datagrams. A 2xx
// on a connection whose datagram limit is below that (ngtcp2 starts at 1200-byte packets and
// raises them by path MTU discovery) keeps the tunnel Connecting for up to kMtuWaitMs while the
// limit is re-read every kMtuPollMs; if it stays below, the tunnel fails with mtu_too_low.
class IpTunnel final : public DatagramTunnel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(IpTunnel)

public:
    static constexpr qint64 kMinMtu = 1280; // IPv6 minimum link MTU (RFC 8200, 5)
    static constexpr qint64 kDefaultMtu = 1500;
    static constexpr int kMtuWaitMs = 1000;
    static constexpr int kMtuPollMs = 20;

    // `mtu`: the local MTU (kMinMtu..65535; other values are clamped).
    explicit IpTunnel(TunnelConfig config, qint64 mtu = kDefaultMtu, QObject *parent = nullptr);
    ~IpTunnel() override;

    TunnelProtocol protocol() const override { return TunnelProtocol::Ip; }

    Status sendPacket(QByteArrayView packet);
    qint64 mtu() const;

    Result<QList<quint64>> requestAddresses(const QList<wire::IpPrefix> &prefixes);
    Status assignAddresses(const QList<wire::AssignedAddress> &addresses);
    Status advertiseRoutes(const QList<wire::IpAddressRange> &ranges);

    // What the proxy sent.
    const QList<wire::AssignedAddress> &assignedAddresses() const { return m_assigned; }
    const QList<wire::IpAddressRange> &advertisedRoutes() const { return m_routes; }
    QList<wire::RequestedAddress> pendingPeerRequests() const { return m_peerRequests.values(); }
    // What we sent and is unanswered.
    QList<wire::RequestedAddress> pendingRequests() const { return m_ourRequests.values(); }

Q_SIGNALS:
    void addressesAssigned(const QList<qmasque::wire::AssignedAddress> &addresses);
    void addressesRequested(const QList<qmasque::wire::RequestedAddress> &requests);
    void routesAdvertised(const QList<qmasque::wire::IpAddressRange> &routes);

protected:
    void onChannelDatagram(QByteArrayView payload) override;
    Status onChannelCapsule(quint64 type, QByteArrayView value) override;
    bool deferOpen() override;
    Error handshakeTimeoutError() const override;
    void onEnding() override;

private:
    qint64 pathMtu() const;
    void handleMtuPoll();

    const qint64 m_mtu;
    quint64 m_nextRequestId = 1;
    QMap<quint64, wire::RequestedAddress> m_ourRequests;  // by request id
    QMap<quint64, wire::RequestedAddress> m_peerRequests; // by request id
    QList<wire::AssignedAddress> m_assigned;
    QList<wire::IpAddressRange> m_routes;
    QTimer m_mtuTimer;
    qint64 m_mtuWaitStartMs = -1;
};

} // namespace qmasque
