#include "service/ClientCommandLine.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QFileInfo>

namespace qmasque {

namespace {

const char *const kDescription =
    "MASQUE tunnel client: SOCKS5, HTTP proxy, port forwards and TUN over CONNECT, CONNECT-UDP "
    "(RFC 9298) and CONNECT-IP (RFC 9484), on HTTP/3, HTTP/2 and HTTP/1.1, with a pool of "
    "upstream connections and a live dashboard.\n\nEvery option except --headless, --config, "
    "--help and --version is also a key of the JSON profile (same name, without the dashes); "
    "options given here override the profile file.";

const char *const kEpilog =
    "\nOutput:\n"
    "  stdout carries one line per listening address (\"listening socks5 127.0.0.1:1080\"),\n"
    "  hints in demo mode (\"try: ...\"), then \"ready\"; logs go to stderr.\n"
    "\nExit status:\n"
    "  0  clean exit after SIGINT or SIGTERM (or --help, --version)\n"
    "  1  runtime failure: a port in use, the proxy unreachable, a front end failing\n"
    "  2  bad command line or profile (the message names the option or key)\n"
    "\nExamples:\n"
    "  qmasque --demo --headless\n"
    "  qmasque --headless --proxy https://proxy.example:443 --socks 127.0.0.1:1080\n"
    "  qmasque --headless --config ~/.config/qmasque/work.json --metrics 127.0.0.1:9100\n";

bool hasArgument(const QStringList &arguments, std::initializer_list<const char *> names)
{
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        for (const char *name : names) {
            if (arguments[i] == QLatin1StringView(name))
                return true;
        }
    }
    return false;
}

} // namespace

bool ClientCommandLine::helpOrVersionRequested(const QStringList &arguments)
{
    return hasArgument(arguments, {"-h", "--help", "-?", "--help-all", "-v", "--version"});
}

bool ClientCommandLine::headlessRequested(const QStringList &arguments)
{
    return hasArgument(arguments, {"--headless"});
}

Result<ClientCommandLine> ClientCommandLine::parse(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QString::fromLatin1(kDescription));
    const QCommandLineOption help = parser.addHelpOption();
    const QCommandLineOption version = parser.addVersionOption();
    const QCommandLineOption headless(
        QStringLiteral("headless"),
        QStringLiteral("Run without the dashboard until SIGINT or SIGTERM; log to stderr."));
    const QCommandLineOption config(QStringLiteral("config"),
                                    QStringLiteral("Read the profile from FILE (JSON) instead of "
                                                   "the default profile."),
                                    QStringLiteral("FILE"));
    parser.addOption(headless);
    parser.addOption(config);
    const QList<ProfileOption> profileOptions = Profile::options();
    for (const ProfileOption &option : profileOptions) {
        QString text = option.help;
        if (option.repeatable && !text.contains(QStringLiteral("repeatable")))
            text += QStringLiteral(" (repeatable)");
        parser.addOption(QCommandLineOption(option.key, text, option.valueName));
    }

    if (!parser.parse(arguments))
        return Error(ErrorCode::InvalidArgument, parser.errorText());
    ClientCommandLine line;
    if (parser.isSet(help)) {
        line.action = Action::Help;
        line.helpText = parser.helpText() + QString::fromLatin1(kEpilog);
        return line;
    }
    if (parser.isSet(version)) {
        line.action = Action::Version;
        return line;
    }
    if (!parser.positionalArguments().isEmpty())
        return Error(
            ErrorCode::InvalidArgument,
            QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().first()));
    line.headless = parser.isSet(headless);

    QString path;
    if (parser.isSet(config)) {
        path = parser.value(config);
        line.profileGiven = true;
    } else if (QFileInfo::exists(Profile::defaultPath())) {
        path = Profile::defaultPath();
    }
    if (!path.isEmpty()) {
        Result<Profile> loaded = Profile::load(path);
        if (!loaded)
            return loaded.error();
        line.profile = *loaded;
        line.configPath = path;
    }
    for (const ProfileOption &option : profileOptions) {
        if (!parser.isSet(option.key))
            continue;
        line.profileGiven = true;
        const QStringList values =
            option.valueName.isEmpty() ? QStringList() : parser.values(option.key);
        if (Status applied = line.profile.applyOption(option.key, values); !applied)
            return applied.error();
    }
    return line;
}

} // namespace qmasque
