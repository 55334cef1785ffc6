#pragma once

#include "transport/ConnectOptions.h"
#include "transport/StreamHandler.h"
#include "transport/h3/H3Transport.h"

#include <QtCore/QObject>

#include <optional>

namespace qmasque::test {

// h3ClientOptions: options for a client of H3TestServer on `host`:`port`, trusting TestPki's CA
// only (no system store).
ConnectOptions h3ClientOptions(quint16 port, const QString &host = QStringLiteral("127.0.0.1"));

// connectH3: a new H3Transport (child of `parent`) connected with `options`, or nullptr with
// `*error` set when it closed instead (waits up to `timeoutMs`).
H3Transport *connectH3(const ConnectOptions &options, QObject *parent, Error *error = nullptr,
                       int timeoutMs = 15000);

// H3RecordingHandler: a client stream handler for the tests. It records what arrives, emits a
// signal per event (for QSignalSpy / QTRY_*), optionally checks the data against H3TestPattern,
// consumes automatically unless told to stall, and can upload H3TestPattern bytes with
// backpressure.
class H3RecordingHandler : public QObject, public StreamHandler
{
    Q_OBJECT

public:
    explicit H3RecordingHandler(HttpConnection *connection, QObject *parent = nullptr)
        : QObject(parent)
        , m_connection(connection)
    {}

    StreamId id = -1;
    bool keepData = true; // append received bytes to `data`
    bool verifyPattern = false;
    bool autoConsume = true; // consumeStreamData() at once

    std::optional<Response> response;
    QByteArray data;
    qint64 received = 0;
    qint64 unconsumed = 0;
    bool intact = true;
    bool fin = false;
    std::optional<Error> reset;

    // Upload state.
    qint64 uploadTotal = 0;
    qint64 uploadAccepted = 0;
    bool uploadBlocked = false;
    bool endAfterUpload = true;

    // startUpload: sends `total` bytes of H3TestPattern, resuming on onStreamWritable().
    void startUpload(qint64 total);
    void consumeAll();

    void onStreamResponse(StreamId streamId, const Response &response) override;
    void onStreamData(StreamId streamId, QByteArrayView bytes, bool finished) override;
    void onStreamReset(StreamId streamId, const Error &reason) override;
    void onStreamWritable(StreamId streamId) override;

Q_SIGNALS:
    void responseReceived();
    void dataReceived();
    void finished();
    void resetReceived();
    void writable();

private:
    void pumpUpload();

    HttpConnection *m_connection; // not owned; outlives the handler in the tests
};

} // namespace qmasque::test
