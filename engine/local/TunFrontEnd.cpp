#include "local/TunFrontEnd.h"

#include "api/Profile.h"
#include "core/Log.h"
#include "local/TunInterface.h"
#include "local/TunRoutePlan.h"
#include "tunnel/TunnelClient.h"

#include <QtNetwork/QHostInfo>

namespace qmasque {

namespace {

std::optional<wire::IpAddress> toIpAddress(const QHostAddress &address)
{
    bool mapped = false;
    const quint32 v4 = address.toIPv4Address(&mapped);
    if (mapped)
        return wire::IpAddress::fromIpv4(v4);
    return wire::IpAddress::fromString(address.toString());
}

} // namespace

TunFrontEnd::TunFrontEnd(TunnelClient *client, const QString &deviceName, QObject *parent)
    : TunFrontEnd(client, deviceName, TunOptions(), parent)
{}

TunFrontEnd::TunFrontEnd(TunnelClient *client, const QString &deviceName, const TunOptions &options,
                         QObject *parent)
    : LocalFrontEnd(parent)
    , m_client(client)
    , m_name(deviceName)
    , m_options(options)
{
    m_addressTimer.setSingleShot(true);
    connect(&m_addressTimer, &QTimer::timeout, this, &TunFrontEnd::handleAddressTimeout);
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &TunFrontEnd::openTunnel);
}

TunFrontEnd::~TunFrontEnd()
{
    stop();
}

Status TunFrontEnd::start()
{
    if (!m_stopped)
        return {};
    auto *device = new TunInterface(this);
    if (Status opened = device->open(m_name); !opened) {
        delete device;
        return opened;
    }
    if (!m_client) {
        delete device;
        return Error(ErrorCode::Internal, QStringLiteral("tun: no tunnel client"));
    }
    if (Status netlink = m_netlink.open(); !netlink) {
        delete device;
        return netlink;
    }
    m_device = device;
    m_stopped = false;
    m_buffer.resize(TunInterface::kMaxPacket);
    connect(m_device, &TunInterface::readable, this, &TunFrontEnd::handleReadable);

    // The proxy's own addresses are cut out of the routes (see routePrefixes()).
    m_excluded = m_options.excludeFromRoutes;
    m_lookupDone = true;
    if (auto proxy = parseEndpoint(m_client->proxyKey()); proxy) {
        if (auto literal = wire::IpAddress::fromString(proxy->host)) {
            m_excluded.append(*literal);
        } else {
            m_lookupDone = false;
            m_lookupId = QHostInfo::lookupHost(proxy->host, this, [this](const QHostInfo &info) {
                m_lookupId = -1;
                QList<wire::IpAddress> addresses;
                for (const QHostAddress &address : info.addresses()) {
                    if (auto ip = toIpAddress(address))
                        addresses.append(*ip);
                }
                handleProxyLookup(addresses);
            });
        }
    }
    qCInfo(lcLocal).noquote() << description() << "created";
    m_retryMs = m_options.retryMinMs;
    openTunnel();
    return {};
}

void TunFrontEnd::stop()
{
    if (std::exchange(m_stopped, true))
        return;
    m_addressTimer.stop();
    m_retryTimer.stop();
    if (m_lookupId >= 0)
        QHostInfo::abortHostLookup(std::exchange(m_lookupId, -1));
    if (m_openId != 0)
        m_client->cancel(std::exchange(m_openId, 0));
    if (m_tunnel) {
        disconnect(m_tunnelWatch);
        disconnect(m_tunnel, nullptr, this, nullptr);
        m_tunnel->setReceiver({});
        m_tunnel->close();
        m_tunnel.clear();
    }
    // Best effort: what we added goes; the kernel removes the rest with the device.
    if (m_device) {
        for (const wire::IpPrefix &route : std::as_const(m_routes))
            (void)m_netlink.removeRoute(m_device->ifindex(), route);
        for (const wire::IpPrefix &address : std::as_const(m_addresses))
            (void)m_netlink.removeAddress(m_device->ifindex(), address);
        m_device->close(); // the device goes now; the object later (we may be in its signal)
        std::exchange(m_device, nullptr)->deleteLater();
        qCInfo(lcLocal).noquote() << "tun" << m_name << "removed";
    }
    m_routes.clear();
    m_addresses.clear();
    m_mtu = 0;
    m_ready = false;
}

