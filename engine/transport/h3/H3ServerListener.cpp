#include "transport/h3/H3ServerListener.h"

#include "core/Log.h"
#include "transport/h3/H3ServerConnection.h"
#include "transport/h3/QuicServerPackets.h"

#include <gnutls/crypto.h>
#include <nghttp3/nghttp3.h>

#include <algorithm>
#include <cstring>

namespace qmasque {

using namespace h3;

namespace {

constexpr qsizetype kMinimumPacket = 21;    // no valid QUIC packet is shorter
constexpr qsizetype kMinimumInitial = 1200; // RFC 9000, 14.1
constexpr int kMaxResetsPerSecond = 200;
constexpr qsizetype kSecretBytes = 32;

} // namespace

size_t H3ServerListener::CidHash::operator()(const CidKey &key) const noexcept
{
    // FNV-1a; connection ids are random, so any mixing will do.
    size_t hash = 1469598103934665603ull;
    for (uint8_t i = 0; i < key.length; ++i) {
        hash ^= key.data[i];
        hash *= 1099511628211ull;
    }
    return hash;
}

H3ServerListener::CidKey H3ServerListener::keyOf(const uint8_t *data, size_t length) noexcept
{
    CidKey key;
    key.length = uint8_t(std::min<size_t>(length, NGTCP2_MAX_CIDLEN));
    std::memcpy(key.data.data(), data, key.length);
    return key;
}

H3ServerListener::H3ServerListener(const ServerOptions &options, QObject *parent)
    : ServerListener(parent)
    , m_options(options)
{
    m_secret.resize(kSecretBytes);
    gnutls_rnd(GNUTLS_RND_KEY, m_secret.data(), size_t(m_secret.size()));
}

H3ServerListener::~H3ServerListener()
{
    m_accepting = false;
    // Delete the connections now, while the socket and maps they use still exist.
    std::vector<H3ServerConnection *> connections;
    for (const auto &[quic, connection] : m_connections)
        connections.push_back(connection);
    m_connections.clear();
    m_cids.clear();
    for (H3ServerConnection *connection : connections)
        delete connection; // sends CONNECTION_CLOSE if still open
}

void H3ServerListener::setStaticSecret(const QByteArray &secret)
{
    if (secret.size() >= kSecretBytes)
        m_secret = secret;
    else
        qCWarning(lcQuic, "static secret shorter than %lld bytes ignored", qlonglong(kSecretBytes));
}

Status H3ServerListener::listen(const QHostAddress &address, quint16 port)
{
    auto tls = QuicTlsServerContext::create(m_options.tls);
    if (!tls)
        return tls.error();
    m_tls = std::move(tls.value());
    m_socket = std::make_unique<UdpSocket>(static_cast<UdpSocket::Receiver *>(this));
    if (Status bound = m_socket->bind(SocketAddress::fromHostAddress(address, port)); !bound) {
        m_socket.reset();
        return bound;
    }
    m_accepting = true;
    qCDebug(lcQuic, "HTTP/3 listening on %s port %u", qPrintable(address.toString()), serverPort());
    return {};
}

quint16 H3ServerListener::serverPort() const
{
    return m_socket ? m_socket->localAddress().port() : 0;
}

void H3ServerListener::goawayAll()
{
    m_accepting = false;
    for (const auto &[quic, connection] : m_connections)
        connection->goaway();
}

void H3ServerListener::close()
{
    m_accepting = false;
    for (const auto &[quic, connection] : m_connections)
        connection->close();
}

void H3ServerListener::handleDatagram(const SocketAddress &from, const quint8 *data, qsizetype size)
{
    if (size < kMinimumPacket)
        return;
    ngtcp2_version_cid packet;
    const int rv = ngtcp2_pkt_decode_version_cid(&packet, data, size_t(size), kServerCidLength);
    if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
        // RFC 9000, 6.1 and 14.1: only datagrams large enough to start a connection earn a
        // Version Negotiation packet (no amplification).
        if (m_accepting && size >= kMinimumInitial &&
            writeVersionNegotiation(packet, m_statelessPacket)) {
            ++m_counters.versionNegotiations;
            sendStateless(from, m_statelessPacket);
        }
        return;
    }
    if (rv != 0)
        return;

    if (const auto it = m_cids.find(keyOf(packet.dcid, packet.dcidlen)); it != m_cids.end()) {
        QuicConnection *quic = it->second;
        quic->receivePacket(from, data, size);
        markDirty(quic);
        return;
    }
    if (packet.version == 0) {
        handleShortHeaderForUnknown(packet, from, size);
        return;
    }
    if (!m_accepting)
        return;
    ngtcp2_pkt_hd header;
    if (ngtcp2_accept(&header, data, size_t(size)) != 0)
        return; // not an Initial that can start a connection
    acceptConnection(header, from, data, size);
}

void H3ServerListener::handleShortHeaderForUnknown(const ngtcp2_version_cid &packet,
                                                   const SocketAddress &from, qsizetype size)
{
    if (!m_resetWindow.isValid() || m_resetWindow.elapsed() >= 1000) {
        m_resetWindow.start();
        m_resetsInWindow = 0;
    }
    if (m_resetsInWindow >= kMaxResetsPerSecond)
        return;
    if (writeStatelessReset(packet.dcid, packet.dcidlen, size, m_secret, m_statelessPacket)) {
        ++m_resetsInWindow;
        ++m_counters.statelessResets;
        sendStateless(from, m_statelessPacket);
    }
}

