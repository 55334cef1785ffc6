#pragma once

#include <QtCore/QString>

namespace qmasque {

// TlsServerSettings: the server's identity and, optionally, client certificate checking (mTLS).
struct TlsServerSettings
{
    QString certificateFile; // PEM chain, leaf first
    QString privateKeyFile;  // PEM key
    QString clientCaFile;    // when set, client certificates are requested and verified against it
    bool requireClientCertificate = false;
};

// ServerOptions: what every server listener (h1/h2 over TLS, h3 over QUIC) is configured with.
// Times in milliseconds, sizes in bytes.
struct ServerOptions
{
    TlsServerSettings tls;
    quint32 maxConcurrentStreams = 100; // advertised (h2 SETTINGS, h3 initial MAX_STREAMS)
    quint32 streamReceiveWindow = 16 * 1024 * 1024;
    quint32 connectionReceiveWindow = 64 * 1024 * 1024;
    qint64 streamSendBuffer = 1024 * 1024;
    int idleTimeoutMs = 30000;            // connection idle timeout
    int handshakeTimeoutMs = 10000;       // TLS / QUIC handshake deadline
    qint64 maxRequestHeadBytes = 16384;   // h1 request head bound
    quint64 maxDatagramFrameSize = 65535; // QUIC transport parameter (h3)
    bool quicRetry = false;               // validate client addresses with Retry tokens (h3)
    bool enableH1 = true;                 // accept ALPN http/1.1 on the TLS listener
    bool enableH2 = true;                 // accept ALPN h2 on the TLS listener
};

} // namespace qmasque
