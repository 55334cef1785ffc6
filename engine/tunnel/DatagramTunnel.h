#pragma once

#include "tunnel/CapsuleChannel.h"
#include "tunnel/TunnelSession.h"

#include <deque>
#include <functional>

namespace qmasque {

// DatagramTunnel: what CONNECT-UDP and CONNECT-IP share: payloads travel as HTTP datagrams with
// context id 0 (RFC 9297, 2; RFC 9298, 4; RFC 9484, 6): QUIC DATAGRAM frames on h3, DATAGRAM
// capsules on h2/h1, both through one CapsuleChannel. Other context ids are counted and
// dropped. A malformed capsule (or a capsule the subclass refuses) resets the stream with
// MessageError (H3_MESSAGE_ERROR / PROTOCOL_ERROR) and closes the tunnel with that error; the
// peer's FIN ends the tunnel (peer_fin) after our own FIN.
//
// Receiving: one Receiver callback, set once by the local front end; it gets a view of each
// payload (valid during the call; no copy, no signal per datagram). While no receiver is set
// (e.g. between the race's win and the hand-over) up to kMaxHeldDatagrams payloads are kept and
// handed over by setReceiver(); more are dropped and counted (dropNoReceiver).
class DatagramTunnel : public TunnelSession, protected CapsuleChannelHandler
{
    Q_OBJECT

public:
    static constexpr int kMaxHeldDatagrams = 256;

    using Receiver = std::function<void(QByteArrayView payload)>;

    ~DatagramTunnel() override;

    // setReceiver: where received payloads go from now on; delivers the held ones first, inside
    // this call. A null receiver holds again. The receiver must not delete the tunnel.
    void setReceiver(Receiver receiver);

    // maxDatagramPayload: the largest payload the path carries now (before the protocol's own
    // limit): the QUIC datagram limit on h3, the capsule limit on h2/h1; 0 when not open.
    qint64 maxDatagramPayload() const;

    TunnelCounters counters() const override;

protected:
    DatagramTunnel(TunnelConfig config, QObject *parent);

    // sendPayload: `payload` as a context-0 datagram. Errors: not_ready (not open yet),
    // stream_closed (closed), payload_too_large (above `limit`), datagram_too_large (above the
    // path), queue_full (the transport's queue; the datagram is lost). Each refusal is counted.
    Status sendPayload(QByteArrayView payload, qint64 limit);
    // deliverPayload: to the receiver, or held.
    void deliverPayload(QByteArrayView payload);
    // sendCapsule: a control capsule on the stream (kept whole across short writes).
    Status sendCapsule(quint64 type, QByteArrayView value);

    bool needsDatagrams() const override { return true; }
    void onAttached() override;
    void onOpened() override;
    void handleStreamBody(QByteArrayView data, bool fin) override;
    void handleDatagram(QByteArrayView payload) override;
    void handleWritable() override;
    bool readyForFin() override { return m_channel.flush(); }
    void onEnding() override;

    CapsuleChannel m_channel;

private:
    void flushHeld();

    Receiver m_receiver;
    std::deque<QByteArray> m_held;
};

} // namespace qmasque
