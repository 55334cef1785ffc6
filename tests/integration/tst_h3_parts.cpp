// The pure pieces of the HTTP/3 transport, without a network: the SETTINGS sniffer (every split
// point), the send buffer (pointer stability, accounting), the datagram queue bound, the header
// mapping and its refusals.

#include "transport/h3/H3Headers.h"
#include "transport/h3/H3SendBuffer.h"
#include "transport/h3/H3SettingsSniffer.h"
#include "transport/h3/QuicDatagramQueue.h"

#include <QtTest/QTest>

#include <vector>

using namespace qmasque;
using namespace qmasque::h3;

namespace {

// controlStream: stream type 0x00, then SETTINGS (0x04) with QPACK_MAX_TABLE_CAPACITY 4096,
// optionally ENABLE_CONNECT_PROTOCOL (0x08) = `connect`, and H3_DATAGRAM (0x33) = 1.
QByteArray controlStream(std::optional<int> connect)
{
    QByteArray settings = QByteArray::fromHex("01"
                                              "5000"); // id 1, value 4096 (2-byte varint)
    if (connect)
        settings += char(0x08) + QByteArray(1, char(*connect));
    settings += QByteArray::fromHex("33"
                                    "01");
    QByteArray stream = QByteArray::fromHex("00"
                                            "04");
    stream += char(settings.size());
    stream += settings;
    stream += QByteArray::fromHex("07"
                                  "01"
                                  "00"); // a GOAWAY after it: not read
    return stream;
}

QByteArray field(const nghttp3_nv &nv, bool name)
{
    return name ? QByteArray(reinterpret_cast<const char *>(nv.name), qsizetype(nv.namelen))
                : QByteArray(reinterpret_cast<const char *>(nv.value), qsizetype(nv.valuelen));
}

} // namespace

