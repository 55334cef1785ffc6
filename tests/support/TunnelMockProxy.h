#pragma once

#include "support/MockTransport.h"

#include <QtCore/QMap>
#include <QtCore/QObject>
#include <QtCore/QPointer>

#include <optional>

namespace qmasque::test {

// TunnelMockProxy: plays the proxy for tunnel sessions on a MockNetwork. Every request submitted
// on a transport the network makes is recorded and, per transport kind, answered after a delay
// with a scripted response (or not at all). The default answer is 200 with capsule-protocol: ?1
// for connect-udp / connect-ip (101 for those over h1, as the Upgrade form requires), plain 200
// otherwise.
class TunnelMockProxy : public QObject
{
    Q_OBJECT

public:
    struct Answer
    {
        bool respond = true;
        int delayMs = 0; // from the submit, on the event loop (never inside submitRequest)
        int status = 0;  // 0 = the default for the request (200 / 101)
        std::optional<HeaderList> headers; // unset = the default for the request
    };

    struct Seen
    {
        QPointer<MockTransport> transport;
        TransportKind kind = TransportKind::H3;
        StreamId id = -1;
        Request request;
    };

    explicit TunnelMockProxy(MockNetwork *network, QObject *parent = nullptr);

    void setAnswer(TransportKind kind, const Answer &answer) { m_answers.insert(kind, answer); }

    const QList<Seen> &requests() const { return m_requests; }
    // last: the newest transport of `kind` still alive, or null.
    MockTransport *last(TransportKind kind) const;
    const Seen *lastRequest(TransportKind kind) const;

    static HeaderList defaultHeaders(const Request &request);
    static int defaultStatus(TransportKind kind, const Request &request);

Q_SIGNALS:
    void requestSeen(qmasque::TransportKind kind, qmasque::StreamId id);
    void answered(qmasque::TransportKind kind, qmasque::StreamId id);

private:
    void handleTransport(MockTransport *transport);

    QMap<TransportKind, Answer> m_answers;
    QList<Seen> m_requests;
    QList<QPointer<MockTransport>> m_transports;
};

} // namespace qmasque::test
