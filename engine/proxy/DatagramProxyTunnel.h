#pragma once

#include "proxy/ProxyTunnel.h"
#include "tunnel/CapsuleChannel.h"

#include <QtCore/QTimer>

namespace qmasque {

// DatagramProxyTunnel: what CONNECT-UDP and CONNECT-IP share on the proxy. The request stream
// carries capsules (RFC 9297), decoded by a CapsuleChannel that also takes the h3 QUIC DATAGRAM
// frames; a malformed capsule resets the stream with MessageError (RFC 9297, 3.3). The client's
// FIN ends the tunnel and is answered with FIN (RFC 9298, 3). RFC 9298 and RFC 9484 leave idle
// handling to the proxy: a tunnel with no datagram either way for a whole
// ProxyConfig::tunnelIdleTimeoutMs period is ended with FIN, so the client sees a clean end.
class DatagramProxyTunnel : public ProxyTunnel, protected CapsuleChannelHandler
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DatagramProxyTunnel)

public:
    void onDatagram(StreamId id, QByteArrayView payload) final;
    void onStreamData(StreamId id, QByteArrayView data, bool fin) final;
    void onStreamWritable(StreamId id) final;

    const CapsuleChannel::Counters &channelCounters() const { return m_channel.counters(); }

protected:
    // `unit` names what travels in the idle close reason ("datagram", "packet").
    DatagramProxyTunnel(ProxyContext &context, ServerConnection *connection, StreamId id,
                        const TunnelRequest &request, const QString &logId, const char *unit,
                        QObject *parent);
    ~DatagramProxyTunnel() override;

    // attachChannel: at the start of the set-up, so capsules sent before the 2xx are kept.
    void attachChannel();
    // startIdleTimer: once the tunnel is open (no-op when the idle timeout is 0).
    void startIdleTimer();
    // countChannelDrops: the channel's drops into the proxy metrics, too_large plus
    // `extraTooLarge` (the subclass's own oversize drops).
    void countChannelDrops(quint64 extraTooLarge = 0);
    // releaseChannel: stops the idle timer and detaches the channel (from releaseResources).
    void releaseChannel();

    CapsuleChannel m_channel;

private:
    void endWithFin(const Error &reason);
    void handleIdleCheck();

    const char *const m_unit;
    QTimer m_idleTimer;
    quint64 m_activity = 0; // datagrams both ways, as of the last idle check
    bool m_finSent = false;
};

} // namespace qmasque
