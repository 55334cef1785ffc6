#pragma once

#include "api/Result.h"
#include "api/Types.h"
#include "wire/CapsuleDecoder.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

namespace qmasque {

class HttpConnection;

// CapsuleChannelHandler: receives what a CapsuleChannel decodes. Views are valid during the call.
class CapsuleChannelHandler
{
public:
    virtual ~CapsuleChannelHandler() = default;
    // onChannelDatagram: the payload of an HTTP datagram with context id 0 (a UDP payload for
    // CONNECT-UDP, an IP packet for CONNECT-IP), from a QUIC DATAGRAM frame or a DATAGRAM capsule.
    virtual void onChannelDatagram(QByteArrayView payload) = 0;
    // onChannelCapsule: any other capsule from the stream (ADDRESS_ASSIGN, ...). Return an error
    // to fail the stream (the caller resets it with StreamResetReason::MessageError). RFC 9297,
    // 3.2: unknown capsule types are silently dropped, which is what the default does.
    virtual Status onChannelCapsule(quint64 type, QByteArrayView value)
    {
        Q_UNUSED(type)
        Q_UNUSED(value)
        return {};
    }
};

// CapsuleChannel: the Capsule Protocol side of one MASQUE request stream (RFC 9297), the same for
// client tunnels (CONNECT-UDP, CONNECT-IP) and proxy handlers. It decodes the stream's capsules
// (DATAGRAM capsules on h1/h2, and on h3 too where RFC 9297, 3.5 allows them), takes the QUIC
// DATAGRAM frames the connection's owner routes to the stream, filters context ids (RFC 9298, 4:
// only context 0 carries payloads; others are counted and dropped), and sends datagrams and
// capsules with the size checks and drop counters the dashboard shows.
//
// The channel returns flow-control credit for every byte it decoded, at once: capsules are handled
// synchronously, so their bytes are drained when the call returns. Not thread-safe.
class CapsuleChannel
{
public:
    struct Counters
    {
        quint64 datagramsSent = 0;
        quint64 datagramsReceived = 0;
        quint64 dropTooLarge = 0;       // send refused: above the datagram or payload limit
        quint64 dropQueueFull = 0;      // send dropped by the transport's bounded queue
        quint64 dropUnknownContext = 0; // received with a context id other than 0
        quint64 dropMalformed = 0;      // received datagram with a bad context id varint
        quint64 capsulesReceived = 0;   // capsules other than DATAGRAM

        quint64 drops() const noexcept
        {
            return dropTooLarge + dropQueueFull + dropUnknownContext + dropMalformed;
        }
    };

    // `handler` is not owned and must outlive the channel.
    explicit CapsuleChannel(
        CapsuleChannelHandler *handler,
        quint64 maxCapsuleLength = wire::CapsuleDecoder::kDefaultMaxCapsuleLength);

    // attach: the stream the channel reads and writes (not owned; detach() before it goes away).
    void attach(HttpConnection *connection, StreamId streamId);
    void detach();

    // receiveStreamData: the stream's body bytes, as StreamHandler::onStreamData got them.
    // Errors: malformed_capsule, capsule_too_large, truncated_capsule (FIN inside a capsule), or
    // the handler's error. After an error the channel delivers nothing more.
    Status receiveStreamData(QByteArrayView data, bool fin);
    // receiveDatagram: an HTTP datagram payload (context id + data) from a QUIC DATAGRAM frame.
    void receiveDatagram(QByteArrayView httpDatagramPayload);

    // sendDatagram: `payload` as an HTTP datagram with context id 0. payload_too_large above
    // `payloadLimit` (65527 for UDP, RFC 9298, 5; the MTU for IP); datagram_too_large above what
    // the stream can carry now; the transport's queue_full. Every refusal is counted.
    Status sendDatagram(QByteArrayView payload, qint64 payloadLimit);
    // sendCapsule: a capsule on the stream, kept whole: if the transport accepts only part of it,
    // the rest goes first when the stream is writable again (call flush() from
    // StreamHandler::onStreamWritable()).
    Status sendCapsule(quint64 type, QByteArrayView value);
    // flush: writes bytes left over from a short write. True when nothing is left.
    bool flush();

    // maxDatagramPayload: the largest context-0 payload the stream carries now (0 = none).
    qint64 maxDatagramPayload() const;

    const Counters &counters() const noexcept { return m_counters; }
    bool hasFailed() const noexcept { return m_decoder.hasFailed(); }

private:
    Status deliverCapsule(const wire::CapsuleView &capsule);

    CapsuleChannelHandler *m_handler;       // not owned
    HttpConnection *m_connection = nullptr; // not owned
    StreamId m_streamId = -1;
    wire::CapsuleDecoder m_decoder;
    QByteArray m_scratch; // reused for the context id + payload of sent datagrams
    QByteArray m_unsent;  // capsule bytes a short write left behind
    Counters m_counters;
};

} // namespace qmasque
