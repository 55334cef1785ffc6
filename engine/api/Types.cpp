#include "api/Types.h"

namespace qmasque {

const char *transportKindName(TransportKind kind) noexcept
{
    switch (kind) {
    case TransportKind::H1:
        return "h1";
    case TransportKind::H2:
        return "h2";
    case TransportKind::H3:
        return "h3";
    }
    return "unknown";
}

bool transportKindFromName(QStringView name, TransportKind *kind) noexcept
{
    for (auto candidate : {TransportKind::H1, TransportKind::H2, TransportKind::H3}) {
        if (name.compare(QLatin1StringView(transportKindName(candidate)), Qt::CaseInsensitive) ==
            0) {
            *kind = candidate;
            return true;
        }
    }
    return false;
}

const char *tunnelProtocolName(TunnelProtocol protocol) noexcept
{
    switch (protocol) {
    case TunnelProtocol::Udp:
        return "connect-udp";
    case TunnelProtocol::Tcp:
        return "connect-tcp";
    case TunnelProtocol::Ip:
        return "connect-ip";
    }
    return "unknown";
}

} // namespace qmasque
