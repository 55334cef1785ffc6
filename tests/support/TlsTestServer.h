#pragma once

#include "support/StreamEchoServer.h"
#include "transport/ConnectOptions.h"
#include "transport/ServerOptions.h"

#include <QtCore/QObject>

#include <memory>

namespace qmasque {
class TlsServerListener;
}

namespace qmasque::test {

// TlsTestServer: a TlsServerListener on 127.0.0.1 (port 0) with the TestPki server certificate,
// every connection served by a StreamEchoServer, plus client options that trust the test CA.
class TlsTestServer : public QObject
{
    Q_OBJECT

public:
    explicit TlsTestServer(QObject *parent = nullptr);
    ~TlsTestServer() override;

    // serverOptions: the TestPki identity, the ServerOptions defaults otherwise.
    static ServerOptions serverOptions();

    // start: listens; false (with `error` set) when it cannot.
    bool start(const ServerOptions &options = serverOptions());
    quint16 port() const;
    TlsServerListener *listener() const { return m_listener.get(); }
    StreamEchoServer &echo() { return m_echo; }
    QString error;

    // clientOptions: 127.0.0.1:port(), trusting only the test CA (no system store).
    ConnectOptions clientOptions() const;

private:
    StreamEchoServer m_echo;
    std::unique_ptr<TlsServerListener> m_listener;
};

} // namespace qmasque::test
