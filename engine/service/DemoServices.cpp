#include "service/DemoServices.h"

#include "core/Log.h"
#include "proxy/AccessControl.h"
#include "proxy/MasqueProxy.h"
#include "service/DemoHttpServer.h"
#include "service/DemoUdpEcho.h"

namespace qmasque {

DemoServices::DemoServices() = default;

DemoServices::~DemoServices()
{
    stop();
}

Result<DemoEndpoints> DemoServices::start(const DemoSettings &settings)
{
    stop();
    ProxyConfig config;
    config.selfSigned = true;
    config.listen = {{settings.address, 0}};
    // The demo's targets are on loopback, which the default policy denies: allow their one
    // address, not all of loopback (the other services on this machine stay unreachable).
    config.allow = {wire::IpPrefix::host(AccessControl::fromQHostAddress(settings.address))};
    config.drainTimeoutMs = 2000;
    m_proxy = new MasqueProxy(config, this);
    if (Status started = m_proxy->start(); !started) {
        stop();
        return Error(started.error().code,
                     QStringLiteral("demo proxy: ") + started.error().toString());
    }
    m_http = new DemoHttpServer(this);
    if (Status bound = m_http->listen(settings.address, settings.httpPort, true); !bound) {
        stop();
        return bound.error();
    }
    m_echo = new DemoUdpEcho(this);
    if (Status bound = m_echo->bind(settings.address, settings.udpEchoPort, true); !bound) {
        stop();
        return bound.error();
    }
    DemoEndpoints endpoints;
    endpoints.address = settings.address;
    endpoints.proxyPort = m_proxy->endpoints().value(0).port;
    endpoints.pinSha256 = m_proxy->identity().pinBase64();
    endpoints.httpPort = m_http->port();
    endpoints.udpEchoPort = m_echo->port();
    qCInfo(lcEngine, "demo: proxy on port %u, http on %u, udp-echo on %u", endpoints.proxyPort,
           endpoints.httpPort, endpoints.udpEchoPort);
    return endpoints;
}

void DemoServices::stop()
{
    if (m_proxy) {
        m_proxy->stop();
        delete m_proxy; // not inside its own callbacks: stop() is called from the event loop
        m_proxy = nullptr;
    }
    if (m_http) {
        m_http->close();
        delete m_http;
        m_http = nullptr;
    }
    if (m_echo) {
        m_echo->close();
        delete m_echo;
        m_echo = nullptr;
    }
}

QByteArray DemoServices::proxyMetrics() const
{
    return m_proxy ? m_proxy->metrics().render() : QByteArray();
}

} // namespace qmasque
