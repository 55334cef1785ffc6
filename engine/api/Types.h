#pragma once

#include <QtCore/QMetaType>
#include <QtCore/QString>

namespace qmasque {

// StreamId: an HTTP/2 or QUIC stream id (HTTP/1.1 tunnels use 1). Values are transport-native.
using StreamId = qint64;

// TransportKind: the HTTP version a tunnel or a pooled connection runs on.
enum class TransportKind : quint8
{
    H1,
    H2,
    H3
};

// TunnelProtocol: what a tunnel carries.
enum class TunnelProtocol : quint8
{
    Udp, // CONNECT-UDP, RFC 9298
    Tcp, // classic CONNECT (RFC 9110) or templated connect-tcp
    Ip,  // CONNECT-IP, RFC 9484
};

// Stable lower-case names used in logs, JSON and the CLI ("h3", "connect-udp").
const char *transportKindName(TransportKind kind) noexcept;
bool transportKindFromName(QStringView name, TransportKind *kind) noexcept;
const char *tunnelProtocolName(TunnelProtocol protocol) noexcept;

} // namespace qmasque

Q_DECLARE_METATYPE(qmasque::TransportKind)
Q_DECLARE_METATYPE(qmasque::TunnelProtocol)
