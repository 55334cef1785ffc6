// libFuzzer target: the incremental capsule decoder (RFC 9297, 3.2).
//
// Input: byte 0 picks the size limit, byte 1 seeds the chunking, the rest is the stream.
// Invariants: any chunking yields the same capsules, the same error and the same finish() result
// as one-shot decoding; every capsule lies where its header says in the stream and re-encodes to
// those bytes when its header varints are minimal; DATAGRAM capsule values re-encode likewise.

#include "FuzzCheck.h"
#include "wire/Capsule.h"
#include "wire/CapsuleDecoder.h"
#include "wire/HttpDatagram.h"
#include "wire/Varint.h"

#include <QtCore/QByteArray>
#include <QtCore/QList>

#include <cstdint>

using namespace qmasque;
using namespace qmasque::wire;

namespace {

struct Decoded
{
    quint64 type;
    QByteArray value;
    qsizetype offset; // of the value in the stream, one-shot decoding only
};

struct Outcome
{
    QList<Decoded> capsules;
    bool fedOk = true;
    ErrorCode feedError = ErrorCode::Internal;
    bool finishedOk = true;
    ErrorCode finishError = ErrorCode::Internal;
};

Outcome decode(QByteArrayView stream, quint64 limit, quint8 chunkSeed, bool oneShot)
{
    Outcome out;
    CapsuleDecoder decoder(limit);
    auto sink = [&](const CapsuleView &c) {
        const qsizetype offset = oneShot ? c.value.data() - stream.data() : -1;
        out.capsules.append(Decoded{c.type, c.value.toByteArray(), offset});
    };
    qsizetype pos = 0;
    quint32 state = chunkSeed | 0x100u;
    while (pos < stream.size() && out.fedOk) {
        qsizetype size = stream.size() - pos;
        if (!oneShot) {
            // A cheap LCG picks chunk sizes from 0 (empty chunks too) to 64 bytes.
            state = state * 1103515245u + 12345u;
            size = qMin<qsizetype>(size, (state >> 16) % 65);
        }
        const Status s = decoder.feed(stream.sliced(pos, size), sink);
        if (!s) {
            out.fedOk = false;
            out.feedError = s.error().code;
        }
        pos += size;
    }
    const Status f = decoder.finish();
    out.finishedOk = f.ok();
    if (!f)
        out.finishError = f.error().code;
    FUZZ_CHECK(out.fedOk || decoder.hasFailed());
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    // Limits from tiny to the default, so capsule_too_large is reached often.
    const quint64 limit = data[0] == 0xff ? CapsuleDecoder::kDefaultMaxCapsuleLength : data[0];
    const quint8 chunkSeed = data[1];
    const QByteArrayView stream(reinterpret_cast<const char *>(data + 2), qsizetype(size - 2));

    const Outcome whole = decode(stream, limit, chunkSeed, true);
    const Outcome chunked = decode(stream, limit, chunkSeed, false);

    FUZZ_CHECK(whole.fedOk == chunked.fedOk);
    FUZZ_CHECK(whole.fedOk || whole.feedError == chunked.feedError);
    FUZZ_CHECK(whole.finishedOk == chunked.finishedOk);
    FUZZ_CHECK(whole.finishedOk || whole.finishError == chunked.finishError);
    FUZZ_CHECK(whole.capsules.size() == chunked.capsules.size());
    if (!whole.fedOk)
        FUZZ_CHECK(whole.feedError == ErrorCode::CapsuleTooLarge);
    if (whole.fedOk && !whole.finishedOk)
        FUZZ_CHECK(whole.finishError == ErrorCode::TruncatedCapsule);

    qsizetype expectedStart = 0;
    for (qsizetype i = 0; i < whole.capsules.size(); ++i) {
        const Decoded &a = whole.capsules[i];
        const Decoded &b = chunked.capsules[i];
        FUZZ_CHECK(a.type == b.type && a.value == b.value);
        FUZZ_CHECK(quint64(a.value.size()) <= limit);
        // The header sits right before the value, right after the previous capsule.
        const auto header = parseCapsuleHeader(stream.sliced(expectedStart));
        FUZZ_CHECK(header.has_value());
        FUZZ_CHECK(header->type == a.type && header->length == quint64(a.value.size()));
        FUZZ_CHECK(expectedStart + header->headerLength == a.offset);
        const qsizetype total = header->headerLength + a.value.size();
        const bool minimal =
            header->headerLength == varintLength(a.type) + varintLength(quint64(a.value.size()));
        if (minimal) {
            QByteArray reencoded;
            FUZZ_CHECK(appendCapsule(reencoded, a.type, a.value));
            FUZZ_CHECK(reencoded == stream.sliced(expectedStart, total));
        }
        if (a.type == quint64(CapsuleType::Datagram)) {
            const auto datagram = parseHttpDatagram(a.value);
            FUZZ_CHECK(datagram.ok() == decodeVarint(a.value).has_value());
            if (datagram.ok()) {
                QByteArray reencoded;
                FUZZ_CHECK(appendHttpDatagram(reencoded, datagram->contextId, datagram->payload));
                if (varintLength(datagram->contextId) == a.value.size() - datagram->payload.size())
                    FUZZ_CHECK(reencoded == a.value);
            }
        }
        expectedStart += total;
    }
    // Clean decoding consumed everything; otherwise the rest is one partial or refused capsule.
    if (whole.fedOk && whole.finishedOk)
        FUZZ_CHECK(expectedStart == stream.size());
    return 0;
}
