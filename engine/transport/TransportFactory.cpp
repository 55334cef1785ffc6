#include "transport/Transport.h"

#include "transport/h1/H1Transport.h"
#include "transport/h2/H2Transport.h"
#include "transport/h3/H3Transport.h"

namespace qmasque {

TransportFactory defaultTransportFactory()
{
    return [](TransportKind kind, QObject *parent) -> Transport * {
        switch (kind) {
        case TransportKind::H1:
            return new H1Transport(parent);
        case TransportKind::H2:
            return new H2Transport(parent);
        case TransportKind::H3:
            return new H3Transport(parent);
        }
        return nullptr;
    };
}

} // namespace qmasque
