#pragma once

#include "support/ContractProcess.h"
#include "transport/ConnectOptions.h"

#include <QtCore/QByteArray>
#include <QtCore/QStringList>

namespace qmasque::test {

// ProxyProcess: the qmasque-proxy binary as a child process. start() waits for the stdout
// contract (README, "qmasque-proxy"): `pin-sha256=<base64>`, one `listen=<ADDR>:<PORT>
// transports=<list>` per endpoint, then `ready`. Killed when destroyed if still running.
class ProxyProcess final : public ContractProcess
{
public:
    // `prefix`: a wrapper the binary runs under (e.g. `ip netns exec NAME`).
    explicit ProxyProcess(const QStringList &prefix = {});

    static QString executable();

    // start: runs the binary with `arguments` and waits for `ready`; false (with error()) when
    // it exited or did not get there within `timeoutMs`.
    bool start(const QStringList &arguments, int timeoutMs = 15000);
    // run: runs it to completion (for command-line errors); returns the exit code, or -1.
    int run(const QStringList &arguments, int timeoutMs = 15000)
    {
        return ContractProcess::run(arguments, timeoutMs);
    }

    QByteArray pin() const { return m_pin; } // raw 32 bytes
    quint16 port() const { return m_port; }
    QStringList transports() const { return m_transports; }
    ConnectOptions clientOptions() const;

private:
    QByteArray m_pin;
    quint16 m_port = 0;
    QStringList m_transports;
};

} // namespace qmasque::test
