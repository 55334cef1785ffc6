#pragma once

#include "api/Types.h"
#include "pool/UpstreamPool.h"
#include "support/ProxyTestClient.h"
#include "tunnel/TunnelClient.h"

#include <QtCore/QProcess>
#include <QtCore/QString>

#include <map>
#include <memory>

namespace qmasque::test {

// FrontEndTestBench: what the front-end integration tests run on: the real qmasque-proxy
// (MasqueProxy in this process: self-signed, loopback targets allowed unless the config says
// otherwise), one UpstreamPool, and one TunnelClient per transport, each forced to that
// transport and pinning the proxy's key.
class FrontEndTestBench
{
public:
    explicit FrontEndTestBench(const ProxyConfig &config = proxyTestConfig(true));
    ~FrontEndTestBench();

    // start: false with `error` set when the proxy did not start.
    bool start();
    Profile profile(TransportKind kind);
    // client: the TunnelClient for `kind` (made and configured on first use).
    TunnelClient *client(TransportKind kind);
    // makeClient: a TunnelClient of its own for `kind` with `tuning` (windows, buffers).
    std::unique_ptr<TunnelClient> makeClient(TransportKind kind, const ConnectOptions &tuning);
    ProxyTestServer &server() { return m_server; }

    QString error;

private:
    ProxyTestServer m_server;
    std::unique_ptr<UpstreamPool> m_pool;
    std::map<TransportKind, std::unique_ptr<TunnelClient>> m_clients;
};

// findTool: an executable on PATH, or in /usr/sbin or /usr/bin; empty when missing.
QString findTool(const QString &name);
// freeUdpPort / freeTcpPort: a loopback port that was free a moment ago (callers of external
// programs that need a port up front retry on a collision).
quint16 freeUdpPort();
quint16 freeTcpPort();

// FrontEndTargets: tests/support/FrontEndTargets.py, the HTTP origin, TCP echo and client the
// tests talk to. startTarget() starts a server mode and reads the port it printed.
QString frontEndTargetsScript();
bool startTarget(QProcess &process, const QStringList &arguments, quint16 *port, QString *error);
// runToEnd: waits (serving the event loop) until `process` exits; false on timeout.
bool runToEnd(QProcess &process, int timeoutMs);
// rawExchange: connects to 127.0.0.1:`port`, sends `request`, shuts its sending side down when
// `halfClose`, and returns what it received until the server closed (or `timeoutMs` passed),
// serving the event loop meanwhile. `closedByServer` tells whether the server closed.
QByteArray rawExchange(quint16 port, QByteArrayView request, bool halfClose,
                       bool *closedByServer = nullptr, int timeoutMs = 10000);
// stopProcess: kills and reaps `process` if it still runs.
void stopProcess(QProcess &process);

} // namespace qmasque::test
