// The tcp-forward front end over each of h3, h2 and h1: three clients at once send 8 MiB each
// through it to a local TCP echo (tests/support/FrontEndTargets.py) and get every byte back
// intact. Over h2 and h3 the clients half-close: their FIN reaches the echo through the tunnel,
// which finishes echoing and sends its own FIN back, which the clients see as EOF after the
// last byte. HTTP/1.1 cannot half-close; there the clients read their bytes and close, and the
// tunnels end once quiet after the clients' FIN (h1FinGraceMs). A target
// that refuses resets the local connection.

#include "local/TcpForwarder.h"
#include "support/FrontEndTestBench.h"

#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

constexpr int kClientBytes = 8 * 1024 * 1024;
constexpr int kClients = 3;

} // namespace

class TstFrontendTcp : public QObject
{
    Q_OBJECT

private:
    FrontEndTestBench m_bench;
    QProcess m_echo;
    quint16 m_echoPort = 0;

    std::unique_ptr<TcpForwarder> forwarder(TransportKind kind, quint16 targetPort)
    {
        const Forward forward{Endpoint{QStringLiteral("127.0.0.1"), 0},
                              Endpoint{QStringLiteral("127.0.0.1"), targetPort}};
        TcpForwarderOptions options;
        options.h1FinGraceMs = 500;
        auto tcp = std::make_unique<TcpForwarder>(m_bench.client(kind), forward, options);
        const Status started = tcp->start();
        if (!started)
            qWarning("tcp-forward: %s", qPrintable(started.error().toString()));
        return started ? std::move(tcp) : nullptr;
    }

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<qmasque::Error>();
        if (findTool(QStringLiteral("python3")).isEmpty())
            QSKIP("python3 is needed");
        QVERIFY2(m_bench.start(), qPrintable(m_bench.error));
        QString error;
        QVERIFY2(startTarget(m_echo, {QStringLiteral("echo")}, &m_echoPort, &error),
                 qPrintable(error));
    }

    void cleanupTestCase() { stopProcess(m_echo); }

    void echoAndHalfClose_data()
    {
        QTest::addColumn<TransportKind>("kind");
        QTest::newRow("h3") << TransportKind::H3;
        QTest::newRow("h2") << TransportKind::H2;
        QTest::newRow("h1") << TransportKind::H1;
    }

    void echoAndHalfClose()
    {
        QFETCH(TransportKind, kind);
        auto tcp = forwarder(kind, m_echoPort);
        QVERIFY(tcp);
        const bool halfClose = kind != TransportKind::H1;
        std::vector<std::unique_ptr<QProcess>> clients;
        for (int i = 0; i < kClients; ++i) {
            auto client = std::make_unique<QProcess>();
            QStringList arguments = {frontEndTargetsScript(), QStringLiteral("client"),
                                     QString::number(tcp->boundEndpoint().port),
                                     QString::number(kClientBytes)};
            if (!halfClose)
                arguments << QStringLiteral("--no-half-close");
            client->start(findTool(QStringLiteral("python3")), arguments);
            QVERIFY(client->waitForStarted(10000));
            clients.push_back(std::move(client));
        }
        for (auto &client : clients) {
            QVERIFY2(runToEnd(*client, 60000), "the client did not finish");
            const QList<QByteArray> lines = client->readAllStandardOutput().trimmed().split('\n');
            QVERIFY2(client->exitCode() == 0 && lines.size() == 2,
                     client->readAllStandardError().constData());
            const QByteArray sent = lines[0].mid(5);
            // With half-close, the EOF the client waited for is the echo's FIN, through the
            // tunnel: every byte came back before it.
            QCOMPARE(lines[1], "RECEIVED " + QByteArray::number(kClientBytes) + ' ' + sent);
        }
        QCOMPARE(tcp->acceptedClients(), quint64(kClients));
        QTRY_COMPARE_WITH_TIMEOUT(tcp->activeClients(), 0, 10000);
        tcp->stop();
    }

    void refusedTargetResetsTheClient()
    {
        auto tcp = forwarder(TransportKind::H2, freeTcpPort());
        QVERIFY(tcp);
        bool closed = false;
        const QByteArray received =
            rawExchange(tcp->boundEndpoint().port, "hello", false, &closed, 10000);
        QVERIFY(closed);
        QVERIFY(received.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(tcp->failedOpens(), quint64(1), 5000);
        QCOMPARE(tcp->activeClients(), 0);
        QVERIFY(tcp->description().startsWith(QStringLiteral("tcp-forward 127.0.0.1:")));
    }
};

QTEST_GUILESS_MAIN(TstFrontendTcp)
#include "tst_frontend_tcp.moc"
