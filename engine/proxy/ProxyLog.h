#pragma once

#include "api/Error.h"
#include "api/Types.h"

#include <QtCore/QString>
#include <QtNetwork/QHostAddress>

namespace qmasque {

struct ProxyTunnelCounters;

// The proxy's structured log lines (lcProxy, info level): `event key=value ...`, one line per
// tunnel open, close and refusal, and per connection close. Values are written without spaces;
// `detail` is a quoted string ("..." with \" and \\ escaped). README "qmasque-proxy" documents
// the keys.

// TunnelLogFields: what identifies a tunnel in every line.
struct TunnelLogFields
{
    QString id;     // "c<connection>/<stream>"
    QString client; // "127.0.0.1:50012", "[::1]:50012"
    TransportKind transport = TransportKind::H3;
    QString protocol; // "udp", "tcp", "ip", or "-" when the request was not understood
    QString target;   // "example.com:443", "10.0.0.0/8/17", or "-"
};

QString formatEndpoint(const QHostAddress &address, quint16 port);
QString quoteLogValue(const QString &text);

void logTunnelOpen(const TunnelLogFields &fields, const QString &peer);
void logTunnelClose(const TunnelLogFields &fields, const Error &reason, qint64 durationMs,
                    const ProxyTunnelCounters &counters, quint64 drops);
void logTunnelRefused(const TunnelLogFields &fields, int status, const Error &reason);

} // namespace qmasque
