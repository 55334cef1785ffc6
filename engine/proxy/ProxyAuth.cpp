#include "proxy/ProxyAuth.h"

#include <QtCore/QCryptographicHash>

#include <openssl/crypto.h>

#include <cstring>

namespace qmasque {

ProxyAuth::ProxyAuth(const QList<ProxyCredential> &credentials, const QString &realm)
    : m_realm(realm.toUtf8())
{
    for (const ProxyCredential &credential : credentials) {
        const bool basic = credential.scheme == ProxyCredential::Scheme::Basic;
        const QByteArray presented =
            basic ? credential.user + ':' + credential.secret : credential.secret;
        m_digests.push_back(Entry{credential.scheme, digestOf(presented)});
        m_basic = m_basic || basic;
        m_bearer = m_bearer || !basic;
    }
}

ProxyAuth::Digest ProxyAuth::digestOf(QByteArrayView text)
{
    const QByteArray hash = QCryptographicHash::hash(text, QCryptographicHash::Sha256);
    Digest digest{};
    std::memcpy(digest.data(), hash.constData(), digest.size());
    return digest;
}

bool ProxyAuth::check(const HeaderList &headers) const
{
    if (m_digests.empty())
        return true;
    const QByteArray value = headerValue(headers, "proxy-authorization").trimmed();
    // RFC 9110, 11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]; the scheme
    // is case-insensitive.
    const qsizetype space = value.indexOf(' ');
    if (space <= 0)
        return false;
    const QByteArray scheme = value.left(space).toLower();
    const QByteArray credentials = value.mid(space + 1).trimmed();
    ProxyCredential::Scheme kind;
    QByteArray presented;
    if (scheme == "basic") {
        kind = ProxyCredential::Scheme::Basic;
        auto decoded =
            QByteArray::fromBase64Encoding(credentials, QByteArray::AbortOnBase64DecodingErrors);
        if (!decoded)
            return false;
        presented = std::move(decoded.decoded);
    } else if (scheme == "bearer") {
        kind = ProxyCredential::Scheme::Bearer;
        presented = credentials;
    } else {
        return false;
    }
    const Digest digest = digestOf(presented);
    // Every entry is compared, whatever matched before (constant time over the list).
    int matches = 0;
    for (const Entry &entry : m_digests) {
        const int equal = CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0;
        matches |= equal & int(entry.scheme == kind);
    }
    return matches != 0;
}

HeaderList ProxyAuth::challenges() const
{
    HeaderList fields;
    if (m_basic)
        fields.append(Header{"proxy-authenticate", "Basic realm=\"" + m_realm + "\""});
    if (m_bearer)
        fields.append(Header{"proxy-authenticate", "Bearer realm=\"" + m_realm + "\""});
    return fields;
}

} // namespace qmasque
