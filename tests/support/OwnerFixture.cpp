#include "support/OwnerFixture.h"

#include <QtTest/QSignalSpy>

namespace qmasque::test {

Request udpRequest(const QByteArray &target)
{
    Request request;
    request.protocol = "connect-udp";
    request.authority = "proxy.example:443";
    request.path = "/.well-known/masque/udp/" + target + "/";
    request.headers = {{"capsule-protocol", "?1"}};
    return request;
}

UpstreamEndpoint endpointFor(TransportKind kind)
{
    UpstreamEndpoint endpoint;
    endpoint.transport = kind;
    endpoint.connect.host = QStringLiteral("Proxy.Example");
    endpoint.connect.port = 4433;
    endpoint.connect.connectTimeoutMs = 100;
    return endpoint;
}

OwnerOptions optionsWith(int maxStreams, int idleMs)
{
    OwnerOptions options;
    options.maxStreams = maxStreams;
    options.idleTimeoutMs = idleMs;
    options.dialGuardMarginMs = 50;
    return options;
}

void OwnerFixture::setUpOwnerFixture()
{
    m_network = std::make_unique<MockNetwork>();
    m_scope = std::make_unique<QObject>();
}

void OwnerFixture::tearDownOwnerFixture()
{
    m_scope.reset();
    m_network.reset();
}

UpstreamOwner *OwnerFixture::dialed(TransportKind kind, OwnerOptions options)
{
    auto *owner =
        new UpstreamOwner(endpointFor(kind), {}, options, m_network->factory(), m_scope.get());
    QSignalSpy finished(owner, &UpstreamOwner::dialFinished);
    owner->dial();
    if (!finished.wait(2000) || !finished.at(0).at(0).toBool())
        return nullptr;
    return owner;
}

} // namespace qmasque::test
