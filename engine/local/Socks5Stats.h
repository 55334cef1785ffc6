#pragma once

#include <QtCore/QtGlobal>

namespace qmasque {

// Socks5Stats: what the SOCKS5 front end counts itself (monotonic since start()). The tunnels'
// own counters (bytes, datagrams, their drops) are kept by the tunnels. Engine thread only.
struct Socks5Stats
{
    quint64 clientsAccepted = 0;
    quint64 clientsRefused = 0;     // beyond the client limit
    quint64 protocolErrors = 0;     // malformed or unsupported requests (closed with a reply)
    quint64 authFailures = 0;       // RFC 1929 credentials refused
    quint64 handshakeTimeouts = 0;  // greeting or request not complete in time
    quint64 connectsOpened = 0;     // CONNECT requests that got a tunnel
    quint64 connectsFailed = 0;     // CONNECT requests whose tunnel failed (error reply)
    quint64 associations = 0;       // UDP ASSOCIATE requests served
    quint64 udpFragmented = 0;      // datagrams with FRAG != 0 (RFC 1928, 7): dropped
    quint64 udpMalformed = 0;       // datagrams with a bad header: dropped
    quint64 udpForeignSource = 0;   // datagrams from another address than the client's: dropped
    quint64 udpPendingOverflow = 0; // datagrams beyond the queue of a tunnel still opening
    quint64 udpTargetLimit = 0;     // datagrams for a new target beyond the per-association limit
    quint64 udpTargetFailed = 0;    // datagrams for a target whose tunnel just failed
};

} // namespace qmasque
