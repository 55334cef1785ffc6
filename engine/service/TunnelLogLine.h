#pragma once

#include "api/EngineEvents.h"
#include "api/Error.h"

#include <QtCore/QString>

namespace qmasque {

// The client's per-tunnel log lines (qmasque.engine, info; README, "Running qmasque"): one at
// open, one at close, or one when the open failed. `key=value` separated by spaces; values with
// spaces or quotes are quoted. Bytes: `bytes_sent` local to proxy, `bytes_received` back.
//
//   tunnel-open id=12 transport=h3 protocol=tcp target=example.com:443 client="socks5
//   127.0.0.1:50122" latency_ms=4 tunnel-close id=12 transport=h3 protocol=tcp
//   target=example.com:443 client="socks5 127.0.0.1:50122" reason=local_close duration_ms=5120
//   bytes_sent=730 bytes_received=1048576 datagrams_sent=0 datagrams_received=0 drops=0
//   tunnel-failed id=13 transport=h2 protocol=tcp target=10.1.2.3:22 client="socks5
//   127.0.0.1:50130" reason=handshake_rejected status=403 detail="..."
namespace tunnellog {

QString openLine(quint64 tunnelId, TunnelProtocol protocol, TransportKind transport,
                 const QString &target, const QString &localClient, qint64 latencyMs);
// closeLine: a record of an opened tunnel (openLatencyMs >= 0).
QString closeLine(const TunnelRecord &record);
// failedLine: a record of a failed race (openLatencyMs < 0).
QString failedLine(const TunnelRecord &record);
// failedLine: an open refused before any attempt (no record: bad target, no profile).
QString failedLine(quint64 tunnelId, const Error &error);

} // namespace tunnellog

} // namespace qmasque