QString TunFrontEnd::deviceName() const
{
    return m_device ? m_device->name() : m_name;
}

QString TunFrontEnd::description() const
{
    QStringList addresses;
    for (const wire::IpPrefix &address : m_addresses)
        addresses.append(address.toString());
    if (addresses.isEmpty())
        return QStringLiteral("tun ") + deviceName();
    return QStringLiteral("tun %1 %2").arg(deviceName(), addresses.join(u','));
}

void TunFrontEnd::openTunnel()
{
    if (m_stopped || m_openId != 0 || m_tunnel)
        return;
    m_openId = m_client->openIp(
        wire::IpScope{}, this,
        [this](const Result<IpTunnel *> &result) {
            m_openId = 0;
            if (!result) {
                handleTunnelEnded(result.error());
                return;
            }
            handleTunnelOpened(*result);
        },
        QStringLiteral("tun ") + deviceName(), m_options.mtu);
}

void TunFrontEnd::handleTunnelOpened(IpTunnel *tunnel)
{
    m_tunnel = tunnel;
    m_retryMs = m_options.retryMinMs;
    m_tunnelWatch = connect(tunnel, &TunnelSession::closed, this, &TunFrontEnd::handleTunnelEnded);
    connect(tunnel, &IpTunnel::addressesAssigned, this, &TunFrontEnd::applyAddresses);
    connect(tunnel, &IpTunnel::routesAdvertised, this, [this](const auto &routes) {
        m_advertised = routes;
        applyRoutes();
    });
    tunnel->setReceiver([this](QByteArrayView packet) {
        if (m_device && m_device->write(packet)) {
            ++m_counters.packetsDown;
            m_counters.bytesDown += quint64(packet.size());
        } else {
            ++m_counters.dropWriteFailed;
        }
    });
    // RFC 9484, 4.7.2: an all-zero address asks for any address of that version.
    const Result<QList<quint64>> requested =
        tunnel->requestAddresses({wire::IpPrefix::host(wire::IpAddress::zero(4)),
                                  wire::IpPrefix::host(wire::IpAddress::zero(6))});
    if (!requested)
        qCWarning(lcLocal).noquote()
            << description() << "ADDRESS_REQUEST:" << requested.error().toString();
    m_advertised = tunnel->advertisedRoutes();
    m_addressTimer.start(m_options.addressTimeoutMs);
    if (!tunnel->assignedAddresses().isEmpty())
        applyAddresses(tunnel->assignedAddresses());
}

void TunFrontEnd::handleTunnelEnded(const Error &reason)
{
    if (m_stopped)
        return;
    m_addressTimer.stop();
    if (m_tunnel) {
        disconnect(m_tunnelWatch);
        disconnect(m_tunnel, nullptr, this, nullptr);
        if (m_tunnel->state() != TunnelState::Closed) {
            m_tunnel->setReceiver({});
            m_tunnel->close();
        }
        m_tunnel.clear();
    }
    m_ready = false;
    qCWarning(lcLocal).noquote() << description() << "tunnel ended:" << reason.toString()
                                 << "- reopening in" << m_retryMs << "ms";
    emit interrupted(reason);
    m_retryTimer.start(m_retryMs);
    m_retryMs = qMin(m_retryMs * 2, m_options.retryMaxMs);
}

void TunFrontEnd::handleAddressTimeout()
{
    handleTunnelEnded(
        Error(ErrorCode::Timeout, QStringLiteral("the proxy assigned no address within %1 ms")
                                      .arg(m_options.addressTimeoutMs)));
}

