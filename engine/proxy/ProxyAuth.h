#pragma once

#include "proxy/ProxyConfig.h"
#include "transport/HttpTypes.h"

#include <QtCore/QByteArray>
#include <QtCore/QList>

#include <array>

namespace qmasque {

// ProxyAuth: checks a request's Proxy-Authorization field (RFC 9110, 11.7.2) against the
// configured credentials: `Basic base64(user:password)` (RFC 7617) or `Bearer token` (RFC 6750).
// The comparison is constant time: the presented credential is hashed (SHA-256) and compared
// with every configured digest with CRYPTO_memcmp, without stopping at a match, so neither the
// position of a match nor the length of a secret shows in the timing. Immutable; any thread.
class ProxyAuth
{
public:
    explicit ProxyAuth(const QList<ProxyCredential> &credentials = {},
                       const QString &realm = QStringLiteral("qmasque-proxy"));

    // enabled: whether credentials are required at all.
    bool enabled() const noexcept { return !m_digests.empty(); }
    // check: whether `headers` carry an accepted Proxy-Authorization (always true when disabled).
    bool check(const HeaderList &headers) const;
    // challenges: the Proxy-Authenticate fields of a 407 (RFC 9110, 11.7.1), one per scheme in
    // use: `Basic realm="..."` and/or `Bearer realm="..."`.
    HeaderList challenges() const;

private:
    using Digest = std::array<unsigned char, 32>;
    struct Entry
    {
        ProxyCredential::Scheme scheme;
        Digest digest;
    };
    static Digest digestOf(QByteArrayView text);

    std::vector<Entry> m_digests;
    QByteArray m_realm;
    bool m_basic = false;
    bool m_bearer = false;
};

} // namespace qmasque
