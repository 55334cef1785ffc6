#include "service/DemoHost.h"

#include <QtCore/QPointer>

namespace qmasque {

DemoHost::DemoHost(QObject *parent)
    : QObject(parent)
    , m_services(new DemoServices)
{
    qRegisterMetaType<DemoEndpoints>();
    m_thread.setObjectName(QStringLiteral("qmasque-demo"));
    m_services->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_services, &QObject::deleteLater);
    m_thread.start();
}

DemoHost::~DemoHost()
{
    DemoServices *services = m_services;
    QMetaObject::invokeMethod(
        services, [services] { services->stop(); }, Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
}

void DemoHost::start(const DemoSettings &settings)
{
    QPointer<DemoHost> self = this;
    DemoServices *services = m_services;
    QMetaObject::invokeMethod(
        services,
        [self, services, settings] {
            const Result<DemoEndpoints> result = services->start(settings);
            // Back on the engine thread (the host's), queued.
            QMetaObject::invokeMethod(
                self,
                [self, result] {
                    if (!self)
                        return;
                    if (result) {
                        self->m_running = true;
                        emit self->started(*result);
                    } else {
                        emit self->failed(result.error());
                    }
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

QByteArray DemoHost::proxyMetrics() const
{
    if (!m_running)
        return {};
    QByteArray text;
    DemoServices *services = m_services;
    QMetaObject::invokeMethod(
        services, [services, &text] { text = services->proxyMetrics(); },
        Qt::BlockingQueuedConnection);
    return text;
}

} // namespace qmasque
