#pragma once

#include "proxy/DatagramProxyTunnel.h"
#include "proxy/IpRouter.h"
#include "wire/Capsule.h"
#include "wire/IpCapsules.h"
#include "wire/IpPacket.h"

#include <memory>
#include <optional>

namespace qmasque {

class HostResolver;

// IpProxyTunnel: CONNECT-IP (RFC 9484) on the proxy.
//
// Set-up: the request's scope (target and ipproto, 4.6) is checked against access control (403
// when nothing in it is permitted; a DNS name target is resolved first, 502 dns_error when that
// fails), one IPv4 and one IPv6 address are taken from the pools (503 when both are exhausted),
// and the 200 is followed at once by ADDRESS_ASSIGN (unprompted, request id 0, 4.7.1) and
// ROUTE_ADVERTISEMENT (4.7.3): the permitted ranges inside the scope, for the requested protocol
// (0 = all), plus the proxy's gateway address. ADDRESS_REQUEST is answered with ADDRESS_ASSIGN
// echoing each request id: the address already assigned for that version (or a new one), or the
// all-zero address when none is left (4.7.1). IP capsules from the client are validated (a
// malformed one resets the stream with MessageError); other capsule types are ignored.
//
// Packets from the client (context-0 datagrams) are checked, in order: well-formed IPv4/IPv6
// (malformed), the source is the client's assigned address (spoofed_source), destination and
// protocol inside the scope (out_of_scope), destination permitted (forbidden); then the TTL /
// Hop Limit is decremented as by any router (RFC 9484, 7; RFC 8200): a packet whose hop limit
// runs out is dropped (ttl_exceeded) and answered with ICMP Time Exceeded from the gateway. The
// packet then goes to the TUN device (IpRouter) or, without one, to the IpResponder, whose
// answer (echo replies) comes back through the tunnel. Packets for the client (from the device
// or the responder) get their hop limit decremented too and are dropped when larger than the
// stream carries (too_large). Every drop is counted by reason; no per-packet logging or
// allocation (two reused buffers).
class IpProxyTunnel final : public DatagramProxyTunnel, public IpPacketSink
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(IpProxyTunnel)

public:
    // PacketDrops: CONNECT-IP packets dropped, by reason (ProxyMetrics names them).
    struct PacketDrops
    {
        quint64 malformed = 0;
        quint64 spoofedSource = 0;
        quint64 outOfScope = 0;
        quint64 forbidden = 0;
        quint64 ttlExceeded = 0;
        quint64 tooLarge = 0;
        quint64 noRoute = 0;    // the TUN device refused the packet
        quint64 unanswered = 0; // the internal responder had no answer (no TUN device)

        quint64 total() const noexcept
        {
            return malformed + spoofedSource + outOfScope + forbidden + ttlExceeded + tooLarge +
                   noRoute + unanswered;
        }
    };

    IpProxyTunnel(ProxyContext &context, ServerConnection *connection, StreamId id,
                  const TunnelRequest &request, const QString &logId, QObject *parent);
    ~IpProxyTunnel() override;

    // IpPacketSink: a packet for the client's address.
    void deliverFromNetwork(QByteArrayView packet) override;

    const PacketDrops &packetDrops() const noexcept { return m_drops; }
    wire::IpAddress assignedAddress(int version) const;

protected:
    void startSetup() override;
    void releaseResources() override;
    quint64 dropCount() const override;

private:
    void open(const QList<wire::IpPrefix> &scope);
    Status sendIpCapsule(wire::CapsuleType type, const Result<QByteArray> &value);
    Status answerAddressRequest(QByteArrayView value);
    bool assign(int version, const wire::IpAddress &preferred);
    // sendToClient: a packet into the tunnel; `forwarded` packets get their hop limit
    // decremented (packets the proxy originates, ICMP errors, do not).
    void sendToClient(QByteArrayView packet, bool forwarded);
    bool inScope(const wire::IpPacketInfo &info) const;
    QList<wire::IpAddressRange> routesFor(int version) const;

    // CapsuleChannelHandler
    void onChannelDatagram(QByteArrayView payload) override;
    Status onChannelCapsule(quint64 type, QByteArrayView value) override;

    std::unique_ptr<HostResolver> m_resolver;
    std::optional<wire::IpAddress> m_assigned[2]; // [0] IPv4, [1] IPv6
    QList<wire::IpPrefix> m_scope;                // empty = any destination
    std::optional<quint8> m_ipProtocol;           // std::nullopt = any protocol
    PacketDrops m_drops;
    QList<QByteArray> m_earlyRequests; // ADDRESS_REQUEST values that came before the 200
    QByteArray m_packet;               // a packet being forwarded (hop limit rewritten), reused
    QByteArray m_reply;                // the responder's answer or an ICMP error, reused
};

} // namespace qmasque