void TunFrontEnd::applyAddresses(const QList<wire::AssignedAddress> &assigned)
{
    if (m_stopped || !m_device || !m_tunnel)
        return;
    // RFC 9484, 4.7.1: each ADDRESS_ASSIGN replaces the set; 0.0.0.0/32 and ::/128 answer a
    // request that could not be met.
    QList<wire::IpPrefix> wanted;
    for (const wire::AssignedAddress &entry : assigned) {
        if (!entry.prefix.address.isZero() && !wanted.contains(entry.prefix))
            wanted.append(entry.prefix);
    }
    if (wanted.isEmpty())
        return; // keep waiting (the address timer runs)
    const int ifindex = m_device->ifindex();
    const int mtu = int(m_tunnel->mtu());
    if (mtu != m_mtu) {
        if (Status up = m_netlink.setLinkUp(ifindex, mtu); !up) {
            fail(up.error());
            return;
        }
        m_mtu = mtu;
    }
    for (const wire::IpPrefix &address : std::as_const(m_addresses)) {
        if (!wanted.contains(address))
            (void)m_netlink.removeAddress(ifindex, address);
    }
    for (const wire::IpPrefix &address : std::as_const(wanted)) {
        if (m_addresses.contains(address))
            continue;
        if (Status added = m_netlink.addAddress(ifindex, address); !added) {
            fail(added.error());
            return;
        }
    }
    m_addresses = wanted;
    m_addressTimer.stop();
    applyRoutes();
}

void TunFrontEnd::handleProxyLookup(const QList<wire::IpAddress> &addresses)
{
    m_excluded.append(addresses);
    m_lookupDone = true;
    applyRoutes();
}

wire::IpAddress TunFrontEnd::sourceFor(int version) const
{
    for (const wire::IpPrefix &address : m_addresses) {
        if (address.address.version() == version)
            return address.address;
    }
    return {};
}

void TunFrontEnd::applyRoutes()
{
    if (m_stopped || !m_device || m_addresses.isEmpty() || !m_lookupDone)
        return; // again once the addresses and the proxy's addresses are known
    QList<wire::IpPrefix> wanted;
    if (m_options.applyRoutes) {
        for (const wire::IpPrefix &prefix : routePrefixes(m_advertised, m_excluded)) {
            // A family without an address of ours cannot send: no routes for it.
            if (!sourceFor(prefix.address.version()).isNull())
                wanted.append(prefix);
        }
    }
    const int ifindex = m_device->ifindex();
    for (const wire::IpPrefix &route : std::as_const(m_routes)) {
        if (!wanted.contains(route))
            (void)m_netlink.removeRoute(ifindex, route);
    }
    QList<wire::IpPrefix> applied;
    for (const wire::IpPrefix &route : std::as_const(wanted)) {
        if (!m_routes.contains(route)) {
            if (Status added =
                    m_netlink.addRoute(ifindex, route, sourceFor(route.address.version()));
                !added) {
                // One refused route (e.g. IPv6 disabled on this host) does not stop the rest.
                qCWarning(lcLocal).noquote()
                    << description() << "route" << route.toString() << added.error().toString();
                continue;
            }
        }
        applied.append(route);
    }
    m_routes = applied;
    if (!m_ready && m_tunnel) {
        m_ready = true;
        qCInfo(lcLocal).noquote() << QStringLiteral("%1 up, mtu %2, %3 routes")
                                         .arg(description())
                                         .arg(m_mtu)
                                         .arg(m_routes.size());
        emit ready();
    }
}

void TunFrontEnd::handleReadable()
{
    if (!m_device)
        return;
    for (int reads = 0; reads < kMaxReadsPerWake; ++reads) {
        const qint64 n = m_device->read(m_buffer.data(), m_buffer.size());
        if (n == -1)
            return;
        if (n == -2) {
            fail(tunOpenError(m_device->lastError(),
                              QStringLiteral("read from TUN device %1").arg(deviceName())));
            return;
        }
        const QByteArrayView packet(m_buffer.constData(), qsizetype(n));
        if (!m_tunnel || !m_tunnel->isOpen()) {
            ++m_counters.dropNoTunnel;
            continue;
        }
        if (n > m_tunnel->mtu()) {
            ++m_counters.dropTooLarge;
            continue;
        }
        if (!m_tunnel->sendPacket(packet)) {
            ++m_counters.dropTunnelRefused;
            continue;
        }
        ++m_counters.packetsUp;
        m_counters.bytesUp += quint64(n);
    }
}

void TunFrontEnd::fail(const Error &error)
{
    qCWarning(lcLocal).noquote() << description() << "failed:" << error.toString();
    stop();
    emit failed(error);
}

} // namespace qmasque
