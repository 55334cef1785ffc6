#pragma once

#include "api/Result.h"
#include "transport/ServerOptions.h"

#include <QtNetwork/QSslConfiguration>

namespace qmasque {

// makeTlsServerConfiguration: the server side of TLS for the h1/h2 listener: the identity
// (certificate chain leaf first, private key), the ALPN protocols in preference order, and client
// certificate checking (mTLS) when TlsServerSettings::clientCaFile is set: certificates are then
// requested and verified against that CA; requireClientCertificate makes a missing one fatal in
// the handshake (the client gets a certificate_required alert, RFC 8446, 4.4.2.4).
// Errors: invalid_config (certificate, key or CA file unreadable, or key not matching).
Result<QSslConfiguration> makeTlsServerConfiguration(const TlsServerSettings &settings,
                                                     const QList<QByteArray> &alpn);

} // namespace qmasque
