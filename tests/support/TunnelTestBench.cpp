#include "support/TunnelTestBench.h"

#include "wire/Capsule.h"
#include "wire/Varint.h"

namespace qmasque::test {

TunnelTestBench::TunnelTestBench(QObject *parent)
    : QObject(parent)
{
    PoolOptions options;
    options.factory = network.factory();
    options.owner.dialGuardMarginMs = 50;
    pool = std::make_unique<UpstreamPool>(options);
    profile.proxy = QStringLiteral("https://proxy.example:443");
}

TunnelTestBench::~TunnelTestBench() = default;

TunnelRequestSettings TunnelTestBench::settings() const
{
    auto settings = TunnelRequestSettings::fromProfile(profile);
    if (!settings)
        qFatal("bench profile: %s", qPrintable(settings.error().toString()));
    return *settings;
}

TunnelConfig TunnelTestBench::config(TransportKind kind, const TunnelTarget &target,
                                     int handshakeTimeoutMs)
{
    TunnelConfig config;
    config.tunnelId = 7;
    config.endpoint.transport = kind;
    config.endpoint.connect.host = QStringLiteral("proxy.example");
    config.endpoint.connect.port = 443;
    config.endpoint.connect.connectTimeoutMs = handshakeTimeoutMs;
    auto request = buildTunnelRequest(settings(), target);
    if (!request)
        qFatal("bench request: %s", qPrintable(request.error().toString()));
    config.request = *request;
    config.target = target.toString();
    config.localClient = QStringLiteral("test 127.0.0.1:1");
    config.handshakeTimeoutMs = handshakeTimeoutMs;
    config.pool = pool.get();
    config.factory = network.factory();
    return config;
}

QByteArray TunnelTestBench::httpDatagram(QByteArrayView payload, quint64 contextId)
{
    QByteArray out;
    (void)wire::appendVarint(out, contextId);
    out.append(payload.data(), payload.size());
    return out;
}

QByteArray TunnelTestBench::datagramCapsule(QByteArrayView payload, quint64 contextId)
{
    QByteArray out;
    wire::appendDatagramCapsule(out, httpDatagram(payload, contextId));
    return out;
}

QByteArray TunnelTestBench::capsule(quint64 type, QByteArrayView value)
{
    QByteArray out;
    (void)wire::appendCapsule(out, type, value);
    return out;
}

MockTransport *TunnelTestBench::transportOf(const TunnelSession &session) const
{
    for (MockTransport *transport : network.transports()) {
        if (transport->kind() == session.transport() &&
            transport->requestOf(session.streamId()) != nullptr &&
            transport->handlerOf(session.streamId()) == &session)
            return transport;
    }
    // After the stream ended the handler is gone: the newest transport of that kind with it.
    for (MockTransport *transport : network.transports()) {
        if (transport->kind() == session.transport() &&
            transport->requestOf(session.streamId()) != nullptr)
            return transport;
    }
    return nullptr;
}

} // namespace qmasque::test