class TstH3Parts : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sniffer_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<std::optional<bool>>("expected");
        QTest::newRow("enabled") << controlStream(1) << std::optional<bool>(true);
        QTest::newRow("disabled") << controlStream(0) << std::optional<bool>(false);
        QTest::newRow("absent") << controlStream(std::nullopt) << std::optional<bool>(false);
        QTest::newRow("other stream type") << QByteArray::fromHex("02"
                                                                  "0408"
                                                                  "01")
                                           << std::optional<bool>();
    }

    void sniffer()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(std::optional<bool>, expected);
        // Every split point, as QUIC may deliver the stream in any pieces.
        for (qsizetype split = 0; split <= bytes.size(); ++split) {
            H3SettingsSniffer sniffer;
            const auto *data = reinterpret_cast<const uint8_t *>(bytes.constData());
            sniffer.feed(3, data, size_t(split));
            sniffer.feed(3, data + split, size_t(bytes.size() - split));
            QCOMPARE(sniffer.enableConnectProtocol(), expected);
        }
        // Byte by byte, interleaved with an unrelated stream.
        H3SettingsSniffer sniffer;
        const QByteArray encoder = QByteArray::fromHex("02"
                                                       "3fe11f");
        for (qsizetype i = 0; i < bytes.size(); ++i) {
            sniffer.feed(7, reinterpret_cast<const uint8_t *>(bytes.constData()) + i, 1);
            if (i < encoder.size())
                sniffer.feed(11, reinterpret_cast<const uint8_t *>(encoder.constData()) + i, 1);
        }
        QCOMPARE(sniffer.enableConnectProtocol(), expected);
    }

    void snifferBounded()
    {
        H3SettingsSniffer sniffer;
        // SETTINGS claiming a huge length: given up, never buffered.
        const QByteArray bogus = QByteArray::fromHex("00"
                                                     "04"
                                                     "bfffffff");
        sniffer.feed(3, reinterpret_cast<const uint8_t *>(bogus.constData()), size_t(bogus.size()));
        QVERIFY(sniffer.done());
        QCOMPARE(sniffer.enableConnectProtocol(), std::nullopt);
    }

    void sendBuffer()
    {
        H3SendBuffer buffer;
        QByteArray expected;
        for (int i = 0; i < 40; ++i) {
            const QByteArray piece(1000 + i * 997, char('a' + i % 26));
            buffer.append(piece);
            expected += piece;
        }
        QCOMPARE(buffer.unsentBytes(), expected.size());
        QCOMPARE(buffer.bufferedBytes(), expected.size());

        // Hand out in small slices; the handed-out memory must stay valid while more is
        // appended (nghttp3 keeps pointing at it until acknowledged).
        std::vector<nghttp3_vec> handed;
        QByteArray seen;
        nghttp3_vec vectors[4];
        for (int round = 0; round < 1000; ++round) {
            const size_t count = buffer.take(vectors, 4, 5000);
            if (count == 0)
                break;
            qint64 total = 0;
            for (size_t i = 0; i < count; ++i) {
                handed.push_back(vectors[i]);
                total += qint64(vectors[i].len);
            }
            QVERIFY(total <= 5000);
            if (round < 20) {
                buffer.append(QByteArray(10, 'x')); // grows while pointers are out
                expected += QByteArray(10, 'x');
            }
        }
        for (const nghttp3_vec &vector : handed)
            seen.append(reinterpret_cast<const char *>(vector.base), qsizetype(vector.len));
        QCOMPARE(seen, expected);
        QCOMPARE(buffer.unsentBytes(), 0);
        QCOMPARE(buffer.bufferedBytes(), expected.size());
        buffer.acknowledge(quint64(expected.size() / 2));
        QCOMPARE(buffer.bufferedBytes(), expected.size() - expected.size() / 2);
        buffer.acknowledge(quint64(expected.size()));
        QCOMPARE(buffer.bufferedBytes(), 0);
        // Nothing more to take; a new append is taken from its first byte.
        QCOMPARE(buffer.take(vectors, 4, 100), size_t(0));
        buffer.append("tail");
        QCOMPARE(buffer.take(vectors, 4, 100), size_t(1));
        QCOMPARE(
            QByteArray(reinterpret_cast<const char *>(vectors[0].base), qsizetype(vectors[0].len)),
            QByteArray("tail"));
    }

    void datagramQueue()
    {
        QuicDatagramQueue queue(3);
        QVERIFY(queue.isEmpty());
        QVERIFY(queue.push("\x01", "a"));
        QVERIFY(queue.push("\x02", "bb"));
        QVERIFY(queue.push({}, "ccc"));
        QVERIFY(queue.isFull());
        QVERIFY(!queue.push("\x04", "d")); // full means refused, never grown
        QCOMPARE(queue.size(), 3);
        QCOMPARE(QByteArray(reinterpret_cast<const char *>(queue.front().data()),
                            qsizetype(queue.front().size())),
                 QByteArray("\x01"
                            "a"));
        queue.pop();
        QVERIFY(queue.push("\x05", "eeeee")); // wraps around
        const char *const expected[] = {"\x02"
                                        "bb",
                                        "ccc",
                                        "\x05"
                                        "eeeee"};
        for (const char *value : expected) {
            QCOMPARE(QByteArray(reinterpret_cast<const char *>(queue.front().data()),
                                qsizetype(queue.front().size())),
                     QByteArray(value));
            queue.pop();
        }
        QVERIFY(queue.isEmpty());
    }

    void requestMapping()
    {
        Request extended;
        extended.protocol = "connect-ip";
        extended.authority = "proxy.example:443";
        extended.path = "/.well-known/masque/ip/*/*/";
        extended.headers = {{"Capsule-Protocol", "?1"}};
        auto block = requestHeaders(extended);
        QVERIFY(block);
        QStringList fields;
        for (const nghttp3_nv &nv : block->fields)
            fields << QString::fromLatin1(field(nv, true) + '=' + field(nv, false));
        QCOMPARE(fields, QStringList({QStringLiteral(":method=CONNECT"),
                                      QStringLiteral(":protocol=connect-ip"),
                                      QStringLiteral(":scheme=https"),
                                      QStringLiteral(":authority=proxy.example:443"),
                                      QStringLiteral(":path=/.well-known/masque/ip/*/*/"),
                                      QStringLiteral("capsule-protocol=?1")}));

        Request classic;
        classic.authority = "203.0.113.7:22";
        block = requestHeaders(classic);
        QVERIFY(block);
        QCOMPARE(block->fields.size(), size_t(2)); // RFC 9114, 4.4: no :scheme, no :path
        QCOMPARE(field(block->fields[1], false), QByteArray("203.0.113.7:22"));

        Request injected = extended;
        injected.path = "/a\r\nb";
        QCOMPARE(requestHeaders(injected).error().code, ErrorCode::HeaderInjection);
        injected = extended;
        injected.headers = {{"x", QByteArray("a\0b", 3)}};
        QCOMPARE(requestHeaders(injected).error().code, ErrorCode::HeaderInjection);
        injected.headers = {{"", "empty name"}};
        QCOMPARE(requestHeaders(injected).error().code, ErrorCode::HeaderInjection);
        injected.headers = {{"Transfer-Encoding", "chunked"}};
        QCOMPARE(requestHeaders(injected).error().code, ErrorCode::ReservedHeader);
        injected.headers = {{":authority", "spoofed"}};
        QCOMPARE(requestHeaders(injected).error().code, ErrorCode::ReservedHeader);

        auto response = responseHeaders(Response{403, {{"proxy-status", "x; error=denied"}}});
        QVERIFY(response);
        QCOMPARE(field(response->fields[0], true), QByteArray(":status"));
        QCOMPARE(field(response->fields[0], false), QByteArray("403"));
        QCOMPARE(field(response->fields[1], false), QByteArray("x; error=denied"));
        QCOMPARE(responseHeaders(Response{42, {}}).error().code, ErrorCode::InvalidArgument);
    }

    void fieldCollector()
    {
        H3FieldCollector collector;
        collector.server = true;
        collector.add(":method", "CONNECT");
        collector.add(":protocol", "connect-udp");
        collector.add(":path", "/udp/192.0.2.1/53/");
        collector.add("capsule-protocol", "?1");
        QCOMPARE(collector.request.method, QByteArray("CONNECT"));
        QCOMPARE(collector.request.protocol, QByteArray("connect-udp"));
        QCOMPARE(collector.request.headers.size(), 1);
        collector.clear();
        collector.server = false;
        collector.add(":status", "bogus");
        QCOMPARE(collector.response.status, 0);
        collector.add(":status", "200");
        QCOMPARE(collector.response.status, 200);
    }
};

QTEST_GUILESS_MAIN(TstH3Parts)
#include "tst_h3_parts.moc"
