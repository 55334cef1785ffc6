#pragma once

#include "local/LocalFrontEnd.h"
#include "local/RouteNetlink.h"
#include "tunnel/IpTunnel.h"
#include "wire/IpAddress.h"

#include <QtCore/QPointer>
#include <QtCore/QTimer>

namespace qmasque {

class TunInterface;
class TunnelClient;

// TunOptions: how the TUN front end runs. Times in milliseconds.
struct TunOptions
{
    qint64 mtu = IpTunnel::kDefaultMtu; // asked of the tunnel; the device gets IpTunnel::mtu()
    int addressTimeoutMs = 5000;        // ADDRESS_ASSIGN must follow the open within this
    int retryMinMs = 1000;              // reopening after the tunnel ended: first wait,
    int retryMaxMs = 30000;             // doubling up to this
    bool applyRoutes = true;            // install the advertised routes (else addresses only)
    // Addresses never routed into the device, besides the MASQUE proxy's own (resolved from the
    // profile's proxy host): e.g. a DNS server that must stay reachable directly.
    QList<wire::IpAddress> excludeFromRoutes;
};

// TunFrontEnd counters: packets both ways and every drop under one reason.
struct TunCounters
{
    quint64 packetsUp = 0;   // device -> tunnel
    quint64 packetsDown = 0; // tunnel -> device
    quint64 bytesUp = 0;
    quint64 bytesDown = 0;
    quint64 dropTooLarge = 0;      // read from the device above the tunnel's MTU
    quint64 dropNoTunnel = 0;      // read while no tunnel was open (opening, reconnecting)
    quint64 dropTunnelRefused = 0; // the tunnel refused them (queue full)
    quint64 dropWriteFailed = 0;   // the device did not take a packet from the tunnel

    quint64 drops() const noexcept
    {
        return dropTooLarge + dropNoTunnel + dropTunnelRefused + dropWriteFailed;
    }
};

// TunFrontEnd: "--tun qmtun0" (Linux, CAP_NET_ADMIN): a TUN device whose packets travel through
// one CONNECT-IP tunnel (RFC 9484) of scope "any target, any protocol".
//
//  - start() creates the device (TunInterface; errors at once: permission_denied naming
//    CAP_NET_ADMIN, invalid_config for a bad name) and opens the tunnel.
//  - Once open, it asks for one address of each version (ADDRESS_REQUEST, 4.7.2) and waits
//    for ADDRESS_ASSIGN (4.7.1; an unprompted one counts too) up to addressTimeoutMs. The
//    assigned addresses go on the device (rtnetlink, RouteNetlink), which comes up with the
//    tunnel's MTU. Later assignments replace them (added / removed by difference).
//  - The advertised routes (ROUTE_ADVERTISEMENT, 4.7.3) become routes through the device
//    (routePrefixes(): exact CIDR cover, never /0: a full range is installed as two /1 halves,
//    so the default route itself is never changed; the proxy's own addresses are cut out so
//    the tunnel never carries itself). Nothing else of the host's routing is touched.
//  - Packets: the device is read in batches (up to kMaxReadsPerWake per wake, one reused
//    buffer); packets above the tunnel's MTU, or while no tunnel is open, are dropped and
//    counted; packets from the tunnel are written to the device.
//  - When the tunnel ends (proxy gone, connection lost), interrupted(reason) is emitted and it
//    is reopened after retryMinMs, doubling up to retryMaxMs; addresses and routes stay
//    meanwhile (packets to them are dropped, not leaked around the tunnel), and ready() comes
//    again once the new assignment is applied.
//  - stop() closes the tunnel, removes the routes and addresses it added, and closes the
//    device, which removes it (unless it was a persistent device made beforehand).
//  - failed(error): the device itself failed (read error: it was deleted under us); the front
//    end has stopped then.
//
// Engine thread only. `client` (not owned) must outlive the front end.
class TunFrontEnd final : public LocalFrontEnd
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TunFrontEnd)

public:
    static constexpr int kMaxReadsPerWake = 64;

    TunFrontEnd(TunnelClient *client, const QString &deviceName, QObject *parent = nullptr);
    TunFrontEnd(TunnelClient *client, const QString &deviceName, const TunOptions &options,
                QObject *parent = nullptr);
    ~TunFrontEnd() override;

    Status start() override;
    void stop() override;
    QString description() const override;
    // activeClients: 1 while the tunnel is open and addresses are applied, else 0.
    int activeClients() const override { return m_ready ? 1 : 0; }

    QString deviceName() const;
    int mtu() const noexcept { return m_mtu; }
    bool isReady() const noexcept { return m_ready; }
    // What is applied to the device now.
    const QList<wire::IpPrefix> &addresses() const noexcept { return m_addresses; }
    const QList<wire::IpPrefix> &routes() const noexcept { return m_routes; }
    const TunCounters &counters() const noexcept { return m_counters; }

Q_SIGNALS:
    // ready: the tunnel is open and its addresses (and routes) are on the device.
    void ready();
    // interrupted: the tunnel ended or failed to open; it is retried.
    void interrupted(const qmasque::Error &reason);

private:
    void openTunnel();
    void handleTunnelOpened(IpTunnel *tunnel);
    void handleTunnelEnded(const Error &reason);
    void handleAddressTimeout();
    void applyAddresses(const QList<wire::AssignedAddress> &assigned);
    void applyRoutes();
    void handleProxyLookup(const QList<wire::IpAddress> &addresses);
    void handleReadable();
    void fail(const Error &error);
    wire::IpAddress sourceFor(int version) const;

    TunnelClient *m_client; // not owned
    const QString m_name;
    const TunOptions m_options;
    TunInterface *m_device = nullptr; // child
    RouteNetlink m_netlink;
    quint64 m_openId = 0;
    QPointer<IpTunnel> m_tunnel; // not owned (TunnelClient's)
    QMetaObject::Connection m_tunnelWatch;
    QTimer m_addressTimer;
    QTimer m_retryTimer;
    int m_retryMs = 0;
    int m_lookupId = -1;
    bool m_lookupDone = false;
    QList<wire::IpAddress> m_excluded; // the proxy's addresses + options.excludeFromRoutes
    QList<wire::IpAddressRange> m_advertised;
    QList<wire::IpPrefix> m_addresses; // on the device
    QList<wire::IpPrefix> m_routes;    // through the device
    int m_mtu = 0;                     // applied to the device; 0 = not up yet
    bool m_ready = false;
    bool m_stopped = true;
    QByteArray m_buffer; // one packet, reused
    TunCounters m_counters;
};

} // namespace qmasque
