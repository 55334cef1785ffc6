#pragma once

#include "transport/h3/QuicDatagramQueue.h"
#include "transport/h3/UdpSocket.h"

#include <QtCore/QByteArray>

#include <ngtcp2/ngtcp2.h>

#include <optional>

namespace qmasque::h3 {

// QuicConfig: transport parameters and settings of one connection. Times in ms, sizes in bytes.
struct QuicConfig
{
    int handshakeTimeoutMs = 10000;
    int idleTimeoutMs = 30000;
    int keepaliveMs = 0; // PING after this much idle time; 0 = off
    quint32 streamReceiveWindow = 16 * 1024 * 1024;
    quint32 connectionReceiveWindow = 64 * 1024 * 1024;
    quint64 maxStreamsBidi = 0;  // bidirectional streams the peer may open (server: 100)
    quint64 maxStreamsUni = 100; // control, QPACK and unknown stream types
    quint64 maxDatagramFrameSize = 65535;
    int maxUdpPayload = 1452;
    qsizetype datagramQueueCapacity = QuicDatagramQueue::kDefaultCapacity;

    // applyTo: ngtcp2's settings (congestion control, PMTUD, windows, handshake timeout,
    // versions) and our transport parameters (RFC 9000, 18.2; RFC 9221, 3).
    void applyTo(ngtcp2_settings &settings) const;
    void applyTo(ngtcp2_transport_params &params) const;
};

// QuicAccept: what the server listener learned from a client's first Initial packet.
struct QuicAccept
{
    const ngtcp2_pkt_hd *header = nullptr;       // from ngtcp2_accept
    std::optional<ngtcp2_cid> retryOriginalDcid; // set when a Retry token was validated
    ngtcp2_token_type tokenType = NGTCP2_TOKEN_TYPE_UNKNOWN;
    SocketAddress local;
    SocketAddress remote;
    QByteArray staticSecret; // stateless reset tokens (RFC 9000, 10.3.2)
};

} // namespace qmasque::h3
