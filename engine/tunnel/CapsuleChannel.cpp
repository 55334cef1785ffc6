#include "tunnel/CapsuleChannel.h"

#include "transport/HttpConnection.h"
#include "wire/Capsule.h"
#include "wire/HttpDatagram.h"

#include <cstring>

namespace qmasque {

CapsuleChannel::CapsuleChannel(CapsuleChannelHandler *handler, quint64 maxCapsuleLength)
    : m_handler(handler)
    , m_decoder(maxCapsuleLength)
{}

void CapsuleChannel::attach(HttpConnection *connection, StreamId streamId)
{
    m_connection = connection;
    m_streamId = streamId;
}

void CapsuleChannel::detach()
{
    m_connection = nullptr;
    m_streamId = -1;
    m_unsent.clear();
}

Status CapsuleChannel::receiveStreamData(QByteArrayView data, bool fin)
{
    if (m_decoder.hasFailed())
        return *m_decoder.error();
    Status status = m_decoder.feed(
        data, [this](const wire::CapsuleView &capsule) { return deliverCapsule(capsule); });
    // The bytes were handled synchronously: give the peer its window back now.
    if (m_connection && !data.isEmpty())
        m_connection->consumeStreamData(m_streamId, data.size());
    if (status.ok() && fin)
        status = m_decoder.finish();
    return status;
}

Status CapsuleChannel::deliverCapsule(const wire::CapsuleView &capsule)
{
    if (capsule.type != quint64(wire::CapsuleType::Datagram)) {
        ++m_counters.capsulesReceived;
        return m_handler->onChannelCapsule(capsule.type, capsule.value);
    }
    // RFC 9297, 3.5: a DATAGRAM capsule is an HTTP datagram; a bad context id inside a capsule
    // breaks the capsule framing's promise, so it fails the stream instead of being dropped.
    auto datagram = wire::parseHttpDatagram(capsule.value);
    if (!datagram)
        return Error(ErrorCode::MalformedCapsule,
                     QStringLiteral("DATAGRAM capsule: ") + datagram.error().detail);
    if (datagram->contextId != 0) {
        ++m_counters.dropUnknownContext;
        return {};
    }
    ++m_counters.datagramsReceived;
    m_handler->onChannelDatagram(datagram->payload);
    return {};
}

void CapsuleChannel::receiveDatagram(QByteArrayView httpDatagramPayload)
{
    if (m_decoder.hasFailed())
        return;
    auto datagram = wire::parseHttpDatagram(httpDatagramPayload);
    if (!datagram) {
        ++m_counters.dropMalformed;
        return;
    }
    if (datagram->contextId != 0) {
        ++m_counters.dropUnknownContext;
        return;
    }
    ++m_counters.datagramsReceived;
    m_handler->onChannelDatagram(datagram->payload);
}

qint64 CapsuleChannel::maxDatagramPayload() const
{
    if (!m_connection)
        return 0;
    // Context id 0 takes one byte (RFC 9297, 2).
    return qMax<qint64>(0, m_connection->maxDatagramPayload(m_streamId) - 1);
}

Status CapsuleChannel::sendDatagram(QByteArrayView payload, qint64 payloadLimit)
{
    if (!m_connection)
        return Error(ErrorCode::StreamClosed);
    if (payload.size() > payloadLimit) {
        ++m_counters.dropTooLarge;
        return Error(ErrorCode::PayloadTooLarge,
                     QStringLiteral("%1 bytes, limit %2").arg(payload.size()).arg(payloadLimit));
    }
    const qint64 limit = maxDatagramPayload();
    if (payload.size() > limit) {
        ++m_counters.dropTooLarge;
        return Error(
            ErrorCode::DatagramTooLarge,
            QStringLiteral("%1 bytes, the stream carries %2").arg(payload.size()).arg(limit));
    }
    m_scratch.resize(payload.size() + 1);
    m_scratch[0] = 0; // context id 0
    if (!payload.isEmpty())
        std::memcpy(m_scratch.data() + 1, payload.data(), size_t(payload.size()));
    Status status = m_connection->sendDatagram(m_streamId, m_scratch);
    if (!status.ok()) {
        if (status.error().code == ErrorCode::QueueFull)
            ++m_counters.dropQueueFull;
        else if (status.error().code == ErrorCode::DatagramTooLarge)
            ++m_counters.dropTooLarge;
        return status;
    }
    ++m_counters.datagramsSent;
    return {};
}

Status CapsuleChannel::sendCapsule(quint64 type, QByteArrayView value)
{
    if (!m_connection)
        return Error(ErrorCode::StreamClosed);
    const bool queued = !m_unsent.isEmpty();
    if (!wire::appendCapsule(m_unsent, type, value))
        return Error(ErrorCode::VarintOutOfRange, QStringLiteral("capsule type"));
    if (queued)
        return {}; // behind earlier bytes; flush() sends them in order
    flush();
    return {};
}

bool CapsuleChannel::flush()
{
    if (!m_connection || m_unsent.isEmpty())
        return true;
    auto written = m_connection->sendStreamData(m_streamId, m_unsent);
    if (!written) {
        m_unsent.clear();
        return true;
    }
    m_unsent.remove(0, *written);
    return m_unsent.isEmpty();
}

} // namespace qmasque
