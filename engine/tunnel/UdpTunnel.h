#pragma once

#include "tunnel/DatagramTunnel.h"

namespace qmasque {

// UdpTunnel: a CONNECT-UDP tunnel (RFC 9298): one UDP flow to one target, through the proxy.
//
// For the local front ends (SOCKS5 UDP ASSOCIATE, udp-forward):
//  - send(payload): one UDP payload as an HTTP datagram (context 0). Unreliable like UDP: a full
//    queue drops it (queue_full). Payloads above kMaxUdpPayload (65527, RFC 9298, 5) are
//    payload_too_large, above what the path carries now (maxPayload()) datagram_too_large.
//    Every refusal and drop is counted (counters()).
//  - setReceiver(fn): fn(view) for each received payload, no copy (see DatagramTunnel).
//    Received payloads above 65527 bytes and other context ids are dropped and counted.
//  - close() when done; closed(reason) tells when the proxy or the connection ended it.
class UdpTunnel final : public DatagramTunnel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UdpTunnel)

public:
    // kMaxUdpPayload: the largest UDP payload (65535 - 8 byte UDP header), RFC 9298, 5.
    static constexpr qint64 kMaxUdpPayload = 65527;

    explicit UdpTunnel(TunnelConfig config, QObject *parent = nullptr);
    ~UdpTunnel() override;

    TunnelProtocol protocol() const override { return TunnelProtocol::Udp; }

    Status send(QByteArrayView payload) { return sendPayload(payload, kMaxUdpPayload); }
    // maxPayload: the largest payload send() accepts now (0 when not open).
    qint64 maxPayload() const { return qMin(kMaxUdpPayload, maxDatagramPayload()); }

protected:
    void onChannelDatagram(QByteArrayView payload) override;
};

} // namespace qmasque
