// The demo file server's generated content: sizes from paths, the i mod 251 pattern from any
// offset, and the checksum qmasque serves at /SIZE.sha256.

#include "service/DemoContent.h"

#include <QtCore/QCryptographicHash>
#include <QtTest/QTest>

using namespace qmasque;

class tst_EngineDemoContent : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sizes_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<qint64>("size"); // -1: refused
        QTest::newRow("bytes") << "/12345" << qint64(12345);
        QTest::newRow("zero") << "/0" << qint64(0);
        QTest::newRow("K") << "/100K" << qint64(100 * 1024);
        QTest::newRow("M") << "/1M" << qint64(1 << 20);
        QTest::newRow("64M") << "/64M" << qint64(64 << 20);
        QTest::newRow("G") << "/1G" << (qint64(1) << 30);
        QTest::newRow("lower case") << "/2m" << qint64(2 << 20);
        QTest::newRow("too large") << "/2G" << qint64(-1);
        QTest::newRow("huge") << "/99999999999" << qint64(-1);
        QTest::newRow("root") << "/" << qint64(-1);
        QTest::newRow("unit only") << "/M" << qint64(-1);
        QTest::newRow("negative") << "/-1" << qint64(-1);
        QTest::newRow("words") << "/index.html" << qint64(-1);
        QTest::newRow("no slash") << "1M" << qint64(-1);
        QTest::newRow("query") << "/1M?x=1" << qint64(-1);
    }

    void sizes()
    {
        QFETCH(QString, path);
        QFETCH(qint64, size);
        const std::optional<qint64> parsed = demo::parseSize(path);
        if (size < 0)
            QVERIFY(!parsed);
        else
            QCOMPARE(parsed.value_or(-2), size);
    }

    void patternFromAnyOffset()
    {
        for (qint64 offset :
             {qint64(0), qint64(1), qint64(250), qint64(251), qint64(65536), qint64(1) << 33}) {
            const QByteArrayView part = demo::slice(offset, 1000);
            QCOMPARE(part.size(), 1000);
            for (qint64 i = 0; i < part.size(); ++i)
                QCOMPARE(quint8(part[i]), quint8((offset + i) % 251));
        }
        QCOMPARE(demo::slice(0, 1 << 20).size(), 64 * 1024); // one slice at most
    }

    void checksum()
    {
        QByteArray body;
        for (int i = 0; i < 300000; ++i)
            body.append(char(i % 251));
        QCOMPARE(demo::sha256Hex(body.size()),
                 QCryptographicHash::hash(body, QCryptographicHash::Sha256).toHex());
        // The empty body.
        QCOMPARE(demo::sha256Hex(0),
                 QByteArray("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    }
};

QTEST_GUILESS_MAIN(tst_EngineDemoContent)
#include "tst_engine_demo_content.moc"
