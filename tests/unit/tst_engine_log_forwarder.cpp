// LogForwarder: qmasque.* messages become LogEntry values on the forwarder's thread, from any
// thread, at a bounded rate; other categories are not forwarded; the stderr form.

#include "core/Log.h"
#include "service/LogForwarder.h"

#include <QtCore/QRegularExpression>
#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace qmasque;

namespace {
Q_LOGGING_CATEGORY(lcOther, "other.module")
} // namespace

class tst_EngineLogForwarder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { registerEngineMetaTypes(); }

    void forwardsQmasqueCategories()
    {
        LogForwarder forwarder({});
        forwarder.install();
        QSignalSpy logged(&forwarder, &LogForwarder::logged);
        qCInfo(lcOther) << "not forwarded";
        qCWarning(lcPool) << "pool message" << 42;
        QVERIFY(logged.wait(2000));
        QCOMPARE(logged.count(), 1);
        const LogEntry entry = logged.first().first().value<LogEntry>();
        QCOMPARE(entry.category, QStringLiteral("qmasque.pool"));
        QCOMPARE(entry.level, QtWarningMsg);
        QCOMPARE(entry.message, QStringLiteral("pool message 42"));
        QVERIFY(qAbs(entry.timeMs - QDateTime::currentMSecsSinceEpoch()) < 5000);
    }

    void fromOtherThreads()
    {
        LogForwarder forwarder({});
        forwarder.install();
        QSignalSpy logged(&forwarder, &LogForwarder::logged);
        QThread *thread = QThread::create([] {
            for (int i = 0; i < 20; ++i)
                qCInfo(lcTunnel, "from a worker %d", i);
        });
        thread->start();
        QVERIFY(thread->wait(5000));
        delete thread;
        QTRY_COMPARE_WITH_TIMEOUT(logged.count(), 20, 5000);
        for (int i = 0; i < 20; ++i)
            QCOMPARE(logged.at(i).first().value<LogEntry>().message,
                     QStringLiteral("from a worker %1").arg(i));
    }

    void rateLimited()
    {
        LogForwarder::Options options;
        options.maxEntriesPerSecond = 10;
        LogForwarder forwarder(options);
        forwarder.install();
        QSignalSpy logged(&forwarder, &LogForwarder::logged);
        for (int i = 0; i < 50; ++i)
            qCInfo(lcEngine, "burst %d", i);
        // Ten now; the other forty are summed up in one entry once the second is over.
        QTRY_COMPARE_WITH_TIMEOUT(logged.count(), 11, 3000);
        for (int i = 0; i < 10; ++i)
            QCOMPARE(logged.at(i).first().value<LogEntry>().message,
                     QStringLiteral("burst %1").arg(i));
        const LogEntry summary = logged.at(10).first().value<LogEntry>();
        QVERIFY2(summary.message.startsWith(u"40 log lines not shown"),
                 qPrintable(summary.message));
        QCOMPARE(forwarder.notShown(), quint64(40));
    }

    void queueBounded()
    {
        LogForwarder::Options options;
        options.maxQueued = 5;
        options.maxEntriesPerSecond = 1000;
        LogForwarder forwarder(options);
        forwarder.install();
        QSignalSpy logged(&forwarder, &LogForwarder::logged);
        // No event loop between these: the queue keeps 5, counts the rest.
        for (int i = 0; i < 12; ++i)
            qCInfo(lcEngine, "queued %d", i);
        QTRY_COMPARE_WITH_TIMEOUT(logged.count(), 6, 3000);
        QVERIFY(logged.last().first().value<LogEntry>().message.startsWith(u"7 log lines"));
    }

    void stderrLine()
    {
        const QByteArray line =
            LogForwarder::formatLine(QtCriticalMsg, "qmasque.local", QStringLiteral("x y"));
        QVERIFY2(QRegularExpression(
                     QStringLiteral(
                         R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} error qmasque\.local: x y$)"))
                     .match(QString::fromLatin1(line))
                     .hasMatch(),
                 line.constData());
    }

    void restoresThePreviousHandler()
    {
        static int calls = 0;
        const QtMessageHandler previous = qInstallMessageHandler(
            [](QtMsgType, const QMessageLogContext &, const QString &) { ++calls; });
        {
            LogForwarder forwarder({});
            forwarder.install();
            qCInfo(lcEngine) << "to the forwarder";
            QCOMPARE(calls, 0);
        }
        qCInfo(lcEngine) << "to the test handler again";
        QCOMPARE(calls, 1);
        qInstallMessageHandler(previous);
    }
};

QTEST_GUILESS_MAIN(tst_EngineLogForwarder)
#include "tst_engine_log_forwarder.moc"
