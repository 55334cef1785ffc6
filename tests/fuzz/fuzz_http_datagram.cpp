// libFuzzer target: HTTP Datagram payloads and the HTTP/3 Quarter Stream ID (RFC 9297, 2).
//
// Invariants: parse errors carry the documented codes; a parsed datagram re-encodes to the same
// bytes whenever its varints were minimal; stream ids are client-initiated bidirectional.

#include "FuzzCheck.h"
#include "wire/HttpDatagram.h"
#include "wire/Varint.h"

#include <QtCore/QByteArray>

#include <cstdint>

using namespace qmasque;
using namespace qmasque::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));

    const auto datagram = parseHttpDatagram(bytes);
    if (datagram) {
        const int idLength = int(bytes.size() - datagram->payload.size());
        FUZZ_CHECK(datagram->payload.data() == bytes.data() + idLength);
        QByteArray reencoded;
        FUZZ_CHECK(appendHttpDatagram(reencoded, datagram->contextId, datagram->payload));
        if (idLength == varintLength(datagram->contextId))
            FUZZ_CHECK(reencoded == bytes);
    } else {
        FUZZ_CHECK(datagram.error().code == ErrorCode::MalformedDatagram);
    }

    const auto h3 = parseH3Datagram(bytes);
    if (h3) {
        FUZZ_CHECK(isClientBidiStreamId(h3->streamId));
        QByteArray prefix;
        FUZZ_CHECK(appendQuarterStreamId(prefix, h3->streamId).ok());
        char raw[8];
        FUZZ_CHECK(encodeQuarterStreamId(h3->streamId, raw) == prefix.size());
        const qsizetype prefixLength = bytes.size() - h3->httpDatagramPayload.size();
        if (prefixLength == prefix.size())
            FUZZ_CHECK(prefix == bytes.first(prefixLength));
    } else {
        const ErrorCode code = h3.error().code;
        FUZZ_CHECK(code == ErrorCode::MalformedDatagram || code == ErrorCode::InvalidStreamId);
    }
    return 0;
}
