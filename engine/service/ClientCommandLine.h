#pragma once

#include "api/Profile.h"

#include <QtCore/QStringList>

namespace qmasque {

// ClientCommandLine: what `qmasque` was asked to do (README, "Command line"). The options are
// Profile::options() (one per profile key, so flags and JSON keys are one list) plus --headless,
// --config FILE, --help and --version. The profile is the --config file (else the default
// profile file, Profile::defaultPath(), when it exists, else the defaults) with every flag given
// applied on top (flags win; repeatable flags add to the file's list).
//
// Errors (exit code 2): an unknown option, a missing value, a positional argument, an
// unreadable or invalid profile file, a flag value refused by Profile::applyOption(); each
// message names the option or key. Semantic checks (Profile::validate()) are left to the caller,
// who knows whether the profile is used at once. Needs a QCoreApplication (for the usage line).
struct ClientCommandLine
{
    enum class Action : quint8
    {
        Run,
        Help,
        Version,
    };

    Action action = Action::Run;
    QString helpText; // for Help
    Profile profile;
    bool headless = false;
    // profileGiven: --config or at least one profile flag was given (the GUI then starts at
    // once instead of waiting for the user's Connect).
    bool profileGiven = false;
    QString configPath; // the profile file that was read; empty when none

    // parse: `arguments` as QCoreApplication::arguments() (the program first).
    static Result<ClientCommandLine> parse(const QStringList &arguments);
    // helpOrVersionRequested: a quick look before any application object exists (so --help and
    // --version never need a display): true when one of them is among the arguments.
    static bool helpOrVersionRequested(const QStringList &arguments);
    // headlessRequested: likewise for --headless.
    static bool headlessRequested(const QStringList &arguments);
};

} // namespace qmasque
