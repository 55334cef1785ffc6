// HTTP Datagrams (RFC 9297) as QUIC DATAGRAM frames (RFC 9221): 100 000 round trips through
// the echo server with the loss reported and every drop accounted for, size limits, and
// datagrams for streams nobody owns.

#include "support/H3TestClient.h"
#include "support/H3TestServer.h"
#include "support/TestPki.h"
#include "transport/h3/H3ServerConnection.h"
#include "transport/h3/H3Transport.h"
#include "wire/Varint.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QTimer>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using namespace qmasque;
using namespace qmasque::test;

namespace {

Request connectUdp()
{
    Request request;
    request.protocol = "connect-udp";
    request.authority = "localhost";
    request.path = "/echo";
    request.headers = {{"capsule-protocol", "?1"}};
    return request;
}

// payload: context id 0 (RFC 9298, 4), a sequence number, filler up to `size` bytes.
QByteArray payload(quint32 sequence, qsizetype size)
{
    QByteArray out(size, char('a' + sequence % 26));
    out[0] = 0;
    for (int i = 0; i < 4; ++i)
        out[1 + i] = char((sequence >> (8 * i)) & 0xff);
    return out;
}

quint32 sequenceOf(QByteArrayView data)
{
    quint32 sequence = 0;
    for (int i = 0; i < 4; ++i)
        sequence |= quint32(quint8(data[1 + i])) << (8 * i);
    return sequence;
}

} // namespace

