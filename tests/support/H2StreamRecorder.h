#pragma once

#include "transport/HttpConnection.h"
#include "transport/StreamHandler.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>

#include <optional>

namespace qmasque::test {

// H2StreamRecorder: a StreamHandler for tests that records what one stream delivers (response,
// body bytes, FIN, reset, writable notifications) and signals each event, so tests wait on
// signals. Consumes delivered bytes at once unless setAutoConsume(false); consumePending() then
// returns the credit later. Works with any HttpConnection (h1, h2, client or server side).
class H2StreamRecorder : public QObject, public StreamHandler
{
    Q_OBJECT

public:
    explicit H2StreamRecorder(HttpConnection *connection, QObject *parent = nullptr);
    ~H2StreamRecorder() override;

    // attach: registers for `id` on the connection (setStreamHandler); returns its status.
    bool attach(StreamId id);
    StreamId id() const { return m_id; }

    void setAutoConsume(bool on) { m_autoConsume = on; }
    // consumePending: returns credit for every byte received but not consumed yet.
    void consumePending();
    qint64 unconsumed() const { return m_unconsumed; }

    std::optional<Response> response;
    QByteArray data;
    bool fin = false;
    std::optional<Error> reset;
    int writableCount = 0;
    qint64 maxUnconsumed = 0; // the largest unconsumed backlog seen

    void onStreamResponse(StreamId id, const Response &response) override;
    void onStreamData(StreamId id, QByteArrayView data, bool fin) override;
    void onStreamReset(StreamId id, const Error &reason) override;
    void onStreamWritable(StreamId id) override;

Q_SIGNALS:
    void responseReceived();
    void dataReceived();
    void finished();
    void resetReceived();
    void writable();

private:
    QPointer<HttpConnection> m_connection;
    StreamId m_id = -1;
    bool m_autoConsume = true;
    qint64 m_unconsumed = 0;
};

} // namespace qmasque::test
