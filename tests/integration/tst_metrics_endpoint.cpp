// GET /metrics over real HTTP/1.1 with curl, and the endpoint's refusals.

#include "local/MetricsEndpoint.h"

#include <QtCore/QProcess>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QTest>

using namespace qmasque;

class tst_MetricsEndpoint : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void curlScrapes();
    void refusals_data();
    void refusals();
    void slowClientIsCut();

private:
    QByteArray rawRequest(quint16 port, const QByteArray &request);
};

namespace {

struct Curl
{
    int exitCode = -1;
    QByteArray out;
};

Curl runCurl(const QStringList &args)
{
    QProcess curl;
    curl.start(QStringLiteral("curl"), args);
    // The endpoint lives on this thread: keep its event loop running while curl works.
    if (!QTest::qWaitFor([&curl] { return curl.state() == QProcess::NotRunning; }, 20000))
        return {};
    return {curl.exitCode(), curl.readAllStandardOutput()};
}

} // namespace

QByteArray tst_MetricsEndpoint::rawRequest(quint16 port, const QByteArray &request)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return {};
    socket.write(request);
    QByteArray reply;
    const bool closed = QTest::qWaitFor(
        [&] {
            reply += socket.readAll();
            return socket.state() == QAbstractSocket::UnconnectedState;
        },
        10000);
    if (!closed)
        return "no close: " + reply;
    return reply + socket.readAll();
}

void tst_MetricsEndpoint::curlScrapes()
{
    int renders = 0;
    MetricsEndpoint endpoint([&renders] {
        ++renders;
        return QByteArray("# TYPE qmasque_up gauge\nqmasque_up 1\n# EOF\n");
    });
    QVERIFY(endpoint.listen(QHostAddress::LocalHost, 0).ok());
    const QString url = QStringLiteral("http://127.0.0.1:%1/metrics").arg(endpoint.serverPort());
    const Curl scrape =
        runCurl({QStringLiteral("-sS"), QStringLiteral("-D"), QStringLiteral("-"), url});
    QCOMPARE(scrape.exitCode, 0);
    QVERIFY(scrape.out.startsWith("HTTP/1.1 200"));
    QVERIFY(scrape.out.contains("application/openmetrics-text; version=1.0.0"));
    QVERIFY(scrape.out.endsWith("qmasque_up 1\n# EOF\n"));
    QCOMPARE(renders, 1);
    QCOMPARE(endpoint.scrapes(), quint64(1));
    const Curl missing =
        runCurl({QStringLiteral("-s"), QStringLiteral("-o"), QStringLiteral("/dev/null"),
                 QStringLiteral("-w"), QStringLiteral("%{http_code}"),
                 QStringLiteral("http://127.0.0.1:%1/").arg(endpoint.serverPort())});
    QCOMPARE(missing.out, QByteArray("404"));
    QCOMPARE(renders, 1);
}

void tst_MetricsEndpoint::refusals_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QByteArray>("status");
    QTest::newRow("post") << QByteArray("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                          << QByteArray("405");
    QTest::newRow("garbage") << QByteArray("\x16\x03\x01 not http\r\n\r\n") << QByteArray("400");
    QTest::newRow("too large") << QByteArray("GET /metrics HTTP/1.1\r\nX: ") + QByteArray(9000, 'a')
                               << QByteArray("431");
    QTest::newRow("head") << QByteArray("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                          << QByteArray("200");
}

void tst_MetricsEndpoint::refusals()
{
    QFETCH(QByteArray, request);
    QFETCH(QByteArray, status);
    MetricsEndpoint endpoint([] { return QByteArray("x 1\n# EOF\n"); });
    QVERIFY(endpoint.listen(QHostAddress::LocalHost, 0).ok());
    const QByteArray reply = rawRequest(endpoint.serverPort(), request);
    QVERIFY2(reply.startsWith(QByteArray("HTTP/1.1 " + status)), reply.left(40).constData());
    if (request.startsWith("HEAD"))
        QVERIFY(reply.endsWith("\r\n\r\n")); // no body
}

void tst_MetricsEndpoint::slowClientIsCut()
{
    MetricsEndpoint endpoint([] { return QByteArray(); });
    QVERIFY(endpoint.listen(QHostAddress::LocalHost, 0).ok());
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, endpoint.serverPort());
    QVERIFY(socket.waitForConnected(5000));
    socket.write("GET /metr");
    QTRY_COMPARE_WITH_TIMEOUT(socket.state(), QAbstractSocket::UnconnectedState, 9000);
    const Status busy = MetricsEndpoint([] {
                            return QByteArray();
                        }).listen(QHostAddress::LocalHost, endpoint.serverPort());
    QCOMPARE(busy.error().code, ErrorCode::AddressInUse);
}

QTEST_GUILESS_MAIN(tst_MetricsEndpoint)
#include "tst_metrics_endpoint.moc"
