#pragma once

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QTimer>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QUdpSocket>

#include <deque>
#include <random>

namespace qmasque::test {

// H3LossyRelay: a UDP relay that impairs a path the way tc netem would, for machines without
// netem: every datagram is delayed by a fixed time and dropped with a fixed probability, in each
// direction (seeded, so runs are comparable). The client talks to port(); the relay forwards to
// the target and sends the answers back to the last client address.
class H3LossyRelay : public QObject
{
    Q_OBJECT

public:
    struct Impairment
    {
        int delayMs = 0;
        double loss = 0.0; // probability, 0..1
    };

    H3LossyRelay(const QHostAddress &target, quint16 targetPort, Impairment toTarget,
                 Impairment toClient, quint32 seed = 1, QObject *parent = nullptr);

    bool listen();
    quint16 port() const { return m_front.localPort(); }
    quint64 forwarded() const { return m_forwarded; }
    quint64 dropped() const { return m_dropped; }

private:
    struct Pending
    {
        qint64 dueMs;
        QByteArray data;
        bool toTarget;
    };

    void readFront();
    void readBack();
    void enqueue(QByteArray data, bool toTarget);
    void release();

    QHostAddress m_target;
    quint16 m_targetPort;
    Impairment m_toTarget;
    Impairment m_toClient;
    QUdpSocket m_front; // faces the client
    QUdpSocket m_back;  // faces the target
    QHostAddress m_client;
    quint16 m_clientPort = 0;
    std::deque<Pending> m_pending; // ordered by dueMs: both directions share one delay clock
    QTimer m_timer;
    QElapsedTimer m_clock;
    std::mt19937 m_random;
    std::uniform_real_distribution<double> m_uniform{0.0, 1.0};
    quint64 m_forwarded = 0;
    quint64 m_dropped = 0;
};

} // namespace qmasque::test
