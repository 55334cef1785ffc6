#include "tunnel/UdpTunnel.h"

namespace qmasque {

UdpTunnel::UdpTunnel(TunnelConfig config, QObject *parent)
    : DatagramTunnel(std::move(config), parent)
{}

UdpTunnel::~UdpTunnel() = default;

void UdpTunnel::onChannelDatagram(QByteArrayView payload)
{
    // RFC 9298, 5: a UDP payload cannot exceed 65527 bytes; a larger one is not a UDP packet.
    if (payload.size() > kMaxUdpPayload) {
        ++m_counters.dropOversized;
        return;
    }
    deliverPayload(payload);
}

} // namespace qmasque
