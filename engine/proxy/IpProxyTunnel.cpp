#include "proxy/IpProxyTunnel.h"

#include "proxy/HostResolver.h"
#include "proxy/IpAddressPool.h"
#include "proxy/IpResponder.h"
#include "proxy/ProxyContext.h"

#include <algorithm>
#include <cstring>

namespace qmasque {

using wire::IpAddress;
using wire::IpPrefix;

namespace {

constexpr qint64 kMaxIpPacket = 65535;

int slotOf(int version)
{
    return version == 4 ? 0 : 1;
}

} // namespace

IpProxyTunnel::IpProxyTunnel(ProxyContext &context, ServerConnection *connection, StreamId id,
                             const TunnelRequest &request, const QString &logId, QObject *parent)
    : DatagramProxyTunnel(context, connection, id, request, logId, "packet", parent)
{}

IpProxyTunnel::~IpProxyTunnel() = default;

IpAddress IpProxyTunnel::assignedAddress(int version) const
{
    return m_assigned[slotOf(version)].value_or(IpAddress());
}

void IpProxyTunnel::startSetup()
{
    attachChannel();
    m_ipProtocol = request().scope.ipProtocol;
    const wire::IpTarget &target = request().scope.target;
    switch (target.kind) {
    case wire::IpTarget::Kind::Any:
        open({});
        return;
    case wire::IpTarget::Kind::Prefix:
        // Admission asks for real targets (acl): the gateway alone does not make a scope useful.
        if (!m_context.acl.permitsAnyOf(target.prefix)) {
            refuse(
                Error(ErrorCode::Forbidden,
                      QStringLiteral("%1 is not an allowed target").arg(target.prefix.toString())));
            return;
        }
        open({target.prefix});
        return;
    case wire::IpTarget::Kind::Name:
        // RFC 9484, 4.6: a DNS name scopes the tunnel to the addresses it resolves to.
        m_resolver = std::make_unique<HostResolver>();
        connect(m_resolver.get(), &HostResolver::failed, this,
                [this](const Error &reason) { refuse(reason); });
        connect(m_resolver.get(), &HostResolver::resolved, this,
                [this](const QList<QHostAddress> &addresses) {
                    QList<IpPrefix> scope;
                    for (const QHostAddress &address : addresses) {
                        const IpAddress ip =
                            AccessControl::mapped(AccessControl::fromQHostAddress(address));
                        if (!ip.isNull() && m_context.acl.permits(ip))
                            scope.append(IpPrefix::host(ip));
                    }
                    if (scope.isEmpty()) {
                        refuse(Error(ErrorCode::Forbidden,
                                     QStringLiteral("%1 resolves to no allowed address")
                                         .arg(request().scope.target.hostname)));
                        return;
                    }
                    open(scope);
                });
        m_resolver->resolve(target.hostname, m_context.config.dnsTimeoutMs);
        return;
    }
}

bool IpProxyTunnel::assign(int version, const IpAddress &preferred)
{
    if (!m_context.ipPool)
        return false;
    auto address = m_context.ipPool->allocate(version, preferred);
    if (!address)
        return false;
    m_assigned[slotOf(version)] = *address;
    if (m_context.ipRouter)
        m_context.ipRouter->add(*address, this);
    return true;
}

void IpProxyTunnel::open(const QList<IpPrefix> &scope)
{
    m_scope = scope;
    const bool v4 = assign(4, {});
    const bool v6 = assign(6, {});
    if (!v4 && !v6) {
        refuse(Error(ErrorCode::Overload, QStringLiteral("the address pool is exhausted")));
        return;
    }
    QStringList assigned;
    for (const auto &address : m_assigned) {
        if (address)
            assigned.append(address->toString());
    }
    if (!accept(true, assigned.join(u',')))
        return;

    // RFC 9484, 4.7.1: an unprompted assignment (request id 0), then the routes (4.7.3).
    QList<wire::AssignedAddress> addresses;
    for (const auto &address : m_assigned) {
        if (address)
            addresses.append(wire::AssignedAddress{0, IpPrefix::host(*address)});
    }
    QList<wire::IpAddressRange> routes = routesFor(4);
    routes.append(routesFor(6));
    if (Status sent =
            sendIpCapsule(wire::CapsuleType::AddressAssign, wire::encodeAddressAssign(addresses));
        !sent) {
        abort(StreamResetReason::Internal, sent.error());
        return;
    }
    if (Status sent = sendIpCapsule(wire::CapsuleType::RouteAdvertisement,
                                    wire::encodeRouteAdvertisement(routes));
        !sent) {
        abort(StreamResetReason::Internal, sent.error());
        return;
    }
    for (const QByteArray &value : std::exchange(m_earlyRequests, {})) {
        if (Status answered = answerAddressRequest(value); !answered) {
            abort(StreamResetReason::MessageError, answered.error());
            return;
        }
    }
    startIdleTimer();
}

QList<wire::IpAddressRange> IpProxyTunnel::routesFor(int version) const
{
    if (!m_assigned[slotOf(version)])
        return {};
    const quint8 protocol = m_ipProtocol.value_or(0);
    if (m_scope.isEmpty())
        return m_context.ipAcl.permittedRanges(version, IpPrefix(), protocol);
    QList<wire::IpAddressRange> ranges;
    for (const IpPrefix &prefix : m_scope) {
        if (prefix.address.version() == version)
            ranges.append(m_context.ipAcl.permittedRanges(version, prefix, protocol));
    }
    // RFC 9484, 4.7.3: ordered by start address and not overlapping.
    std::sort(ranges.begin(), ranges.end(),
              [](const auto &a, const auto &b) { return a.start < b.start; });
    QList<wire::IpAddressRange> merged;
    for (const wire::IpAddressRange &range : std::as_const(ranges)) {
        if (!merged.isEmpty() && range.start <= merged.last().end) {
            merged.last().end = std::max(merged.last().end, range.end);
            continue;
        }
        merged.append(range);
    }
    return merged;
}

Status IpProxyTunnel::sendIpCapsule(wire::CapsuleType type, const Result<QByteArray> &value)
{
    if (!value)
        return value.error();
    return m_channel.sendCapsule(quint64(type), *value);
}

Status IpProxyTunnel::answerAddressRequest(QByteArrayView value)
{
    auto requested = wire::parseAddressRequest(value);
    if (!requested)
        return requested.error();
    QList<wire::AssignedAddress> answers;
    for (const wire::RequestedAddress &entry : std::as_const(*requested)) {
        const int version = entry.prefix.address.version();
        if (!m_assigned[slotOf(version)])
            assign(version, entry.prefix.address);
        const auto &address = m_assigned[slotOf(version)];
        // RFC 9484, 4.7.1: an all-zero address answers a request that cannot be satisfied.
        answers.append(wire::AssignedAddress{entry.requestId,
                                             address ? IpPrefix::host(*address)
                                                     : IpPrefix::host(IpAddress::zero(version))});
    }
    return sendIpCapsule(wire::CapsuleType::AddressAssign, wire::encodeAddressAssign(answers));
}

Status IpProxyTunnel::onChannelCapsule(quint64 type, QByteArrayView value)
{
    switch (type) {
    case quint64(wire::CapsuleType::AddressRequest):
        if (state() != State::Open) {
            // Answered once the addresses are assigned; validated now.
            if (auto parsed = wire::parseAddressRequest(value); !parsed)
                return parsed.error();
            m_earlyRequests.append(value.toByteArray());
            return {};
        }
        return answerAddressRequest(value);
    case quint64(wire::CapsuleType::AddressAssign):
        // The client's own addresses (4.7.1): validated, not needed by the proxy.
        if (auto parsed = wire::parseAddressAssign(value); !parsed)
            return parsed.error();
        return {};
    case quint64(wire::CapsuleType::RouteAdvertisement):
        // The client's routes (4.7.3): the proxy routes to the client by assigned address.
        if (auto parsed = wire::parseRouteAdvertisement(value); !parsed)
            return parsed.error();
        return {};
    default:
        return {}; // RFC 9297, 3.2: unknown capsule types are ignored
    }
}

bool IpProxyTunnel::inScope(const wire::IpPacketInfo &info) const
{
    if (m_ipProtocol && info.protocol != *m_ipProtocol)
        return false;
    if (m_scope.isEmpty())
        return true;
    return std::any_of(m_scope.begin(), m_scope.end(),
                       [&](const IpPrefix &prefix) { return prefix.contains(info.destination); });
}

void IpProxyTunnel::onChannelDatagram(QByteArrayView payload)
{
    if (state() != State::Open)
        return;
    auto info = wire::inspectIpPacket(payload);
    if (!info) {
        ++m_drops.malformed;
        return;
    }
    const auto &assigned = m_assigned[slotOf(info->version)];
    // RFC 9484, 4.5 / BCP 38: only the client's own addresses may appear as source.
    if (!assigned || info->source != *assigned) {
        ++m_drops.spoofedSource;
        return;
    }
    if (!inScope(*info)) {
        ++m_drops.outOfScope;
        return;
    }
    if (!m_context.ipAcl.permits(info->destination)) {
        ++m_drops.forbidden;
        return;
    }
    m_packet.resize(payload.size());
    std::memcpy(m_packet.data(), payload.data(), size_t(payload.size()));
    auto hopLimit = wire::decrementHopLimit(m_packet);
    if (!hopLimit || *hopLimit == 0) {
        // RFC 1812, 5.3.1 / RFC 8200, 3: the hop limit ran out here.
        ++m_drops.ttlExceeded;
        const IpAddress router =
            m_context.ipPool ? m_context.ipPool->gateway(info->version) : IpAddress();
        if (IpResponder::timeExceeded(payload, *info, router, m_reply))
            sendToClient(m_reply, false);
        return;
    }
    ++m_counters.datagramsUp;
    m_counters.bytesUp += quint64(payload.size());
    if (m_context.ipRouter) {
        if (!m_context.ipRouter->sendToNetwork(m_packet))
            ++m_drops.noRoute;
        return;
    }
    if (!IpResponder::answer(m_packet, *info, m_reply)) {
        ++m_drops.unanswered;
        return;
    }
    sendToClient(m_reply, true);
}

void IpProxyTunnel::deliverFromNetwork(QByteArrayView packet)
{
    if (state() == State::Open)
        sendToClient(packet, true);
}

void IpProxyTunnel::sendToClient(QByteArrayView packet, bool forwarded)
{
    if (forwarded) {
        // RFC 9484, 7: a packet entering the tunnel has been forwarded by the proxy.
        m_packet.resize(packet.size());
        std::memcpy(m_packet.data(), packet.data(), size_t(packet.size()));
        auto hopLimit = wire::decrementHopLimit(m_packet);
        if (!hopLimit || *hopLimit == 0) {
            ++m_drops.ttlExceeded;
            return;
        }
        packet = m_packet;
    }
    if (packet.size() > m_channel.maxDatagramPayload()) {
        ++m_drops.tooLarge;
        return;
    }
    if (m_channel.sendDatagram(packet, kMaxIpPacket).ok()) {
        ++m_counters.datagramsDown;
        m_counters.bytesDown += quint64(packet.size());
    }
}

quint64 IpProxyTunnel::dropCount() const
{
    return m_drops.total() + m_channel.counters().drops();
}

void IpProxyTunnel::releaseResources()
{
    ProxyMetrics &metrics = m_context.metrics;
    metrics.ipPacketsDropped("malformed", m_drops.malformed);
    metrics.ipPacketsDropped("spoofed_source", m_drops.spoofedSource);
    metrics.ipPacketsDropped("out_of_scope", m_drops.outOfScope);
    metrics.ipPacketsDropped("forbidden", m_drops.forbidden);
    metrics.ipPacketsDropped("ttl_exceeded", m_drops.ttlExceeded);
    metrics.ipPacketsDropped("too_large", m_drops.tooLarge);
    metrics.ipPacketsDropped("no_route", m_drops.noRoute);
    metrics.ipPacketsDropped("unanswered", m_drops.unanswered);
    countChannelDrops();
    disposeLater(m_resolver);
    for (auto &address : m_assigned) {
        if (!address)
            continue;
        if (m_context.ipRouter)
            m_context.ipRouter->remove(*address, this);
        if (m_context.ipPool)
            m_context.ipPool->release(*address);
        address.reset();
    }
    releaseChannel();
}

} // namespace qmasque
