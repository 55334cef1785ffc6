// The HTTP/1.1 codec: head delimiting and limits, request and status lines, field lines, and
// body framing (Content-Length, chunked split at every byte, close-delimited), good and bad.

#include "transport/h1/H1Codec.h"

#include <QtTest/QTest>

using namespace qmasque;

class TestH1Codec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void headEnd()
    {
        QCOMPARE(findHeadEnd("HTTP/1.1 200 OK\r\n\r\nbody", 100).value(), qsizetype(19));
        QCOMPARE(findHeadEnd("HTTP/1.1 200 OK\r\nA: b\r\n", 100).value(), qsizetype(0));
        QCOMPARE(findHeadEnd(QByteArray(100, 'x'), 100).error().code, ErrorCode::HeadTooLarge);
        // A head that ends just past the limit is too large as well.
        QCOMPARE(findHeadEnd(QByteArray(QByteArray(98, 'x') + "\r\n\r\n"), 100).error().code,
                 ErrorCode::HeadTooLarge);
    }

    void responseHead()
    {
        auto head = parseResponseHead("HTTP/1.1 101 Switching Protocols\r\n"
                                      "Connection: Upgrade\r\n"
                                      "Upgrade:  connect-udp \r\n"
                                      "Capsule-Protocol: ?1\r\n\r\n");
        QVERIFY(head.ok());
        QCOMPARE(head->status, 101);
        QCOMPARE(head->reason, QByteArray("Switching Protocols"));
        QCOMPARE(head->headers.size(), 3);
        QCOMPARE(head->headers[1], (Header{"upgrade", "connect-udp"}));
        QVERIFY(hasToken(head->headers, "connection", "upgrade"));
        QVERIFY(hasToken(head->headers, "Upgrade", "CONNECT-UDP"));
        QVERIFY(!hasToken(head->headers, "upgrade", "connect-ip"));
        QCOMPARE(parseResponseHead("HTTP/1.0 204\r\n\r\n")->status, 204); // no reason phrase
    }

    void badResponseHeads_data()
    {
        QTest::addColumn<QByteArray>("head");
        QTest::addColumn<int>("code");
        const int badStatus = int(ErrorCode::BadStatusLine);
        const int badHeader = int(ErrorCode::MalformedHeader);
        QTest::newRow("not http") << QByteArray("SSH-2.0-OpenSSH\r\n\r\n") << badStatus;
        QTest::newRow("letters") << QByteArray("HTTP/1.1 2OO OK\r\n\r\n") << badStatus;
        QTest::newRow("out of range") << QByteArray("HTTP/1.1 600 No\r\n\r\n") << badStatus;
        QTest::newRow("no space") << QByteArray("HTTP/1.1 200OK\r\n\r\n") << badStatus;
        QTest::newRow("http2") << QByteArray("HTTP/2 200 OK\r\n\r\n") << badStatus;
        QTest::newRow("no colon") << QByteArray("HTTP/1.1 200 OK\r\nbroken\r\n\r\n") << badHeader;
        QTest::newRow("space before colon")
            << QByteArray("HTTP/1.1 200 OK\r\nName : v\r\n\r\n") << badHeader;
        QTest::newRow("folding") << QByteArray("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n")
                                 << badHeader;
        QTest::newRow("bare LF") << QByteArray("HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\r\n")
                                 << badHeader;
        QTest::newRow("NUL") << QByteArrayLiteral("HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n")
                             << badHeader;
    }

    void badResponseHeads()
    {
        QFETCH(QByteArray, head);
        QFETCH(int, code);
        const auto parsed = parseResponseHead(head);
        QVERIFY(!parsed.ok());
        QCOMPARE(int(parsed.error().code), code);
    }

    void requestHead()
    {
        auto head = parseRequestHead("CONNECT [2001:db8::1]:443 HTTP/1.1\r\n"
                                     "Host: [2001:db8::1]:443\r\n"
                                     "Proxy-Authorization: Basic eA==\r\n\r\n");
        QVERIFY(head.ok());
        QCOMPARE(head->method, QByteArray("CONNECT"));
        QCOMPARE(head->target, QByteArray("[2001:db8::1]:443"));
        QCOMPARE(headerValue(head->headers, "proxy-authorization"), QByteArray("Basic eA=="));
        QCOMPARE(parseRequestHead("GET / HTTP/1.1 extra\r\n\r\n").error().code,
                 ErrorCode::MalformedHeader);
        QCOMPARE(parseRequestHead("G(T / HTTP/1.1\r\n\r\n").error().code,
                 ErrorCode::MalformedHeader);
        QCOMPARE(parseRequestHead("GET / SPDY/3\r\n\r\n").error().code, ErrorCode::MalformedHeader);
    }

    void fieldCapitalisation()
    {
        QByteArray out;
        appendField(out, "capsule-protocol", "?1");
        appendField(out, "proxy-authorization", "Basic eA==");
        QCOMPARE(out, QByteArray("Capsule-Protocol: ?1\r\nProxy-Authorization: Basic eA==\r\n"));
    }

    void contentLength()
    {
        auto decoder = H1BodyDecoder::forHeaders({{"content-length", "5"}}, true);
        QVERIFY(decoder.ok());
        QByteArray body;
        QCOMPARE(decoder->feed("abc", body).value(), qsizetype(3));
        QVERIFY(!decoder->finished());
        QCOMPARE(decoder->feed("deXTRA", body).value(), qsizetype(2)); // the rest is not body
        QVERIFY(decoder->finished());
        QCOMPARE(body, QByteArray("abcde"));

        QVERIFY(H1BodyDecoder::forHeaders({{"content-length", "0"}}, true)->finished());
        QCOMPARE(H1BodyDecoder::forHeaders({{"content-length", "-1"}}, true).error().code,
                 ErrorCode::MalformedHeader);
        QCOMPARE(H1BodyDecoder::forHeaders({{"content-length", "+4"}}, true).error().code,
                 ErrorCode::MalformedHeader);
        QCOMPARE(H1BodyDecoder::forHeaders({{"content-length", "4"}, {"content-length", "5"}}, true)
                     .error()
                     .code,
                 ErrorCode::MalformedHeader);
        QCOMPARE(H1BodyDecoder::forHeaders({{"transfer-encoding", "gzip"}}, true).error().code,
                 ErrorCode::MalformedHeader);
    }

    void framingDefaults()
    {
        QCOMPARE(H1BodyDecoder::forHeaders({}, true)->mode(), H1BodyDecoder::Mode::UntilClose);
        QVERIFY(H1BodyDecoder::forHeaders({}, false)->finished()); // a request without a body
        auto decoder = H1BodyDecoder::forHeaders({}, true);
        QByteArray body;
        QCOMPARE(decoder->feed("until the close", body).value(), qsizetype(15));
        QCOMPARE(body, QByteArray("until the close"));
        QVERIFY(!decoder->finished());
    }

    void chunkedSplitAtEveryByte()
    {
        const QByteArray wire = "4\r\nWiki\r\n6;name=value\r\npedia \r\nE\r\nin \r\n\r\nchunks."
                                "\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        const qsizetype bodyEnd = wire.size() - 4;
        for (qsizetype split = 0; split <= wire.size(); ++split) {
            auto decoder = H1BodyDecoder::forHeaders({{"transfer-encoding", "chunked"}}, true);
            QVERIFY(decoder.ok());
            QByteArray body;
            qsizetype used = decoder->feed(QByteArrayView(wire).first(split), body).value();
            used += decoder->feed(QByteArrayView(wire).sliced(used), body).value();
            QVERIFY2(decoder->finished(), qPrintable(QString::number(split)));
            QCOMPARE(used, bodyEnd);
            QCOMPARE(body, QByteArray("Wikipedia in \r\n\r\nchunks."));
        }
    }

    void badChunks_data()
    {
        QTest::addColumn<QByteArray>("wire");
        QTest::newRow("not hex") << QByteArray("zz\r\nab\r\n0\r\n\r\n");
        QTest::newRow("empty size") << QByteArray("\r\n");
        QTest::newRow("longer than size") << QByteArray("2\r\nabc\r\n0\r\n\r\n");
        QTest::newRow("LF only") << QByteArray("2\nab\r\n");
        QTest::newRow("endless size line") << QByteArray(5000, '1');
    }

    void badChunks()
    {
        QFETCH(QByteArray, wire);
        auto decoder = H1BodyDecoder::forHeaders({{"transfer-encoding", "chunked"}}, true);
        QByteArray body;
        const auto used = decoder->feed(wire, body);
        QVERIFY(!used.ok());
        QCOMPARE(used.error().code, ErrorCode::MalformedHeader);
    }
};

QTEST_GUILESS_MAIN(TestH1Codec)
#include "tst_h1_codec.moc"
