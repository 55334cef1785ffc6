// ClientCommandLine: qmasque's options are Profile::options() plus --headless, --config, --help
// and --version; flags override the profile file; every refusal names the option or key.

#include "service/ClientCommandLine.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using namespace qmasque;
using namespace Qt::StringLiterals;

namespace {

Result<ClientCommandLine> parse(QStringList arguments)
{
    arguments.prepend(QStringLiteral("qmasque"));
    return ClientCommandLine::parse(arguments);
}

QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &content)
{
    const QString path = dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        qFatal("cannot write %s", qPrintable(path));
    file.write(content);
    return path;
}

} // namespace

class tst_EngineCommandLine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        // No default profile from the machine running the tests.
        qputenv("XDG_CONFIG_HOME", m_home.path().toLocal8Bit());
    }

    void helpListsEveryProfileKey()
    {
        const auto line = parse({u"--help"_s});
        QVERIFY(line);
        QCOMPARE(line->action, ClientCommandLine::Action::Help);
        for (const ProfileOption &option : Profile::options())
            QVERIFY2(line->helpText.contains(QStringLiteral("--") + option.key),
                     qPrintable(option.key));
        for (const char *extra : {"--headless", "--config", "--version", "Exit status"})
            QVERIFY(line->helpText.contains(QLatin1StringView(extra)));
    }

    void version()
    {
        const auto line = parse({u"--version"_s});
        QVERIFY(line);
        QCOMPARE(line->action, ClientCommandLine::Action::Version);
    }

    void quickLooks()
    {
        QVERIFY(
            ClientCommandLine::helpOrVersionRequested({u"qmasque"_s, u"--demo"_s, u"--help"_s}));
        QVERIFY(ClientCommandLine::helpOrVersionRequested({u"qmasque"_s, u"-v"_s}));
        QVERIFY(!ClientCommandLine::helpOrVersionRequested({u"qmasque"_s, u"--demo"_s}));
        QVERIFY(ClientCommandLine::headlessRequested({u"qmasque"_s, u"--headless"_s}));
        QVERIFY(!ClientCommandLine::headlessRequested({u"qmasque"_s, u"--header"_s, u"x:y"_s}));
    }

    void flagsBuildTheProfile()
    {
        const auto line =
            parse({u"--headless"_s, u"--proxy"_s, u"https://proxy.example:8443"_s,
                   u"--transports"_s, u"h2,h1"_s, u"--socks"_s, u"127.0.0.1:1081"_s, u"--header"_s,
                   u"x-a:1"_s, u"--header"_s, u"x-b:2"_s, u"--pool-max-streams"_s, u"dynamic"_s,
                   u"--pool-idle-ms"_s, u"1500"_s, u"--insecure"_s, u"--udp-forward"_s,
                   u"5353=dns.example:53"_s, u"--demo"_s});
        QVERIFY2(line, qPrintable(line ? QString() : line.error().toString()));
        QVERIFY(line->headless);
        QVERIFY(line->profileGiven);
        QCOMPARE(line->profile.proxy, QStringLiteral("https://proxy.example:8443"));
        QCOMPARE(line->profile.transports,
                 (QList<TransportKind>{TransportKind::H2, TransportKind::H1}));
        QCOMPARE(line->profile.socks, QStringLiteral("127.0.0.1:1081"));
        QCOMPARE(line->profile.headers, (QStringList{u"x-a:1"_s, u"x-b:2"_s}));
        QCOMPARE(line->profile.poolMaxStreams, 0);
        QCOMPARE(line->profile.poolIdleMs, 1500);
        QVERIFY(line->profile.insecure);
        QVERIFY(line->profile.demo);
        QCOMPARE(line->profile.udpForwards.size(), 1);
        QCOMPARE(line->profile.udpForwards.first().target.port, quint16(53));
    }

    void flagsOverrideTheFile()
    {
        QTemporaryDir dir;
        const QString path = writeFile(dir, QStringLiteral("p.json"),
                                       "{\"name\": \"work\", \"proxy\": \"https://file.example\", "
                                       "\"socks\": \"127.0.0.1:2000\", \"header\": [\"x-file:1\"], "
                                       "\"pool-idle-ms\": 9000}");
        const auto line = parse(
            {u"--config"_s, path, u"--socks"_s, u"127.0.0.1:3000"_s, u"--header"_s, u"x-flag:2"_s});
        QVERIFY2(line, qPrintable(line ? QString() : line.error().toString()));
        QCOMPARE(line->configPath, path);
        QCOMPARE(line->profile.name, QStringLiteral("work"));
        QCOMPARE(line->profile.proxy, QStringLiteral("https://file.example"));
        QCOMPARE(line->profile.socks, QStringLiteral("127.0.0.1:3000")); // the flag wins
        QCOMPARE(line->profile.headers, (QStringList{u"x-file:1"_s, u"x-flag:2"_s}));
        QCOMPARE(line->profile.poolIdleMs, 9000);
        QVERIFY(line->profileGiven);
    }

    void defaultProfileIsRead()
    {
        QDir().mkpath(QFileInfo(Profile::defaultPath()).absolutePath());
        Profile saved;
        saved.proxy = QStringLiteral("https://default.example");
        QVERIFY(saved.save(Profile::defaultPath()));
        const auto line = parse({});
        QVERIFY(line);
        QCOMPARE(line->profile.proxy, QStringLiteral("https://default.example"));
        QCOMPARE(line->configPath, Profile::defaultPath());
        QVERIFY(!line->profileGiven); // the GUI waits for Connect
        QFile::remove(Profile::defaultPath());
        QVERIFY(parse({})->configPath.isEmpty());
    }

    void refusalsNameTheProblem_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("named");
        QTest::newRow("unknown option") << QStringList{u"--bogus"_s} << u"bogus"_s;
        QTest::newRow("missing value") << QStringList{u"--proxy"_s} << u"proxy"_s;
        QTest::newRow("positional") << QStringList{u"extra"_s} << u"extra"_s;
        QTest::newRow("not a number")
            << QStringList{u"--pool-idle-ms"_s, u"soon"_s} << u"pool-idle-ms"_s;
        QTest::newRow("transport") << QStringList{u"--transports"_s, u"h4"_s} << u"transports"_s;
        QTest::newRow("tcp mode") << QStringList{u"--tcp-mode"_s, u"x"_s} << u"tcp-mode"_s;
        QTest::newRow("forward") << QStringList{u"--tcp-forward"_s, u"nonsense"_s}
                                 << u"tcp-forward"_s;
        QTest::newRow("no config file")
            << QStringList{u"--config"_s, u"/nonexistent/p.json"_s} << u"/nonexistent/p.json"_s;
    }

    void refusalsNameTheProblem()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, named);
        const auto line = parse(arguments);
        QVERIFY(!line);
        QVERIFY2(line.error().detail.contains(named), qPrintable(line.error().detail));
    }

    void badProfileFile()
    {
        QTemporaryDir dir;
        const QString unknown =
            writeFile(dir, QStringLiteral("a.json"), "{\"proxy\": \"https://x\", \"bogus\": 1}");
        auto line = parse({u"--config"_s, unknown});
        QVERIFY(!line);
        QVERIFY2(line.error().detail.contains(u"bogus"), qPrintable(line.error().detail));
        const QString typed = writeFile(dir, QStringLiteral("b.json"), "{\"pool-idle-ms\": \"x\"}");
        line = parse({u"--config"_s, typed});
        QVERIFY(!line);
        QVERIFY2(line.error().detail.contains(u"pool-idle-ms"), qPrintable(line.error().detail));
        const QString broken = writeFile(dir, QStringLiteral("c.json"), "{");
        QVERIFY(!parse({u"--config"_s, broken}));
    }

    void validationIsLeftToTheCaller()
    {
        // No proxy and no --demo: parsed, but validate() names the key.
        const auto line = parse({u"--headless"_s});
        QVERIFY(line);
        const Status valid = line->profile.validate();
        QVERIFY(!valid);
        QVERIFY(valid.error().detail.startsWith(u"proxy:"));
    }

private:
    QTemporaryDir m_home;
};

QTEST_GUILESS_MAIN(tst_EngineCommandLine)
#include "tst_engine_commandline.moc"
