#include "core/Log.h"

Q_LOGGING_CATEGORY(lcEngine, "qmasque.engine", QtInfoMsg)
Q_LOGGING_CATEGORY(lcTls, "qmasque.tls", QtInfoMsg)
Q_LOGGING_CATEGORY(lcH1, "qmasque.h1", QtInfoMsg)
Q_LOGGING_CATEGORY(lcH2, "qmasque.h2", QtInfoMsg)
Q_LOGGING_CATEGORY(lcQuic, "qmasque.quic", QtInfoMsg)
Q_LOGGING_CATEGORY(lcH3, "qmasque.h3", QtInfoMsg)
Q_LOGGING_CATEGORY(lcPool, "qmasque.pool", QtInfoMsg)
Q_LOGGING_CATEGORY(lcTunnel, "qmasque.tunnel", QtInfoMsg)
Q_LOGGING_CATEGORY(lcRacer, "qmasque.racer", QtInfoMsg)
Q_LOGGING_CATEGORY(lcLocal, "qmasque.local", QtInfoMsg)
Q_LOGGING_CATEGORY(lcProxy, "qmasque.proxy", QtInfoMsg)
