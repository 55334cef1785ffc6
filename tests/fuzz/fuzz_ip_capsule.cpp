// libFuzzer target: the CONNECT-IP capsules (RFC 9484, 4.7).
//
// Input: byte 0 picks ADDRESS_ASSIGN, ADDRESS_REQUEST or ROUTE_ADVERTISEMENT; the rest is the
// capsule value. Invariants: errors carry the documented codes; whatever decodes re-encodes
// (the encoder validates the same rules) and decodes back equal; a ROUTE_ADVERTISEMENT, which has
// no varints, re-encodes byte for byte, the other two whenever their request ids were minimal.

#include "FuzzCheck.h"
#include "wire/IpCapsules.h"

#include <QtCore/QByteArray>

#include <cstdint>

using namespace qmasque;
using namespace qmasque::wire;

namespace {

bool isIpCapsuleError(ErrorCode code)
{
    switch (code) {
    case ErrorCode::MalformedIpCapsule:
    case ErrorCode::BadPrefix:
    case ErrorCode::BadPrefixLength:
    case ErrorCode::BadRequestId:
    case ErrorCode::BadRoute:
        return true;
    default:
        return false;
    }
}

template<typename Entry>
void checkPrefixEntries(QByteArrayView value, const Result<QList<Entry>> &parsed,
                        Result<QByteArray> (*encode)(const QList<Entry> &),
                        Result<QList<Entry>> (*parse)(QByteArrayView))
{
    if (!parsed) {
        FUZZ_CHECK(isIpCapsuleError(parsed.error().code));
        return;
    }
    for (const Entry &e : *parsed) {
        FUZZ_CHECK(e.prefix.isCanonical());
        FUZZ_CHECK(e.prefix.address.version() == 4 || e.prefix.address.version() == 6);
    }
    const auto encoded = encode(*parsed);
    FUZZ_CHECK(encoded.ok());
    FUZZ_CHECK(encoded->size() <= value.size());
    const auto again = parse(*encoded);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(*again == *parsed);
    if (encoded->size() == value.size())
        FUZZ_CHECK(*encoded == value);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const QByteArrayView value(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    switch (data[0] % 3) {
    case 0:
        checkPrefixEntries<AssignedAddress>(value, parseAddressAssign(value), encodeAddressAssign,
                                            parseAddressAssign);
        break;
    case 1: {
        const auto parsed = parseAddressRequest(value);
        checkPrefixEntries<RequestedAddress>(value, parsed, encodeAddressRequest,
                                             parseAddressRequest);
        if (parsed) {
            FUZZ_CHECK(!parsed->isEmpty());
            for (const RequestedAddress &r : *parsed)
                FUZZ_CHECK(r.requestId != 0);
        }
        break;
    }
    default: {
        const auto parsed = parseRouteAdvertisement(value);
        if (!parsed) {
            FUZZ_CHECK(isIpCapsuleError(parsed.error().code));
            break;
        }
        for (qsizetype i = 0; i < parsed->size(); ++i) {
            const IpAddressRange &r = parsed->at(i);
            FUZZ_CHECK(r.start <= r.end);
            if (i > 0)
                FUZZ_CHECK(parsed->at(i - 1).start.version() <= r.start.version());
        }
        const auto encoded = encodeRouteAdvertisement(*parsed);
        FUZZ_CHECK(encoded.ok());
        FUZZ_CHECK(*encoded == value);
        break;
    }
    }
    return 0;
}
