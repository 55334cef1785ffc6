#include "proxy/IpRouter.h"

#include "proxy/TunDevice.h"
#include "wire/IpPacket.h"

namespace qmasque {

namespace {

constexpr int kReadBudget = 256; // packets per wake-up

wire::IpAddress destinationOf(QByteArrayView packet)
{
    // Only the fixed header fields are needed to route; the tunnel validates the rest.
    const int version = wire::ipVersion(packet);
    if (version == 4 && packet.size() >= 20)
        return wire::IpAddress::fromBytes(packet.sliced(16, 4));
    if (version == 6 && packet.size() >= 40)
        return wire::IpAddress::fromBytes(packet.sliced(24, 16));
    return {};
}

} // namespace

IpRouter::IpRouter(QObject *parent)
    : QObject(parent)
{}

IpRouter::~IpRouter() = default;

Status IpRouter::open(const QString &name, const QList<wire::IpPrefix> &addresses)
{
    auto device = std::make_unique<TunDevice>();
    if (Status opened = device->open(name, addresses); !opened)
        return opened;
    m_device = std::move(device);
    m_buffer.resize(TunDevice::kMaxPacket);
    connect(m_device.get(), &TunDevice::readable, this, &IpRouter::handleReadable);
    return {};
}

void IpRouter::add(const wire::IpAddress &address, IpPacketSink *sink)
{
    m_sinks.insert(address, sink);
}

void IpRouter::remove(const wire::IpAddress &address, IpPacketSink *sink)
{
    auto it = m_sinks.find(address);
    if (it != m_sinks.end() && it.value() == sink)
        m_sinks.erase(it);
}

bool IpRouter::sendToNetwork(QByteArrayView packet)
{
    if (!m_device || !m_device->write(packet)) {
        ++m_writeFailures;
        return false;
    }
    return true;
}

void IpRouter::handleReadable()
{
    for (int i = 0; i < kReadBudget; ++i) {
        const qint64 size = m_device->read(m_buffer.data(), m_buffer.size());
        if (size < 0)
            return;
        const QByteArrayView packet(m_buffer.constData(), size);
        IpPacketSink *sink = m_sinks.value(destinationOf(packet));
        if (!sink) {
            ++m_unroutable;
            continue;
        }
        sink->deliverFromNetwork(packet);
    }
}

} // namespace qmasque
