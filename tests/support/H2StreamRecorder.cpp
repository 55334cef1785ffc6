#include "support/H2StreamRecorder.h"

namespace qmasque::test {

H2StreamRecorder::H2StreamRecorder(HttpConnection *connection, QObject *parent)
    : QObject(parent)
    , m_connection(connection)
{}

H2StreamRecorder::~H2StreamRecorder()
{
    if (m_connection && m_id >= 0)
        m_connection->clearStreamHandler(m_id);
}

bool H2StreamRecorder::attach(StreamId id)
{
    m_id = id;
    return m_connection && m_connection->setStreamHandler(id, this).ok();
}

void H2StreamRecorder::consumePending()
{
    if (m_connection && m_unconsumed > 0)
        m_connection->consumeStreamData(m_id, m_unconsumed);
    m_unconsumed = 0;
}

void H2StreamRecorder::onStreamResponse(StreamId, const Response &received)
{
    response = received;
    Q_EMIT responseReceived();
}

void H2StreamRecorder::onStreamData(StreamId, QByteArrayView bytes, bool end)
{
    data.append(bytes.data(), bytes.size());
    m_unconsumed += bytes.size();
    maxUnconsumed = qMax(maxUnconsumed, m_unconsumed);
    if (m_autoConsume)
        consumePending();
    if (end)
        fin = true;
    if (!bytes.isEmpty())
        Q_EMIT dataReceived();
    if (end)
        Q_EMIT finished();
}

void H2StreamRecorder::onStreamReset(StreamId, const Error &reason)
{
    reset = reason;
    Q_EMIT resetReceived();
}

void H2StreamRecorder::onStreamWritable(StreamId)
{
    ++writableCount;
    Q_EMIT writable();
}

} // namespace qmasque::test
