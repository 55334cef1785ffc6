#include "support/TunnelMockProxy.h"

#include <QtCore/QTimer>

namespace qmasque::test {

TunnelMockProxy::TunnelMockProxy(MockNetwork *network, QObject *parent)
    : QObject(parent)
{
    connect(network, &MockNetwork::transportCreated, this, &TunnelMockProxy::handleTransport);
}

HeaderList TunnelMockProxy::defaultHeaders(const Request &request)
{
    if (request.protocol == "connect-udp" || request.protocol == "connect-ip")
        return {Header{"capsule-protocol", "?1"}};
    return {};
}

int TunnelMockProxy::defaultStatus(TransportKind kind, const Request &request)
{
    return kind == TransportKind::H1 && request.isExtendedConnect() ? 101 : 200;
}

void TunnelMockProxy::handleTransport(MockTransport *transport)
{
    m_transports.append(transport);
    const TransportKind kind = transport->kind();
    QPointer<MockTransport> guarded = transport;
    transport->setSubmitHook([this, guarded, kind](StreamId id) {
        const Request request = *guarded->requestOf(id);
        m_requests.append(Seen{guarded, kind, id, request});
        emit requestSeen(kind, id);
        const Answer answer = m_answers.value(kind);
        if (!answer.respond)
            return;
        const int status = answer.status ? answer.status : defaultStatus(kind, request);
        const HeaderList headers = answer.headers.value_or(defaultHeaders(request));
        QTimer::singleShot(answer.delayMs, guarded, [this, guarded, kind, id, status, headers] {
            guarded->simulateResponse(id, status, headers);
            emit answered(kind, id);
        });
    });
}

MockTransport *TunnelMockProxy::last(TransportKind kind) const
{
    for (auto it = m_transports.crbegin(); it != m_transports.crend(); ++it) {
        if (*it && (*it)->kind() == kind)
            return it->data();
    }
    return nullptr;
}

const TunnelMockProxy::Seen *TunnelMockProxy::lastRequest(TransportKind kind) const
{
    for (auto it = m_requests.crbegin(); it != m_requests.crend(); ++it) {
        if (it->kind == kind)
            return &*it;
    }
    return nullptr;
}

} // namespace qmasque::test
