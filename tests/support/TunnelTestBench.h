#pragma once

#include "pool/UpstreamPool.h"
#include "support/MockTransport.h"
#include "support/TunnelMockProxy.h"
#include "tunnel/TunnelRequest.h"
#include "tunnel/TunnelSession.h"

#include <QtCore/QObject>

#include <memory>

namespace qmasque::test {

// TunnelTestBench: what the tunnel unit tests run on: a MockNetwork, a TunnelMockProxy answering
// on it, an UpstreamPool over the same network, and TunnelConfigs for any protocol and transport
// (pooled for h2/h3, direct for h1).
class TunnelTestBench : public QObject
{
    Q_OBJECT

public:
    explicit TunnelTestBench(QObject *parent = nullptr);
    ~TunnelTestBench() override;

    MockNetwork network;
    TunnelMockProxy proxy{&network};
    std::unique_ptr<UpstreamPool> pool;

    // profile: https://proxy.example:443 and the defaults.
    Profile profile;
    TunnelRequestSettings settings() const;

    TunnelConfig config(TransportKind kind, const TunnelTarget &target,
                        int handshakeTimeoutMs = 2000);
    static TunnelTarget udpTarget() { return TunnelTarget::udp(QStringLiteral("dns.example"), 53); }
    static TunnelTarget tcpTarget()
    {
        return TunnelTarget::tcp(QStringLiteral("web.example"), 443);
    }
    static TunnelTarget ipTarget() { return TunnelTarget::ip(wire::IpScope{}); }

    // The wire bytes of capsules.
    static QByteArray datagramCapsule(QByteArrayView payload, quint64 contextId = 0);
    static QByteArray capsule(quint64 type, QByteArrayView value);
    // httpDatagram: context id + payload, as a QUIC DATAGRAM carries it (after the quarter id).
    static QByteArray httpDatagram(QByteArrayView payload, quint64 contextId = 0);

    // transportOf: the mock transport carrying the session's stream.
    MockTransport *transportOf(const TunnelSession &session) const;
};

} // namespace qmasque::test
