// libFuzzer target: IPv4 / IPv6 header inspection and the Internet checksum.
//
// Invariants: errors carry the documented codes; an accepted packet's lengths add up and match
// the buffer; an accepted IPv4 header verifies; decrementing the hop limit keeps the packet
// acceptable; the checksum of the input does not depend on how it is cut into pieces.

#include "FuzzCheck.h"
#include "wire/InternetChecksum.h"
#include "wire/IpPacket.h"

#include <QtCore/QByteArray>

#include <cstdint>

using namespace qmasque;
using namespace qmasque::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView packet(reinterpret_cast<const char *>(data), qsizetype(size));

    const auto info = inspectIpPacket(packet);
    if (!info) {
        const ErrorCode code = info.error().code;
        FUZZ_CHECK(code == ErrorCode::MalformedIpPacket || code == ErrorCode::BadIpChecksum);
    } else {
        FUZZ_CHECK(info->version == ipVersion(packet));
        FUZZ_CHECK(info->totalLength == packet.size());
        FUZZ_CHECK(info->headerLength <= info->totalLength);
        FUZZ_CHECK(info->payloadLength == info->totalLength - info->headerLength);
        FUZZ_CHECK(info->source.version() == info->version);
        FUZZ_CHECK(info->destination.version() == info->version);
        if (info->version == 4)
            FUZZ_CHECK(verifyIpv4HeaderChecksum(packet.first(info->headerLength)));
        QByteArray copy = packet.toByteArray();
        const auto decremented = decrementHopLimit(copy);
        FUZZ_CHECK(decremented.ok() == (info->hopLimit != 0));
        if (decremented) {
            FUZZ_CHECK(*decremented == info->hopLimit - 1);
            const auto after = inspectIpPacket(copy);
            FUZZ_CHECK(after.ok());
            FUZZ_CHECK(after->hopLimit == *decremented);
            FUZZ_CHECK(after->protocol == info->protocol);
        }
    }

    const quint16 whole = internetChecksum(packet);
    const qsizetype cut = size > 0 ? qsizetype(data[0]) % (packet.size() + 1) : 0;
    InternetChecksum pieces;
    pieces.add(packet.first(cut));
    pieces.add(packet.sliced(cut));
    FUZZ_CHECK(pieces.result() == whole);
    return 0;
}
