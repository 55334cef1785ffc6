#pragma once

#include "transport/TlsSettings.h"

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>

namespace qmasque {

// ConnectOptions: everything a client transport needs to reach the proxy. Times in milliseconds,
// sizes in bytes.
struct ConnectOptions
{
    QString host; // DNS name or IP literal (IPv6 without brackets)
    quint16 port = 443;
    TlsSettings tls;
    QList<QByteArray> alpn; // empty = the transport's own ("h3", "h2", "http/1.1")

    int connectTimeoutMs = 5000; // socket connect + TLS/QUIC handshake deadline
    int idleTimeoutMs = 30000;   // QUIC max_idle_timeout; h2 closes a dead peer after PING timeouts
    int keepaliveMs = 15000;     // h2 PING / QUIC PING interval while idle; 0 = off

    // Flow control (RFC 9113, 5.2; RFC 9000, 4): receive windows large enough for multi-Gbit/s
    // on loopback. Credit is returned only for bytes the stream handler consumed.
    quint32 streamReceiveWindow = 16 * 1024 * 1024;
    quint32 connectionReceiveWindow = 64 * 1024 * 1024;
    // Bound of each stream's send buffer: sendStreamData() accepts at most this much unsent data.
    qint64 streamSendBuffer = 1024 * 1024;

    quint64 maxDatagramFrameSize = 65535; // QUIC transport parameter we advertise (h3)
    int maxUdpPayload = 1452;             // initial QUIC max UDP payload; PMTUD may raise it
};

} // namespace qmasque
