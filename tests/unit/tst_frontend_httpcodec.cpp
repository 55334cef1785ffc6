// HttpProxyCodec: what the HTTP proxy front end makes of request heads (CONNECT, absolute-form,
// origin-form with Host; every refusal with its status), how requests and responses are
// rewritten (hop-by-hop fields out, Host replaced, Via in, framing kept), the error responses,
// and the status a tunnel failure maps to.

#include "local/HttpProxyCodec.h"

#include <QtTest/QTest>

using namespace qmasque;

namespace {

Result<HttpProxyRequest> parse(QByteArrayView head)
{
    return parseProxyRequest(head);
}

} // namespace

class TstFrontendHttpCodec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void connectTargets_data()
    {
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::newRow("name") << QByteArray("example.com:443") << "example.com" << 443;
        QTest::newRow("ipv4") << QByteArray("192.0.2.1:8443") << "192.0.2.1" << 8443;
        QTest::newRow("ipv6") << QByteArray("[2001:db8::1]:443") << "2001:db8::1" << 443;
    }

    void connectTargets()
    {
        QFETCH(QByteArray, target);
        QFETCH(QString, host);
        QFETCH(int, port);
        const QByteArray head =
            "CONNECT " + target + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic eDp5\r\n\r\n";
        auto request = parse(head);
        QVERIFY2(request, qPrintable(request ? QString() : request.error().toString()));
        QCOMPARE(request->kind, HttpProxyRequest::Kind::Connect);
        QCOMPARE(request->host, host);
        QCOMPARE(request->port, quint16(port));
        QVERIFY(request->upstreamHead.isEmpty()); // nothing of the client's head goes upstream
        QVERIFY(request->body.finished());
    }

    void absoluteFormIsRewritten()
    {
        auto request = parse("GET http://Example.com:8080/a/b?q=1#frag HTTP/1.1\r\n"
                             "Host: wrong.example\r\n"
                             "User-Agent: test\r\n"
                             "Connection: keep-alive, X-Hop\r\n"
                             "X-Hop: 1\r\n"
                             "Proxy-Connection: keep-alive\r\n"
                             "Keep-Alive: timeout=5\r\n"
                             "TE: trailers\r\n"
                             "Upgrade: websocket\r\n"
                             "Proxy-Authorization: Basic eDp5\r\n"
                             "Accept: */*\r\n\r\n");
        QVERIFY(request);
        QCOMPARE(request->kind, HttpProxyRequest::Kind::Forward);
        QCOMPARE(request->host, QStringLiteral("Example.com"));
        QCOMPARE(request->port, quint16(8080));
        QVERIFY(!request->clientClose);
        QCOMPARE(request->upstreamHead, QByteArray("GET /a/b?q=1 HTTP/1.1\r\n"
                                                   "Host: Example.com:8080\r\n"
                                                   "User-Agent: test\r\n"
                                                   "Accept: */*\r\n"
                                                   "Connection: close\r\n"
                                                   "Via: 1.1 qmasque\r\n\r\n"));
    }

    void defaultsAndForms()
    {
        auto plain = parse("HEAD http://example.com HTTP/1.0\r\n\r\n");
        QVERIFY(plain);
        QCOMPARE(plain->port, quint16(80));
        QVERIFY(plain->http10 && plain->clientClose && plain->headRequest);
        QVERIFY(plain->upstreamHead.startsWith("HEAD / HTTP/1.0\r\nHost: example.com\r\n"));

        auto query = parse("GET http://[2001:db8::2]?x HTTP/1.1\r\nConnection: close\r\n\r\n");
        QVERIFY(query);
        QCOMPARE(query->host, QStringLiteral("2001:db8::2"));
        QVERIFY(query->clientClose);
        QVERIFY(query->upstreamHead.startsWith("GET /?x HTTP/1.1\r\nHost: [2001:db8::2]\r\n"));

        auto origin = parse("GET /index.html HTTP/1.1\r\nHost: example.org:81\r\n\r\n");
        QVERIFY(origin);
        QCOMPARE(origin->host, QStringLiteral("example.org"));
        QCOMPARE(origin->port, quint16(81));
        QVERIFY(origin->upstreamHead.startsWith("GET /index.html HTTP/1.1\r\n"));

        auto scheme = parse("GET HTTP://example.com/ HTTP/1.1\r\n\r\n");
        QVERIFY(scheme); // schemes are case-insensitive (RFC 3986, 3.1)
    }

    void bodies()
    {
        auto length = parse("POST http://e.com/ HTTP/1.1\r\nContent-Length: 5\r\n\r\n");
        QVERIFY(length);
        QCOMPARE(length->body.mode(), H1BodyDecoder::Mode::Length);
        QVERIFY(length->upstreamHead.contains("Content-Length: 5\r\n"));
        auto chunked = parse("POST http://e.com/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        QVERIFY(chunked);
        QCOMPARE(chunked->body.mode(), H1BodyDecoder::Mode::Chunked);
        QVERIFY(chunked->upstreamHead.contains("Transfer-Encoding: chunked\r\n"));
        auto none = parse("GET http://e.com/ HTTP/1.1\r\n\r\n");
        QVERIFY(none && none->body.finished());
    }

    void refusals_data()
    {
        QTest::addColumn<QByteArray>("head");
        QTest::addColumn<int>("status");
        QTest::addColumn<ErrorCode>("code");
        QTest::newRow("garbage") << QByteArray("\x16\x03\x01 junk\r\n\r\n") << 400
                                 << ErrorCode::MalformedHeader;
        QTest::newRow("bad field") << QByteArray("GET http://e.com/ HTTP/1.1\r\nNo colon\r\n\r\n")
                                   << 400 << ErrorCode::MalformedHeader;
        QTest::newRow("http/2") << QByteArray("PRI * HTTP/2.0\r\n\r\n") << 505
                                << ErrorCode::NotSupported;
        QTest::newRow("origin-form without host")
            << QByteArray("GET / HTTP/1.1\r\n\r\n") << 400 << ErrorCode::MalformedHeader;
        QTest::newRow("https") << QByteArray("GET https://e.com/ HTTP/1.1\r\n\r\n") << 400
                               << ErrorCode::BadTarget;
        QTest::newRow("ftp") << QByteArray("GET ftp://e.com/ HTTP/1.1\r\n\r\n") << 400
                             << ErrorCode::BadTarget;
        QTest::newRow("asterisk") << QByteArray("OPTIONS * HTTP/1.1\r\nHost: e.com\r\n\r\n") << 400
                                  << ErrorCode::BadTarget;
        QTest::newRow("userinfo") << QByteArray("GET http://u:p@e.com/ HTTP/1.1\r\n\r\n") << 400
                                  << ErrorCode::MalformedHeader;
        QTest::newRow("connect uri")
            << QByteArray("CONNECT http://e.com/ HTTP/1.1\r\n\r\n") << 400 << ErrorCode::BadTarget;
        QTest::newRow("connect no port")
            << QByteArray("CONNECT e.com HTTP/1.1\r\n\r\n") << 400 << ErrorCode::BadTarget;
        QTest::newRow("connect port 0")
            << QByteArray("CONNECT e.com:0 HTTP/1.1\r\n\r\n") << 400 << ErrorCode::BadTarget;
        QTest::newRow("bare ipv6") << QByteArray("CONNECT 2001:db8::1:443 HTTP/1.1\r\n\r\n") << 400
                                   << ErrorCode::BadTarget;
        QTest::newRow("no host") << QByteArray("GET http:///x HTTP/1.1\r\n\r\n") << 400
                                 << ErrorCode::BadTarget;
        QTest::newRow("both framings")
            << QByteArray("POST http://e.com/ HTTP/1.1\r\nContent-Length: 3\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n")
            << 400 << ErrorCode::MalformedHeader;
        QTest::newRow("gzip coding")
            << QByteArray("POST http://e.com/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n") << 501
            << ErrorCode::NotSupported;
        QTest::newRow("bad length")
            << QByteArray("POST http://e.com/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n") << 400
            << ErrorCode::MalformedHeader;
    }

    void refusals()
    {
        QFETCH(QByteArray, head);
        QFETCH(int, status);
        QFETCH(ErrorCode, code);
        auto request = parse(head);
        QVERIFY(!request);
        QCOMPARE(request.error().httpStatus, status);
        QCOMPARE(request.error().code, code);
        if (head.startsWith("GET https"))
            QVERIFY(request.error().detail.contains(QStringLiteral("CONNECT")));
    }

    void responses()
    {
        auto request = parse("GET http://e.com/ HTTP/1.1\r\n\r\n");
        QVERIFY(request);
        auto response = parseOriginResponse("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n"
                                            "Transfer-Encoding: chunked\r\nConnection: Foo\r\n"
                                            "Foo: bar\r\nKeep-Alive: 1\r\nX-Keep: y\r\n\r\n",
                                            *request);
        QVERIFY(response);
        QCOMPARE(response->body.mode(), H1BodyDecoder::Mode::Chunked);
        QVERIFY(!response->untilClose);
        QCOMPARE(clientResponseHead(*response, false),
                 QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Keep: y\r\n"
                            "Via: 1.1 qmasque\r\n\r\n"));
        QVERIFY(clientResponseHead(*response, true).endsWith("Connection: close\r\n\r\n"));

        auto unframed = parseOriginResponse("HTTP/1.1 200 OK\r\n\r\n", *request);
        QVERIFY(unframed && unframed->untilClose);
        auto interim = parseOriginResponse("HTTP/1.1 100 Continue\r\n\r\n", *request);
        QVERIFY(interim && interim->interim && interim->body.finished());
        QCOMPARE(clientResponseHead(*interim, true), QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
        auto noContent = parseOriginResponse("HTTP/1.1 204 No Content\r\n\r\n", *request);
        QVERIFY(noContent && noContent->body.finished() && !noContent->untilClose);
        auto head = parse("HEAD http://e.com/ HTTP/1.1\r\n\r\n");
        auto headResponse =
            parseOriginResponse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", *head);
        QVERIFY(headResponse && headResponse->body.finished());

        auto upgrade = parseOriginResponse("HTTP/1.1 101 Switching Protocols\r\n\r\n", *request);
        QVERIFY(!upgrade);
        QCOMPARE(upgrade.error().httpStatus, 502);
        auto bad = parseOriginResponse("HTTP/1.1 OK\r\n\r\n", *request);
        QVERIFY(!bad);
        QCOMPARE(bad.error().httpStatus, 502);
    }

    void errorResponses()
    {
        const QByteArray response =
            errorResponse(431, Error(ErrorCode::HeadTooLarge, QStringLiteral("too big")));
        QVERIFY(response.startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        QVERIFY(response.contains("Connection: close\r\n"));
        const qsizetype bodyStart = response.indexOf("\r\n\r\n") + 4;
        const QByteArray length =
            "Content-Length: " + QByteArray::number(response.size() - bodyStart) + "\r\n";
        QVERIFY(response.contains(length));
        QVERIFY(response.sliced(bodyStart).contains("head_too_large: too big"));
        QVERIFY(errorResponse(505, Error(ErrorCode::NotSupported))
                    .startsWith("HTTP/1.1 505 HTTP Version Not Supported\r\n"));
    }

    void tunnelErrorStatus_data()
    {
        QTest::addColumn<Error>("error");
        QTest::addColumn<int>("status");
        auto rejected = [](int status) {
            Error error(ErrorCode::HandshakeRejected);
            error.httpStatus = status;
            return error;
        };
        QTest::newRow("403") << rejected(403) << 403;
        QTest::newRow("407: ours, not the client's") << rejected(407) << 502;
        QTest::newRow("502") << rejected(502) << 502;
        QTest::newRow("503") << rejected(503) << 503;
        QTest::newRow("504") << rejected(504) << 504;
        QTest::newRow("429") << rejected(429) << 503;
        QTest::newRow("400") << rejected(400) << 400;
        QTest::newRow("404") << rejected(404) << 502;
        QTest::newRow("race timeout") << Error(ErrorCode::RaceTimeout) << 504;
        QTest::newRow("connect timeout") << Error(ErrorCode::ConnectTimeout) << 504;
        QTest::newRow("bad host") << Error(ErrorCode::BadHost) << 400;
        QTest::newRow("tls") << Error(ErrorCode::TlsPinMismatch) << 502;
        QTest::newRow("refused") << Error(ErrorCode::ConnectionRefused) << 502;
    }

    void tunnelErrorStatus()
    {
        QFETCH(Error, error);
        QFETCH(int, status);
        QCOMPARE(statusForTunnelError(error), status);
    }
};

QTEST_GUILESS_MAIN(TstFrontendHttpCodec)
#include "tst_frontend_httpcodec.moc"
