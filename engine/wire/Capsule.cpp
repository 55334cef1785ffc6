#include "wire/Capsule.h"

#include "wire/Varint.h"

namespace qmasque::wire {

int capsuleHeaderLength(quint64 type, quint64 valueLength) noexcept
{
    return varintLength(type) + varintLength(valueLength);
}

bool appendCapsule(QByteArray &out, quint64 type, QByteArrayView value)
{
    const int typeLength = varintLength(type);
    if (typeLength == 0)
        return false;
    const qsizetype at = out.size();
    out.resize(at + capsuleHeaderLength(type, quint64(value.size())) + value.size());
    char *p = out.data() + at;
    p += encodeVarint(type, p);
    p += encodeVarint(quint64(value.size()), p);
    if (!value.isEmpty())
        memcpy(p, value.data(), size_t(value.size()));
    return true;
}

void appendDatagramCapsule(QByteArray &out, QByteArrayView httpDatagramPayload)
{
    appendCapsule(out, quint64(CapsuleType::Datagram), httpDatagramPayload);
}

} // namespace qmasque::wire
