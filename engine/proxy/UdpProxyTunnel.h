#pragma once

#include "proxy/DatagramProxyTunnel.h"

#include <memory>

namespace qmasque {

class HostResolver;
class UdpTargetSocket;

// UdpProxyTunnel: CONNECT-UDP (RFC 9298) on the proxy. Set-up: resolve the target (an IP literal
// needs no lookup), keep the addresses access control permits (checked on the resolved
// addresses, IPv4-mapped ones as IPv4), open a connected UDP socket to the first of them, answer
// 200. Refusals: 403 when every address is denied, 502 dns_error when resolution fails.
//
// Data: context-0 HTTP datagrams from the client (QUIC DATAGRAM frames on h3, DATAGRAM capsules
// on h2/h1, decoded by a CapsuleChannel) are sent to the target; datagrams from the target are
// sent back as HTTP datagrams. Payloads above 65527 bytes (RFC 9298, 5) or above what the
// client's path carries are dropped and counted (CapsuleChannel counters; too_large). The
// target socket is read in batches into one reused buffer: no per-datagram allocation.
//
// End: as every DatagramProxyTunnel (the client's FIN, a reset, a malformed capsule, the
// connection closing, or no traffic either way for ProxyConfig::tunnelIdleTimeoutMs).
class UdpProxyTunnel final : public DatagramProxyTunnel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UdpProxyTunnel)

public:
    static constexpr qint64 kMaxUdpPayload = 65527; // RFC 9298, 5

    UdpProxyTunnel(ProxyContext &context, ServerConnection *connection, StreamId id,
                   const TunnelRequest &request, const QString &logId, QObject *parent);
    ~UdpProxyTunnel() override;

protected:
    void startSetup() override;
    void releaseResources() override;
    quint64 dropCount() const override;

private:
    void handleResolved(const QList<QHostAddress> &addresses);
    void handleTargetReadable();

    // CapsuleChannelHandler
    void onChannelDatagram(QByteArrayView payload) override;

    std::unique_ptr<HostResolver> m_resolver;
    std::unique_ptr<UdpTargetSocket> m_socket;
    QByteArray m_buffer;          // one datagram from the target, reused
    quint64 m_dropTooLarge = 0;   // from the client, above 65527
    quint64 m_dropSendFailed = 0; // the target socket's buffer was full
    quint64 m_dropTruncated = 0;  // from the target, larger than a UDP payload can be
};

} // namespace qmasque