void H3ServerListener::acceptConnection(const ngtcp2_pkt_hd &header, const SocketAddress &from,
                                        const quint8 *data, qsizetype size)
{
    QuicAccept accept;
    accept.header = &header;
    accept.local = m_socket->localAddress();
    accept.remote = from;
    accept.staticSecret = m_secret;

    if (m_options.quicRetry) {
        // RFC 9000, 8.1.2: no state for an unvalidated address; a Retry proves the client can
        // receive at the address it claims.
        if (header.tokenlen == 0 || header.token[0] != NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
            if (writeRetry(header, from, m_secret, m_statelessPacket)) {
                ++m_counters.retries;
                sendStateless(from, m_statelessPacket);
            }
            return;
        }
        const std::optional<ngtcp2_cid> original = verifyRetryToken(header, from, m_secret);
        if (!original) {
            if (writeInvalidTokenClose(header, m_statelessPacket)) {
                ++m_counters.invalidTokens;
                sendStateless(from, m_statelessPacket);
            }
            return;
        }
        accept.retryOriginalDcid = *original;
        accept.tokenType = NGTCP2_TOKEN_TYPE_RETRY;
    }
    ngtcp2_pkt_hd acceptedHeader = header;
    if (!m_options.quicRetry) {
        // We issue no NEW_TOKEN tokens: whatever the client brings is not ours to check.
        acceptedHeader.token = nullptr;
        acceptedHeader.tokenlen = 0;
    }
    accept.header = &acceptedHeader;

    auto tls = m_tls->createSession();
    if (!tls) {
        qCWarning(lcQuic, "TLS session setup failed: %s", qPrintable(tls.error().toString()));
        return;
    }
    auto *connection = new H3ServerConnection(m_options, this);
    if (Status accepted =
            connection->accept(std::move(tls.value()), accept, static_cast<QuicPacketSink *>(this),
                               static_cast<QuicConnectionIdRegistry *>(this));
        !accepted) {
        qCWarning(lcQuic, "QUIC accept failed: %s", qPrintable(accepted.error().toString()));
        delete connection;
        return;
    }
    QuicConnection *quic = connection->quic();
    m_connections.emplace(quic, connection);
    connect(quic, &QuicConnection::finished, this,
            [this, connection] { removeConnection(connection); });
    connect(connection, &HttpConnection::connected, this,
            [this, connection] { Q_EMIT newConnection(connection); });

    // Route the client's chosen id (retransmitted Initials) and our first id to it.
    addConnectionId(header.dcid, quic);
    const size_t count = ngtcp2_conn_get_scid(quic->handle(), nullptr);
    std::vector<ngtcp2_cid> scids(count);
    ngtcp2_conn_get_scid(quic->handle(), scids.data());
    for (const ngtcp2_cid &cid : scids)
        addConnectionId(cid, quic);

    const int rv = quic->receivePacket(from, data, size);
    if (rv == NGTCP2_ERR_RETRY && writeRetry(header, from, m_secret, m_statelessPacket)) {
        ++m_counters.retries;
        sendStateless(from, m_statelessPacket);
    }
    if (!quic->isOpen() && quic->phase() != QuicConnection::Phase::Closing) {
        // The very first packet failed (dropped, retry, broken): no state stays behind.
        removeConnection(connection);
        return;
    }
    markDirty(quic);
}

void H3ServerListener::removeConnection(H3ServerConnection *connection)
{
    QuicConnection *quic = connection->quic();
    if (m_connections.erase(quic) == 0)
        return;
    for (auto it = m_cids.begin(); it != m_cids.end();) {
        if (it->second == quic)
            it = m_cids.erase(it);
        else
            ++it;
    }
    m_blocked.erase(quic);
    m_dirty.erase(std::remove(m_dirty.begin(), m_dirty.end(), quic), m_dirty.end());
    connection->deleteLater();
}

void H3ServerListener::markDirty(QuicConnection *connection)
{
    if (m_dirty.empty() || m_dirty.back() != connection)
        m_dirty.push_back(connection);
}

void H3ServerListener::handleReadFinished()
{
    // One write pass per connection per read batch: ACKs and responses coalesce.
    m_scratch.swap(m_dirty);
    std::sort(m_scratch.begin(), m_scratch.end());
    m_scratch.erase(std::unique(m_scratch.begin(), m_scratch.end()), m_scratch.end());
    for (QuicConnection *connection : m_scratch) {
        if (m_connections.count(connection))
            connection->flush();
    }
    m_scratch.clear();
}

void H3ServerListener::handleWritable()
{
    std::vector<QuicConnection *> waiting(m_blocked.begin(), m_blocked.end());
    m_blocked.clear();
    for (QuicConnection *connection : waiting) {
        if (m_connections.count(connection))
            connection->handleWritable();
    }
}

void H3ServerListener::handleSocketError(int error)
{
    // An unconnected socket reports no ICMP errors per peer; nothing to attribute.
    Q_UNUSED(error)
}

UdpSocket::SendResult H3ServerListener::sendPackets(const ngtcp2_addr &to, const quint8 *data,
                                                    qsizetype size, qsizetype segmentSize)
{
    const SocketAddress destination = SocketAddress::fromNative(to.addr, to.addrlen);
    return m_socket->send(&destination, data, size, segmentSize);
}

void H3ServerListener::waitForWritable(QuicConnection *connection)
{
    m_blocked.insert(connection);
    m_socket->waitForWritable();
}

void H3ServerListener::sendStateless(const SocketAddress &to, const QByteArray &packet)
{
    m_socket->send(&to, reinterpret_cast<const quint8 *>(packet.constData()), packet.size(), 0);
}

void H3ServerListener::addConnectionId(const ngtcp2_cid &cid, QuicConnection *connection)
{
    m_cids[keyOf(cid.data, cid.datalen)] = connection;
}

void H3ServerListener::removeConnectionId(const ngtcp2_cid &cid)
{
    m_cids.erase(keyOf(cid.data, cid.datalen));
}

} // namespace qmasque
