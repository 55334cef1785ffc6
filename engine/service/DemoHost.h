#pragma once

#include "service/DemoServices.h"

#include <QtCore/QObject>
#include <QtCore/QThread>

namespace qmasque {

// DemoHost: runs DemoServices on a thread of its own ("qmasque-demo"), so the embedded proxy and
// the demo targets do not share the engine thread with the client. Lives on the engine thread.
//
//   host->start(settings);   // started(endpoints) or failed(error) follows, queued
//   host->proxyMetrics();    // the proxy's OpenMetrics text (waits for the demo thread)
//   delete host;             // stops the services and joins the thread
//
// The demo thread never waits for the engine thread, so the engine may wait for it.
class DemoHost final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DemoHost)

public:
    explicit DemoHost(QObject *parent = nullptr);
    ~DemoHost() override;

    void start(const DemoSettings &settings);
    bool isRunning() const noexcept { return m_running; }
    QByteArray proxyMetrics() const;

Q_SIGNALS:
    void started(const qmasque::DemoEndpoints &endpoints);
    void failed(const qmasque::Error &error);

private:
    QThread m_thread;
    DemoServices *m_services; // lives on m_thread; deleted there when it finishes
    bool m_running = false;
};

} // namespace qmasque
