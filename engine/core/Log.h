#pragma once

#include <QtCore/QLoggingCategory>

// Logging categories, one per engine module ("qmasque.<module>"). Prefix connection-scoped
// messages with the object's short id so interleaved logs stay readable; guard expensive dumps
// with isDebugEnabled(). Nothing logs per packet or per datagram on the data paths.
Q_DECLARE_LOGGING_CATEGORY(lcEngine)
Q_DECLARE_LOGGING_CATEGORY(lcTls)
Q_DECLARE_LOGGING_CATEGORY(lcH1)
Q_DECLARE_LOGGING_CATEGORY(lcH2)
Q_DECLARE_LOGGING_CATEGORY(lcQuic)
Q_DECLARE_LOGGING_CATEGORY(lcH3)
Q_DECLARE_LOGGING_CATEGORY(lcPool)
Q_DECLARE_LOGGING_CATEGORY(lcTunnel)
Q_DECLARE_LOGGING_CATEGORY(lcRacer)
Q_DECLARE_LOGGING_CATEGORY(lcLocal)
Q_DECLARE_LOGGING_CATEGORY(lcProxy)
