#include "pool/Fingerprint.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QUrl>
#include <QtNetwork/QHostAddress>

namespace qmasque {

namespace {

// hostAddress: the host as an IP literal, if it is one ("[::1]" included).
bool parseAddress(QStringView host, QHostAddress *address)
{
    QStringView literal = host;
    if (literal.size() >= 2 && literal.front() == u'[' && literal.back() == u']')
        literal = literal.sliced(1, literal.size() - 2);
    return address->setAddress(literal.toString());
}

// effectiveTls: the trust settings reduced to the fields that decide the outcome (the trust
// order of TlsSettings), so equivalent settings hash the same. SNI is handled by the caller.
TlsSettings effectiveTls(const TlsSettings &tls)
{
    TlsSettings effective;
    effective.clientCertFile = tls.clientCertFile;
    effective.clientKeyFile = tls.clientKeyFile;
    if (tls.insecure) {
        // Nothing is verified: anchors and pins are irrelevant.
        effective.insecure = true;
        effective.useSystemTrust = false;
        return effective;
    }
    if (!tls.pinsSha256.isEmpty()) {
        // A pin trusts exactly that key; the chain and the stores are not consulted.
        effective.useSystemTrust = false;
        effective.pinsSha256 = tls.pinsSha256; // fingerprint() sorts and de-duplicates
        return effective;
    }
    effective.useSystemTrust = tls.useSystemTrust;
    effective.caFile = tls.caFile;
    return effective;
}

void addField(QCryptographicHash &hash, QByteArrayView name, QByteArrayView value)
{
    // Length-prefixed, like TlsSettings::fingerprint(): distinct inputs never collide by framing.
    hash.addData(QByteArray::number(name.size()));
    hash.addData(":");
    hash.addData(name);
    hash.addData(QByteArray::number(value.size()));
    hash.addData(":");
    hash.addData(value);
}

} // namespace

QList<QByteArray> Fingerprint::defaultAlpn(TransportKind transport)
{
    switch (transport) {
    case TransportKind::H3:
        return {QByteArrayLiteral("h3")};
    case TransportKind::H2:
        return {QByteArrayLiteral("h2")};
    case TransportKind::H1:
        return {QByteArrayLiteral("http/1.1")};
    }
    return {};
}

QString Fingerprint::normalizeHost(QStringView host)
{
    QStringView trimmed = host.trimmed();
    QHostAddress address;
    if (parseAddress(trimmed, &address)) {
        // An IPv4-mapped IPv6 address (RFC 4291, 2.5.5.2) reaches the same IPv4 peer.
        bool mapped = false;
        const quint32 v4 = address.protocol() == QAbstractSocket::IPv6Protocol
                               ? address.toIPv4Address(&mapped)
                               : 0;
        if (mapped)
            return QHostAddress(v4).toString();
        return address.toString().toLower();
    }
    const QString lower = trimmed.toString().toLower();
    // Internationalised names compare in their ASCII (punycode) form, as DNS sees them.
    const QByteArray ace = QUrl::toAce(lower);
    if (!ace.isEmpty())
        return QString::fromLatin1(ace);
    return lower;
}

Fingerprint Fingerprint::of(const UpstreamEndpoint &endpoint)
{
    Fingerprint fingerprint;
    fingerprint.m_host = normalizeHost(endpoint.connect.host);
    fingerprint.m_port = endpoint.connect.port;
    fingerprint.m_transport = endpoint.transport;

    const TlsSettings &tls = endpoint.connect.tls;
    QHostAddress address;
    const bool ipLiteral = parseAddress(endpoint.connect.host.trimmed(), &address);
    // RFC 6066, 3: no SNI for IP literals; otherwise the override or the host name.
    const QString sni = !tls.sni.isEmpty() ? tls.sni.toLower()
                        : ipLiteral        ? QString()
                                           : fingerprint.m_host;

    QCryptographicHash hash(QCryptographicHash::Sha256);
    addField(hash, "trust", effectiveTls(tls).fingerprint());
    const QList<QByteArray> alpn =
        endpoint.connect.alpn.isEmpty() ? defaultAlpn(endpoint.transport) : endpoint.connect.alpn;
    // ALPN order is the client's preference (RFC 7301, 3.1): it stays as given.
    for (const QByteArray &protocol : alpn)
        addField(hash, "alpn", protocol);
    addField(hash, "sni", sni.toUtf8());
    fingerprint.m_trustHash = hash.result();
    return fingerprint;
}

QString Fingerprint::toString() const
{
    const bool ipv6 = m_host.contains(u':');
    QString text = QLatin1StringView(transportKindName(m_transport)) + u' ' +
                   (ipv6 ? u'[' + m_host + u']' : m_host) + u':' + QString::number(m_port);
    if (!m_trustHash.isEmpty())
        text += u' ' + QString::fromLatin1(m_trustHash.left(4).toHex());
    return text;
}

size_t qHash(const Fingerprint &fingerprint, size_t seed) noexcept
{
    return qHashMulti(seed, fingerprint.host(), fingerprint.port(),
                      static_cast<int>(fingerprint.transport()), fingerprint.trustHash());
}

} // namespace qmasque
