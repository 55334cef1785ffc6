#pragma once

#include "transport/h3/UdpSocket.h"

#include <QtCore/QByteArray>

#include <ngtcp2/ngtcp2.h>

#include <optional>

namespace qmasque::h3 {

// Packets a QUIC server writes without a connection (RFC 9000, 5.2.2, 8.1.2, 10.3). Each writer
// fills `out` (resized to the packet) and returns false when nothing should be sent.

// kServerCidLength: the length of every connection id the server issues; short header packets
// are routed by their first kServerCidLength bytes.
inline constexpr size_t kServerCidLength = 18;

// writeVersionNegotiation: answers a long header packet of an unsupported version with the
// versions we speak (v1, v2) and a reserved one (RFC 9000, 6.3: greasing).
bool writeVersionNegotiation(const ngtcp2_version_cid &packet, QByteArray &out);

// writeRetry: a Retry packet (RFC 9000, 8.1.2) carrying a token that binds the client's address
// and original Destination Connection ID, encrypted under `secret`.
bool writeRetry(const ngtcp2_pkt_hd &header, const SocketAddress &client, const QByteArray &secret,
                QByteArray &out);

// verifyRetryToken: checks the token of an Initial against the client address; on success
// returns the original Destination Connection ID the Retry answered.
std::optional<ngtcp2_cid> verifyRetryToken(const ngtcp2_pkt_hd &header, const SocketAddress &client,
                                           const QByteArray &secret);

// writeInvalidTokenClose: CONNECTION_CLOSE(INVALID_TOKEN) in an Initial packet, for a client
// whose Retry token does not verify (RFC 9000, 8.1.3).
bool writeInvalidTokenClose(const ngtcp2_pkt_hd &header, QByteArray &out);

// writeStatelessReset: a Stateless Reset for a short header packet of `receivedSize` bytes to
// an unknown connection id (RFC 9000, 10.3): shorter than what triggered it, so two servers
// cannot loop, and false when that is impossible.
bool writeStatelessReset(const uint8_t *dcid, size_t dcidLength, qsizetype receivedSize,
                         const QByteArray &secret, QByteArray &out);

} // namespace qmasque::h3
