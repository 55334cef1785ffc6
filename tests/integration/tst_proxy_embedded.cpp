// MasqueProxy embedded on a QThread of its own, as `qmasque --demo` runs it: started, used and
// drained through queued calls from another thread, then deleted on its thread.

#include "proxy/MasqueProxy.h"
#include "support/H2TestUtil.h"
#include "support/ProxyTestClient.h"
#include "support/ProxyTestTargets.h"

#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::test;

class TstProxyEmbedded : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void onItsOwnThread()
    {
        UdpEchoTarget echo;
        QVERIFY(echo.start());
        QThread thread;
        thread.setObjectName(QStringLiteral("proxy"));
        auto *proxy = new MasqueProxy(proxyTestConfig());
        proxy->moveToThread(&thread);
        connect(&thread, &QThread::finished, proxy, &QObject::deleteLater);
        thread.start();

        Status started = Error(ErrorCode::Internal);
        QList<MasqueProxy::Endpoint> endpoints;
        QByteArray pin;
        QMetaObject::invokeMethod(
            proxy,
            [&] {
                started = proxy->start();
                endpoints = proxy->endpoints();
                pin = proxy->identity().spkiSha256();
            },
            Qt::BlockingQueuedConnection);
        QVERIFY2(started.ok(), qPrintable(started.ok() ? QString() : started.error().toString()));
        QCOMPARE(endpoints.size(), 1);

        ConnectOptions options;
        options.host = QStringLiteral("127.0.0.1");
        options.port = endpoints.first().port;
        options.tls.useSystemTrust = false;
        options.tls.pinsSha256 = {pin};
        Error error;
        Transport *transport = connectTransport(TransportKind::H3, options, this, &error);
        QVERIFY2(transport, qPrintable(error.toString()));
        ProxyTestStream stream(transport, true);
        QVERIFY(stream
                    .open(udpRequest(QStringLiteral("127.0.0.1:%1").arg(options.port),
                                     QStringLiteral("127.0.0.1"), echo.port()))
                    .ok());
        QVERIFY(stream.waitForResponse() && stream.isSuccess());
        QVERIFY(stream.sendDatagram("across threads").ok());
        QVERIFY(waitUntil([&] { return !stream.datagrams.isEmpty(); }));

        // Drain from here: GOAWAY reaches the client, the tunnel ends, drained() follows.
        QSignalSpy drained(proxy, &MasqueProxy::drained);
        QSignalSpy goaway(transport, &HttpConnection::goawayReceived);
        QMetaObject::invokeMethod(proxy, &MasqueProxy::goawayAndDrain, Qt::QueuedConnection);
        QVERIFY(waitUntil([&] { return !goaway.isEmpty(); }));
        QVERIFY(transport->endStream(stream.id).ok());
        QVERIFY(waitUntil([&] { return !drained.isEmpty(); }, 10000));
        ProxyStats stats;
        QMetaObject::invokeMethod(
            proxy, [&] { stats = proxy->stats(); }, Qt::BlockingQueuedConnection);
        QCOMPARE(stats.tunnelsTotal, quint64(1));
        QCOMPARE(stats.tunnelsActive, quint64(0));
        QCOMPARE(stats.datagramsUp, quint64(1));
        QCOMPARE(stats.datagramsDown, quint64(1));

        thread.quit();
        QVERIFY(thread.wait(10000));
        delete transport;
    }
};

QTEST_MAIN(TstProxyEmbedded)
#include "tst_proxy_embedded.moc"
