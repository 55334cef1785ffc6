#pragma once

#include "api/Result.h"
#include "proxy/SocketUtil.h"

#include <QtCore/QString>

namespace qmasque {

// OpenedTun: a TUN device's descriptor (non-blocking, close-on-exec) and the name the kernel
// gave it.
struct OpenedTun
{
    SocketFd fd;
    QString name;
};

// openTun: creates the TUN device `name` (IFF_TUN | IFF_NO_PI: bare IP packets), or attaches to
// an existing persistent one. Used by the client's TUN front end and by qmasque-proxy --tun.
// Errors: invalid_config for a name the kernel cannot take (1 to IFNAMSIZ - 1 characters,
// without '/' or spaces), then tunOpenError(); not_supported off Linux.
Result<OpenedTun> openTun(const QString &name);

// tunOpenError: errno of opening, creating or configuring a TUN device as a typed error:
// permission_denied naming CAP_NET_ADMIN for EPERM / EACCES, not_supported when the kernel has
// no TUN driver (ENOENT, ENODEV, ENXIO), io_error otherwise.
Error tunOpenError(int error, const QString &what);

} // namespace qmasque
