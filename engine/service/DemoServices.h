#pragma once

#include "api/Result.h"
#include "api/Types.h"

#include <QtCore/QMetaType>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtNetwork/QHostAddress>

namespace qmasque {

class DemoHttpServer;
class DemoUdpEcho;
class MasqueProxy;

// DemoSettings: where the demo's targets listen. The fixed defaults keep the README's commands
// valid; a taken port falls back to a free one (printed by qmasque).
struct DemoSettings
{
    static constexpr quint16 kDefaultHttpPort = 8080;
    static constexpr quint16 kDefaultUdpEchoPort = 7007;

    QHostAddress address = QHostAddress(QHostAddress::LocalHost);
    quint16 httpPort = kDefaultHttpPort;
    quint16 udpEchoPort = kDefaultUdpEchoPort;
};

// DemoEndpoints: what the demo bound, for the client profile and the user.
struct DemoEndpoints
{
    QHostAddress address;
    quint16 proxyPort = 0;
    QString pinSha256; // base64 SHA-256 of the proxy's SubjectPublicKeyInfo
    quint16 httpPort = 0;
    quint16 udpEchoPort = 0;
};

// DemoServices: everything `qmasque --demo` runs besides the client: the embedded MASQUE proxy
// (MasqueProxy with a fresh self-signed certificate on loopback, port 0, every transport,
// the demo address allowed as a target besides public ones), the HTTP file server and the UDP
// echo.
// Created without a parent and moved to a thread of its own by DemoHost; every object it
// creates is its descendant. Its slots are called queued from the engine thread.
class DemoServices final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DemoServices)

public:
    DemoServices();
    ~DemoServices() override;

    // start: the proxy first, then the targets. On failure nothing stays bound.
    Result<DemoEndpoints> start(const DemoSettings &settings);
    // stop: closes every tunnel and listener now. Idempotent.
    void stop();
    // proxyMetrics: the embedded proxy's OpenMetrics text (empty when not running).
    QByteArray proxyMetrics() const;

private:
    MasqueProxy *m_proxy = nullptr;   // child
    DemoHttpServer *m_http = nullptr; // child
    DemoUdpEcho *m_echo = nullptr;    // child
};

} // namespace qmasque

Q_DECLARE_METATYPE(qmasque::DemoEndpoints)
