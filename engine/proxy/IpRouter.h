#pragma once

#include "api/Result.h"
#include "wire/IpAddress.h"

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QObject>

#include <memory>

namespace qmasque {

class TunDevice;

// IpPacketSink: where packets for one assigned address go (an IpProxyTunnel).
class IpPacketSink
{
public:
    virtual ~IpPacketSink() = default;
    // deliverFromNetwork: one IP packet for the sink's address; the view is valid during the
    // call.
    virtual void deliverFromNetwork(QByteArrayView packet) = 0;
};

// IpRouter: joins CONNECT-IP tunnels and a TUN device. Packets from tunnels are written to the
// device; packets read from the device are routed by destination address to the tunnel that
// was assigned it (unknown destinations are counted and dropped). Reads are batched into one
// reused buffer. Engine thread only; owned by the MasqueProxy.
class IpRouter final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(IpRouter)

public:
    explicit IpRouter(QObject *parent = nullptr);
    ~IpRouter() override;

    // open: creates the TUN device `name` with the gateway `addresses` (TunDevice::open()).
    Status open(const QString &name, const QList<wire::IpPrefix> &addresses);

    // add / remove: the sink (not owned) for `address`; remove() only if still that sink.
    void add(const wire::IpAddress &address, IpPacketSink *sink);
    void remove(const wire::IpAddress &address, IpPacketSink *sink);

    // sendToNetwork: writes a packet to the device; false when it was dropped.
    bool sendToNetwork(QByteArrayView packet);

    quint64 unroutable() const noexcept { return m_unroutable; }
    quint64 writeFailures() const noexcept { return m_writeFailures; }

private:
    void handleReadable();

    std::unique_ptr<TunDevice> m_device;
    QHash<wire::IpAddress, IpPacketSink *> m_sinks; // not owned
    QByteArray m_buffer;
    quint64 m_unroutable = 0;
    quint64 m_writeFailures = 0;
};

} // namespace qmasque
