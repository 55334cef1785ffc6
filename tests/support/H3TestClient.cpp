#include "support/H3TestClient.h"

#include "support/H3TestPattern.h"
#include "support/TestPki.h"

#include <QtTest/QSignalSpy>

#include <tuple>

namespace qmasque::test {

ConnectOptions h3ClientOptions(quint16 port, const QString &host)
{
    ConnectOptions options;
    options.host = host;
    options.port = port;
    options.tls.useSystemTrust = false;
    options.tls.caFile = TestPki::instance().caCert;
    options.connectTimeoutMs = 10000;
    return options;
}

H3Transport *connectH3(const ConnectOptions &options, QObject *parent, Error *error, int timeoutMs)
{
    auto *transport = new H3Transport(parent);
    QSignalSpy connectedSpy(transport, &HttpConnection::connected);
    QSignalSpy closedSpy(transport, &HttpConnection::closed);
    transport->connectToProxy(options);
    QDeadlineTimer deadline(timeoutMs);
    while (connectedSpy.isEmpty() && closedSpy.isEmpty() && !deadline.hasExpired())
        connectedSpy.wait(50);
    if (!connectedSpy.isEmpty())
        return transport;
    if (error) {
        *error = closedSpy.isEmpty() ? Error(ErrorCode::Timeout, QStringLiteral("no result"))
                                     : closedSpy.first().first().value<Error>();
    }
    delete transport;
    return nullptr;
}

void H3RecordingHandler::startUpload(qint64 total)
{
    uploadTotal = total;
    pumpUpload();
}

void H3RecordingHandler::pumpUpload()
{
    uploadBlocked = false;
    constexpr qsizetype kChunk = 64 * 1024;
    while (uploadAccepted < uploadTotal) {
        const qsizetype size = qsizetype(std::min<qint64>(kChunk, uploadTotal - uploadAccepted));
        const QByteArray chunk = H3TestPattern::chunk(uploadAccepted, size);
        const auto accepted = m_connection->sendStreamData(id, chunk);
        if (!accepted)
            return;
        uploadAccepted += *accepted;
        if (*accepted < size) {
            uploadBlocked = true;
            return;
        }
    }
    if (endAfterUpload && uploadTotal > 0)
        std::ignore = m_connection->endStream(id);
}

void H3RecordingHandler::consumeAll()
{
    m_connection->consumeStreamData(id, std::exchange(unconsumed, 0));
}

void H3RecordingHandler::onStreamResponse(StreamId, const Response &value)
{
    response = value;
    Q_EMIT responseReceived();
}

void H3RecordingHandler::onStreamData(StreamId streamId, QByteArrayView bytes, bool finished)
{
    if (verifyPattern && !H3TestPattern::matches(bytes, received))
        intact = false;
    if (keepData)
        data.append(bytes);
    received += bytes.size();
    if (autoConsume)
        m_connection->consumeStreamData(streamId, bytes.size());
    else
        unconsumed += bytes.size();
    if (!bytes.isEmpty())
        Q_EMIT dataReceived();
    if (finished) {
        fin = true;
        Q_EMIT this->finished();
    }
}

void H3RecordingHandler::onStreamReset(StreamId, const Error &reason)
{
    reset = reason;
    Q_EMIT resetReceived();
}

void H3RecordingHandler::onStreamWritable(StreamId)
{
    Q_EMIT writable();
    if (uploadTotal > 0)
        pumpUpload();
}

} // namespace qmasque::test
