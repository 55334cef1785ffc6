#include "transport/h3/QuicServerPackets.h"

#include "transport/h3/QuicHandles.h"

#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <algorithm>

namespace qmasque::h3 {

namespace {

constexpr ngtcp2_duration kRetryTokenLifetime = 10 * NGTCP2_SECONDS;

const uint8_t *bytes(const QByteArray &data)
{
    return reinterpret_cast<const uint8_t *>(data.constData());
}

uint8_t *bytes(QByteArray &data)
{
    return reinterpret_cast<uint8_t *>(data.data());
}

bool finish(QByteArray &out, ngtcp2_ssize written)
{
    if (written <= 0)
        return false;
    out.resize(qsizetype(written));
    return true;
}

} // namespace

bool writeVersionNegotiation(const ngtcp2_version_cid &packet, QByteArray &out)
{
    uint8_t random = 0;
    gnutls_rnd(GNUTLS_RND_NONCE, &random, 1);
    // A reserved version of the 0x?a?a?a?a pattern keeps clients' parsers honest.
    const uint32_t versions[] = {0x1a2a3a4au, NGTCP2_PROTO_VER_V1, NGTCP2_PROTO_VER_V2};
    out.resize(NGTCP2_MAX_UDP_PAYLOAD_SIZE);
    // The Version Negotiation packet swaps the client's connection ids.
    return finish(out, ngtcp2_pkt_write_version_negotiation(
                           bytes(out), size_t(out.size()), random, packet.scid, packet.scidlen,
                           packet.dcid, packet.dcidlen, versions, std::size(versions)));
}

bool writeRetry(const ngtcp2_pkt_hd &header, const SocketAddress &client, const QByteArray &secret,
                QByteArray &out)
{
    ngtcp2_cid scid{};
    scid.datalen = kServerCidLength;
    gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen);
    uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN];
    const ngtcp2_ssize tokenLength = ngtcp2_crypto_generate_retry_token(
        token, bytes(secret), size_t(secret.size()), header.version, client.data(), client.length,
        &scid, &header.dcid, quicTimestamp());
    if (tokenLength < 0)
        return false;
    out.resize(NGTCP2_MAX_UDP_PAYLOAD_SIZE);
    return finish(out, ngtcp2_crypto_write_retry(bytes(out), size_t(out.size()), header.version,
                                                 &header.scid, &scid, &header.dcid, token,
                                                 size_t(tokenLength)));
}

std::optional<ngtcp2_cid> verifyRetryToken(const ngtcp2_pkt_hd &header, const SocketAddress &client,
                                           const QByteArray &secret)
{
    if (header.tokenlen == 0 || header.token[0] != NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY)
        return std::nullopt;
    ngtcp2_cid originalDcid{};
    if (ngtcp2_crypto_verify_retry_token(&originalDcid, header.token, header.tokenlen,
                                         bytes(secret), size_t(secret.size()), header.version,
                                         client.data(), client.length, &header.dcid,
                                         kRetryTokenLifetime, quicTimestamp()) != 0) {
        return std::nullopt;
    }
    return originalDcid;
}

bool writeInvalidTokenClose(const ngtcp2_pkt_hd &header, QByteArray &out)
{
    out.resize(NGTCP2_MAX_UDP_PAYLOAD_SIZE);
    return finish(out, ngtcp2_crypto_write_connection_close(
                           bytes(out), size_t(out.size()), header.version, &header.scid,
                           &header.dcid, NGTCP2_INVALID_TOKEN, nullptr, 0));
}

bool writeStatelessReset(const uint8_t *dcid, size_t dcidLength, qsizetype receivedSize,
                         const QByteArray &secret, QByteArray &out)
{
    // RFC 9000, 10.3: first byte, unpredictable bytes, 16-byte token; the whole is shorter than
    // the packet that triggered it (no reset loops) and at least 21 bytes long.
    constexpr qsizetype kMinimum =
        1 + NGTCP2_MIN_STATELESS_RESET_RANDLEN + NGTCP2_STATELESS_RESET_TOKENLEN;
    const qsizetype length = std::min<qsizetype>(receivedSize - 1, 43);
    if (length < std::max<qsizetype>(kMinimum, 21))
        return false;
    ngtcp2_cid cid{};
    ngtcp2_cid_init(&cid, dcid, std::min<size_t>(dcidLength, NGTCP2_MAX_CIDLEN));
    uint8_t token[NGTCP2_STATELESS_RESET_TOKENLEN];
    if (ngtcp2_crypto_generate_stateless_reset_token(token, bytes(secret), size_t(secret.size()),
                                                     &cid) != 0) {
        return false;
    }
    uint8_t random[64];
    const size_t randomLength = size_t(length - 1 - NGTCP2_STATELESS_RESET_TOKENLEN);
    gnutls_rnd(GNUTLS_RND_NONCE, random, randomLength);
    out.resize(length);
    return finish(out, ngtcp2_pkt_write_stateless_reset(bytes(out), size_t(out.size()), token,
                                                        random, randomLength));
}

} // namespace qmasque::h3