class TstH3Datagrams : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<H3TestServer> m_server;
    std::unique_ptr<H3Transport> m_client;
    std::unique_ptr<H3RecordingHandler> m_handler;

    bool start()
    {
        m_server = std::make_unique<H3TestServer>();
        if (!m_server->listen(QHostAddress::LocalHost))
            return false;
        Error error;
        m_client.reset(connectH3(h3ClientOptions(m_server->port()), nullptr, &error));
        if (!m_client)
            return false;
        m_handler = std::make_unique<H3RecordingHandler>(m_client.get());
        const auto id = m_client->submitRequest(connectUdp());
        if (!id)
            return false;
        m_handler->id = *id;
        return bool(m_client->setStreamHandler(*id, m_handler.get()));
    }

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<qmasque::Error>();
        QVERIFY2(TestPki::instance().isValid(), qPrintable(TestPki::instance().error));
    }

    void cleanup()
    {
        m_handler.reset();
        m_client.reset();
        m_server.reset();
    }

    void roundTrip()
    {
        QVERIFY(start());
        QTRY_VERIFY(m_handler->response.has_value());
        const StreamId id = m_handler->id;
        QVERIFY(m_client->peerSettings().h3Datagram);
        const qint64 limit = m_client->maxDatagramPayload(id);
        QVERIFY2(limit >= 1100, qPrintable(QString::number(limit)));

        constexpr quint32 kCount = 100000;
        constexpr qint64 kWindow = 512; // datagrams in flight
        quint32 sent = 0;
        quint64 calls = 0;
        quint64 refused = 0;
        quint32 received = 0;
        quint32 assumedLost = 0;
        bool wrongStream = false;
        bool malformed = false;
        QElapsedTimer sinceProgress;
        sinceProgress.start();

        connect(m_client.get(), &HttpConnection::datagramReceived, this,
                [&](StreamId streamId, QByteArrayView data) {
                    wrongStream = wrongStream || streamId != id;
                    malformed = malformed || data.size() < 5 || data[0] != 0 ||
                                data != payload(sequenceOf(data), data.size());
                    ++received;
                    sinceProgress.restart();
                });
        QTimer pump;
        pump.setInterval(0);
        connect(&pump, &QTimer::timeout, this, [&] {
            // Keep a bounded number in flight; a silence counts what is outstanding as lost.
            if (sent - received - assumedLost > 0 && sinceProgress.elapsed() > 200) {
                assumedLost = sent - received;
                sinceProgress.restart();
            }
            while (sent < kCount && qint64(sent) - received - assumedLost < kWindow) {
                const qsizetype size = 16 + qsizetype(sent % 1100);
                ++calls;
                if (m_client->sendDatagram(id, payload(sent, size))) {
                    ++sent;
                } else {
                    ++refused; // queue full: counted by the transport; retry later
                    break;
                }
            }
        });
        QElapsedTimer clock;
        clock.start();
        pump.start();
        QTRY_VERIFY_WITH_TIMEOUT(
            sent == kCount && (received + assumedLost >= sent || sinceProgress.elapsed() > 1000),
            120000);
        pump.stop();
        // Late echoes still on their way are let in.
        QTRY_VERIFY_WITH_TIMEOUT(m_server->datagramsEchoed() + m_server->echoDatagramFailures() ==
                                     m_server->lastConnection()->stats().datagramsReceived,
                                 5000);
        QTRY_COMPARE_WITH_TIMEOUT(m_server->lastConnection()->stats().datagramsSent,
                                  m_server->datagramsEchoed(), 5000);
        const double seconds = clock.elapsed() / 1000.0;

        QVERIFY(!wrongStream);
        QVERIFY(!malformed);
        const TransportStats client = m_client->stats();
        const TransportStats server = m_server->lastConnection()->stats();
        // Every sendDatagram() call either went out or was counted as a drop.
        QCOMPARE(calls, client.datagramsSent + client.datagramDrops.total());
        QCOMPARE(refused, client.datagramDrops.queueFull);
        QCOMPARE(client.datagramDrops.tooLarge, quint64(0));
        QCOMPARE(quint64(sent), client.datagramsSent);
        // The server echoed what it received, or counted why not.
        QCOMPARE(server.datagramsReceived,
                 m_server->datagramsEchoed() + m_server->echoDatagramFailures());
        QCOMPARE(server.datagramsSent + server.datagramDrops.total(),
                 m_server->datagramsEchoed() + m_server->echoDatagramFailures());
        QCOMPARE(client.datagramsReceived, quint64(received));
        QCOMPARE(client.datagramDrops.unknownStream + client.datagramDrops.malformed, quint64(0));

        const quint64 lostUp = client.datagramsSent - server.datagramsReceived;
        const quint64 lostDown = server.datagramsSent - client.datagramsReceived;
        const double loss = double(kCount - received) / kCount;
        qInfo("%u datagrams in %.2f s (%.0f/s round trips): %u echoed, lost %llu up + %llu down, "
              "server drops %llu; loss %.3f%%; %llu queue-full retries",
              kCount, seconds, kCount / seconds, received, qulonglong(lostUp), qulonglong(lostDown),
              qulonglong(server.datagramDrops.total()), loss * 100, qulonglong(refused));
        QVERIFY2(loss < 0.05, qPrintable(QString::number(loss)));
    }

    void sizeLimits()
    {
        QVERIFY(start());
        QTRY_VERIFY(m_handler->response.has_value());
        const StreamId id = m_handler->id;
        const qint64 limit = m_client->maxDatagramPayload(id);
        QVERIFY(limit > 0);
        QVERIFY(limit <= 65535);
        QSignalSpy echoed(m_client.get(), &HttpConnection::datagramReceived);
        QVERIFY(m_client->sendDatagram(id, payload(1, limit)));
        QTRY_COMPARE(echoed.size(), 1);
        const Status tooLarge = m_client->sendDatagram(id, payload(2, limit + 1));
        QVERIFY(!tooLarge);
        QCOMPARE(tooLarge.error().code, ErrorCode::DatagramTooLarge);
        QCOMPARE(m_client->stats().datagramDrops.tooLarge, quint64(1));
        // The quarter stream id of later streams can take more bytes: the limit accounts for it.
        QCOMPARE(m_client->maxDatagramPayload(4 * 64) + 1, m_client->maxDatagramPayload(0));
    }

    void queueBound()
    {
        QVERIFY(start());
        QTRY_VERIFY(m_handler->response.has_value());
        // Within one event loop turn nothing is written: the bounded queue refuses the rest.
        int accepted = 0;
        int full = 0;
        for (int i = 0; i < 3000; ++i) {
            const Status status = m_client->sendDatagram(m_handler->id, payload(quint32(i), 100));
            if (status)
                ++accepted;
            else if (status.error().code == ErrorCode::QueueFull)
                ++full;
        }
        QCOMPARE(accepted, 1024);
        QCOMPARE(full, 3000 - 1024);
        QCOMPARE(m_client->stats().datagramDrops.queueFull, quint64(full));
        QTRY_COMPARE(m_client->stats().datagramsSent, quint64(1024));
    }

    void unknownStreamDropped()
    {
        QVERIFY(start());
        QTRY_VERIFY(m_handler->response.has_value());
        QTRY_VERIFY(m_server->lastConnection());
        H3ServerConnection *serverSide = m_server->lastConnection();
        QSignalSpy received(m_client.get(), &HttpConnection::datagramReceived);
        // The client gives the stream up while the server still sends on it.
        m_client->resetStream(m_handler->id, StreamResetReason::Cancel);
        QVERIFY(serverSide->sendDatagram(m_handler->id, payload(7, 50)));
        QTRY_COMPARE(m_client->stats().datagramDrops.unknownStream, quint64(1));
        QVERIFY(received.isEmpty());
        QCOMPARE(m_client->maxDatagramPayload(m_handler->id) > 0, true);
        QCOMPARE(m_client->sendDatagram(m_handler->id, "x").error().code, ErrorCode::UnknownStream);
    }
};

QTEST_GUILESS_MAIN(TstH3Datagrams)
#include "tst_h3_datagrams.moc"
