#pragma once

#include "api/Types.h"

#include <QtCore/QString>

namespace qmasque {

// DatagramDrops: HTTP datagrams dropped on one connection, by reason. Every drop is counted.
struct DatagramDrops
{
    quint64 tooLarge = 0;      // larger than the peer's limit or the path MTU allows (send side)
    quint64 queueFull = 0;     // the bounded send queue was full
    quint64 unknownStream = 0; // received for a stream nobody owns (closed or never opened)
    quint64 malformed = 0;     // bad quarter stream id or context id encoding
    quint64 notNegotiated = 0; // peer did not enable HTTP datagrams

    quint64 total() const noexcept
    {
        return tooLarge + queueFull + unknownStream + malformed + notNegotiated;
    }
};

// TransportStats: what one connection reports to the dashboard. A value; cheap to copy.
// Fields a transport cannot know stay at their "unknown" value (-1 for times, empty strings).
struct TransportStats
{
    TransportKind kind = TransportKind::H2;
    QString alpn;            // negotiated ALPN ("h3", "h2", "http/1.1")
    QString quicVersion;     // "v1" / "v2" (h3 only)
    QString tlsVersion;      // "TLSv1.3"
    QString tlsCipher;       // "TLS_AES_128_GCM_SHA256"
    QString tlsGroup;        // key exchange group, "x25519"
    QString peerCertificate; // one-line summary: subject CN, issuer CN, expiry

    quint64 bytesSent = 0; // on the wire (TLS records or UDP payloads)
    quint64 bytesReceived = 0;
    quint64 framesSent = 0; // h2 frames, QUIC packets
    quint64 framesReceived = 0;
    quint32 streamsOpen = 0;

    qint64 smoothedRttUs = -1; // microseconds; h2 measures it with PING
    qint64 rttVarianceUs = -1;
    qint64 minRttUs = -1;
    quint64 congestionWindow = 0; // bytes (h3)
    quint64 bytesInFlight = 0;    // bytes (h3)
    quint64 packetsLost = 0;      // (h3)
    quint32 pathMtu = 0;          // max UDP payload the path carries (h3)

    quint64 datagramsSent = 0;
    quint64 datagramsReceived = 0;
    DatagramDrops datagramDrops;
};

} // namespace qmasque

Q_DECLARE_METATYPE(qmasque::TransportStats)
