#pragma once

#include "transport/ConnectOptions.h"
#include "transport/HttpConnection.h"

#include <functional>
#include <optional>

namespace qmasque {

// Transport: the client side of one connection to the proxy, whatever the HTTP version. It is
// what the upstream owner (h2/h3, pooled) and the h1 tunnel sessions (one socket per tunnel) use,
// and the seam for unit tests (tests/support/MockTransport).
class Transport : public HttpConnection
{
    Q_OBJECT

public:
    using HttpConnection::HttpConnection;

    // connectToProxy: starts connecting; connected() or closed(error) follows (queued, never
    // from inside this call). Errors include dns_failed, connection_refused, connect_timeout,
    // the tls_* verification errors, alpn_mismatch, quic_handshake_failed.
    virtual void connectToProxy(const ConnectOptions &options) = 0;

    // submitRequest: opens a stream and sends the request head now; returns its stream id
    // without waiting for the response. The response and body arrive on the stream's handler.
    // Errors: stream_limit (peer's concurrency/MAX_STREAMS credit exhausted: nothing queued),
    // goaway (draining), no_extended_connect (extended CONNECT before the peer enabled it),
    // connection_closed, not_ready (not connected yet), header_injection (CR/LF/NUL in a field).
    virtual Result<StreamId> submitRequest(const Request &request) = 0;

    // peerStreamLimit: how many streams may be open at once now, if the peer said: h2
    // SETTINGS_MAX_CONCURRENT_STREAMS; h3 the streams open plus the remaining MAX_STREAMS credit.
    virtual std::optional<qint64> peerStreamLimit() const = 0;
};

// TransportFactory: makes an unconnected client transport of the given kind, parented to
// `parent`. The upstream owner and the h1 sessions create transports only through a factory, so
// tests can substitute MockTransport.
using TransportFactory = std::function<Transport *(TransportKind kind, QObject *parent)>;

// defaultTransportFactory: the real transports (H1Transport, H2Transport, H3Transport).
TransportFactory defaultTransportFactory();

} // namespace qmasque
