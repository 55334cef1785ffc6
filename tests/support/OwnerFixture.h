#pragma once

#include "pool/UpstreamOwner.h"
#include "support/FakeSession.h"
#include "support/MockTransport.h"

#include <memory>

namespace qmasque::test {

// What the UpstreamOwner unit tests share: a CONNECT-UDP request, an endpoint and owner options,
// and a fixture that dials owners over MockTransport inside a scope deleted after each test.

Request udpRequest(const QByteArray &target = "example.com/53");
UpstreamEndpoint endpointFor(TransportKind kind);
// optionsWith: a stream limit (0 = the transport's), an idle timeout, a short dial guard.
OwnerOptions optionsWith(int maxStreams = 0, int idleMs = 30000);

class OwnerFixture
{
protected:
    // From the test class's init() and cleanup().
    void setUpOwnerFixture();
    void tearDownOwnerFixture();

    // dialed: a ready owner (nullptr when the dial failed), a child of m_scope.
    UpstreamOwner *dialed(TransportKind kind = TransportKind::H3, OwnerOptions options = {});
    static MockTransport *mockOf(UpstreamOwner *owner)
    {
        return static_cast<MockTransport *>(owner->transport());
    }

    std::unique_ptr<MockNetwork> m_network;
    std::unique_ptr<QObject> m_scope;
};

} // namespace qmasque::test
