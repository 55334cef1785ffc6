#include "transport/TlsSettings.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QFile>

#include <algorithm>

namespace qmasque {

namespace {

void addField(QCryptographicHash &hash, QByteArrayView name, QByteArrayView value)
{
    // Length-prefixed fields: no two different settings can serialise to the same bytes.
    const auto put = [&hash](QByteArrayView bytes) {
        const QByteArray length = QByteArray::number(bytes.size());
        hash.addData(length);
        hash.addData(":");
        hash.addData(bytes);
    };
    put(name);
    put(value);
}

QByteArray fileDigest(const QString &path)
{
    if (path.isEmpty())
        return {};
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return QByteArrayLiteral("unreadable");
    return QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256);
}

} // namespace

QByteArray TlsSettings::fingerprint() const
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    addField(hash, "insecure", insecure ? "1" : "0");
    addField(hash, "system", useSystemTrust ? "1" : "0");
    addField(hash, "ca", caFile.toUtf8());
    addField(hash, "ca-digest", fileDigest(caFile));
    QList<QByteArray> pins = pinsSha256;
    std::sort(pins.begin(), pins.end());
    pins.erase(std::unique(pins.begin(), pins.end()), pins.end());
    for (const QByteArray &pin : pins)
        addField(hash, "pin", pin);
    addField(hash, "sni", sni.toUtf8());
    addField(hash, "cert", clientCertFile.toUtf8());
    addField(hash, "key", clientKeyFile.toUtf8());
    return hash.result();
}

QByteArray parsePin(QStringView text)
{
    QStringView body = text.trimmed();
    if (body.startsWith(u"sha256//"))
        body = body.mid(8);
    const QByteArray ascii = body.toLatin1();
    constexpr int kDigestSize = 32;
    if (ascii.size() == 2 * kDigestSize) {
        const QByteArray fromHex = QByteArray::fromHex(ascii);
        if (fromHex.size() == kDigestSize && fromHex.toHex() == ascii.toLower())
            return fromHex;
    }
    auto decoded = QByteArray::fromBase64Encoding(ascii, QByteArray::AbortOnBase64DecodingErrors);
    if (decoded && decoded.decoded.size() == kDigestSize)
        return decoded.decoded;
    return {};
}

} // namespace qmasque
