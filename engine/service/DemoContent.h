#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QStringView>

#include <optional>

namespace qmasque::demo {

// The demo HTTP server's generated files (README, "Demo"): the body of /SIZE is SIZE bytes with
// byte i = i mod 251. The period is prime, so a dropped, repeated or reordered block of any
// power-of-two size changes the checksum; any script can rebuild it:
//   python3 -c 'import sys; n=int(sys.argv[1]); sys.stdout.buffer.write(bytes(i % 251 for i in
//   range(n)))' 1048576
inline constexpr int kPeriod = 251;
// The largest file served: 1 GiB.
inline constexpr qint64 kMaxSize = qint64(1) << 30;

// patternBlock: at least `minimum` bytes of the pattern starting at offset 0; a view at
// (offset mod 251) of it gives the pattern from any offset. Built once.
const QByteArray &patternBlock();
// slice: `size` (<= 64 KiB) pattern bytes starting at `offset`, viewing patternBlock().
QByteArrayView slice(qint64 offset, qint64 size);

// parseSize: "/1M" -> 1048576, "/64M", "/100K", "/1G", "/12345"; nullopt when the path names
// no size or the size is above kMaxSize.
std::optional<qint64> parseSize(QStringView path);

// sha256Hex: the lower-case hex SHA-256 of the first `size` bytes of the pattern.
QByteArray sha256Hex(qint64 size);

} // namespace qmasque::demo
