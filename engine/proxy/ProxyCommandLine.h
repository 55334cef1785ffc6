#pragma once

#include "api/Result.h"
#include "proxy/ProxyConfig.h"

#include <QtCore/QStringList>

namespace qmasque {

// ProxyCommandLine: the qmasque-proxy command line (README, "qmasque-proxy") as a ProxyConfig.
// QtCore only, so the tests check every flag without starting a process.
struct ProxyCommandLine
{
    enum class Action : quint8
    {
        Run,
        Help,
        Version,
    };

    Action action = Action::Run;
    ProxyConfig config;
    QString logLevel = QStringLiteral("info"); // error, warning, info, debug
    QString helpText;                          // for Action::Help

    // parse: `arguments` as main() got them (program name first). Errors are invalid_argument
    // with a one-line message naming the flag ("--listen 1.2.3.4: expected ADDR:PORT").
    static Result<ProxyCommandLine> parse(const QStringList &arguments);

    // Value parsers, also used by the tests.
    static Result<ProxyListenAddress> parseListen(QStringView text);
    static Result<ProxyCredential> parseAuth(QStringView text);
    static Result<wire::IpPrefix> parsePrefix(QStringView text, const char *flag);
};

} // namespace qmasque
