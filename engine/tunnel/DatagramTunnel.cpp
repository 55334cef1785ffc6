#include "tunnel/DatagramTunnel.h"

#include "transport/HttpConnection.h"

namespace qmasque {

DatagramTunnel::DatagramTunnel(TunnelConfig config, QObject *parent)
    : TunnelSession(config, parent)
    , m_channel(this, config.maxCapsuleLength)
{}

DatagramTunnel::~DatagramTunnel()
{
    m_channel.detach();
    abortSilently();
}

void DatagramTunnel::setReceiver(Receiver receiver)
{
    m_receiver = std::move(receiver);
    if (m_receiver && isOpen())
        flushHeld();
}

void DatagramTunnel::flushHeld()
{
    // The receiver may close the tunnel or unset itself while we hand over.
    while (!m_held.empty() && m_receiver && isOpen()) {
        const QByteArray payload = std::move(m_held.front());
        m_held.pop_front();
        m_receiver(payload);
    }
}

qint64 DatagramTunnel::maxDatagramPayload() const
{
    return isOpen() ? m_channel.maxDatagramPayload() : 0;
}

TunnelCounters DatagramTunnel::counters() const
{
    TunnelCounters merged = m_counters;
    const CapsuleChannel::Counters &channel = m_channel.counters();
    merged.datagramsSent += channel.datagramsSent;
    merged.datagramsReceived += channel.datagramsReceived;
    merged.dropTooLarge += channel.dropTooLarge;
    merged.dropQueueFull += channel.dropQueueFull;
    merged.dropUnknownContext += channel.dropUnknownContext;
    merged.dropMalformed += channel.dropMalformed;
    merged.capsulesReceived += channel.capsulesReceived;
    return merged;
}

Status DatagramTunnel::sendPayload(QByteArrayView payload, qint64 limit)
{
    if (state() == TunnelState::Connecting)
        return Error(ErrorCode::NotReady, QStringLiteral("the tunnel is not open yet"));
    if (!isOpen())
        return Error(ErrorCode::StreamClosed, QStringLiteral("the tunnel is closed"));
    Status sent = m_channel.sendDatagram(payload, limit);
    if (sent)
        m_counters.bytesSent += quint64(payload.size());
    return sent;
}

void DatagramTunnel::deliverPayload(QByteArrayView payload)
{
    if (!isOpen())
        return;
    m_counters.bytesReceived += quint64(payload.size());
    if (m_receiver && m_held.empty()) {
        m_receiver(payload);
        return;
    }
    if (m_held.size() >= size_t(kMaxHeldDatagrams)) {
        ++m_counters.dropNoReceiver;
        return;
    }
    m_held.emplace_back(payload.data(), payload.size());
}

Status DatagramTunnel::sendCapsule(quint64 type, QByteArrayView value)
{
    if (state() == TunnelState::Connecting)
        return Error(ErrorCode::NotReady, QStringLiteral("the tunnel is not open yet"));
    if (!isOpen())
        return Error(ErrorCode::StreamClosed, QStringLiteral("the tunnel is closed"));
    Status sent = m_channel.sendCapsule(type, value);
    if (sent)
        ++m_counters.capsulesSent;
    return sent;
}

void DatagramTunnel::onAttached()
{
    m_channel.attach(connection(), stream());
}

void DatagramTunnel::onOpened()
{
    if (m_receiver)
        flushHeld();
}

void DatagramTunnel::handleStreamBody(QByteArrayView data, bool fin)
{
    Status status = m_channel.receiveStreamData(data, fin);
    if (state() == TunnelState::Closed)
        return; // a receiver or capsule handler closed the tunnel meanwhile
    if (!status) {
        // RFC 9297, 3.3: a malformed capsule is a malformed message: the stream is reset with
        // H3_MESSAGE_ERROR (h2 PROTOCOL_ERROR); only this tunnel ends.
        endTunnel(status.error(), End::Reset, StreamResetReason::MessageError);
        return;
    }
    if (fin) {
        // RFC 9298, 3.4 / RFC 9484: the proxy ended the tunnel; we end our side too.
        endTunnel(Error(ErrorCode::PeerFin, QStringLiteral("the proxy ended the tunnel")),
                  End::Graceful);
    }
}

void DatagramTunnel::handleDatagram(QByteArrayView payload)
{
    m_channel.receiveDatagram(payload);
}

void DatagramTunnel::handleWritable()
{
    m_channel.flush();
}

void DatagramTunnel::onEnding()
{
    m_channel.detach();
    m_held.clear();
}

} // namespace qmasque
