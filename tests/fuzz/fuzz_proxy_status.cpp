// libFuzzer target: structured fields (RFC 8941) and the Proxy-Status field (RFC 9209).
//
// Invariants: the parsers fail only with their documented codes; a parsed Proxy-Status,
// formatted by our generator, parses back to equal entries; a parsed sf-item, serialised, parses
// back equal; Capsule-Protocol agrees with the generic item parser.

#include "FuzzCheck.h"
#include "wire/ProxyStatus.h"
#include "wire/StructuredFields.h"

#include <QtCore/QByteArray>

#include <cstdint>

using namespace qmasque;
using namespace qmasque::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView field(reinterpret_cast<const char *>(data), qsizetype(size));

    const auto entries = parseProxyStatus(field);
    if (entries) {
        const QByteArray formatted = formatProxyStatus(*entries);
        const auto again = parseProxyStatus(formatted);
        FUZZ_CHECK(again.ok());
        FUZZ_CHECK(*again == *entries);
    } else {
        FUZZ_CHECK(entries.error().code == ErrorCode::MalformedProxyStatus);
    }

    const auto item = parseSfItem(field);
    if (item) {
        QByteArray serialised;
        appendSfBareItem(serialised, item->value);
        appendSfParameters(serialised, item->parameters);
        const auto again = parseSfItem(serialised);
        FUZZ_CHECK(again.ok());
        FUZZ_CHECK(*again == *item);
    } else {
        FUZZ_CHECK(item.error().code == ErrorCode::MalformedHeader);
    }

    const auto capsuleProtocol = parseCapsuleProtocol(field);
    FUZZ_CHECK(capsuleProtocol.ok() == (item.ok() && item->value.isBoolean()));
    if (capsuleProtocol)
        FUZZ_CHECK(*capsuleProtocol == item->value.boolean);

    const auto list = parseSfList(field);
    if (!list)
        FUZZ_CHECK(list.error().code == ErrorCode::MalformedHeader);
    // Every valid Proxy-Status is a valid list; every item is a one-member list.
    if (entries)
        FUZZ_CHECK(list.ok());
    if (item)
        FUZZ_CHECK(list.ok() && list->size() == 1);
    return 0;
}
