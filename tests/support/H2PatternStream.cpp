#include "support/H2PatternStream.h"

namespace qmasque::test {

namespace {
constexpr qint64 kChunk = 64 * 1024;
}

H2PatternStream::H2PatternStream(HttpConnection *connection, StreamId id, int sendSeed,
                                 int receiveSeed, qint64 sendTotal, QObject *parent)
    : QObject(parent)
    , m_connection(connection)
    , m_id(id)
    , m_sendSeed(sendSeed)
    , m_receiveSeed(receiveSeed)
    , m_sendTotal(sendTotal)
{}

H2PatternStream::~H2PatternStream()
{
    if (m_connection)
        m_connection->clearStreamHandler(m_id);
}

char H2PatternStream::patternByte(int seed, qint64 offset)
{
    // Varies within and across 64 KiB blocks, so a misplaced or repeated chunk is caught.
    return char((offset * 131 + (offset >> 16) * 7 + seed * 29) & 0xff);
}

bool H2PatternStream::start()
{
    if (!m_connection || !m_connection->setStreamHandler(m_id, this).ok())
        return false;
    pump();
    return true;
}

void H2PatternStream::setStalled(bool stalled)
{
    m_stalled = stalled;
    if (!stalled && m_connection && unconsumed() > 0) {
        m_connection->consumeStreamData(m_id, unconsumed());
        m_consumed = m_received;
    }
}

void H2PatternStream::pump()
{
    if (m_inPump || !m_connection)
        return;
    m_inPump = true;
    while (m_accepted < m_sendTotal) {
        const qint64 size = qMin(kChunk, m_sendTotal - m_accepted);
        m_chunk.resize(qsizetype(size));
        for (qint64 i = 0; i < size; ++i)
            m_chunk[qsizetype(i)] = patternByte(m_sendSeed, m_accepted + i);
        auto accepted = m_connection->sendStreamData(m_id, m_chunk);
        if (!accepted) {
            resetReason = accepted.error().toString();
            break;
        }
        m_accepted += *accepted;
        m_blocked = *accepted < size;
        if (m_blocked)
            break;
    }
    if (m_accepted == m_sendTotal && !m_sendDone) {
        m_sendDone = true;
        if (m_endAfterSending)
            (void)m_connection->endStream(m_id);
    }
    m_inPump = false;
    Q_EMIT progressed();
}

void H2PatternStream::onStreamResponse(StreamId, const Response &)
{
    m_response = true;
    Q_EMIT progressed();
}

void H2PatternStream::onStreamData(StreamId, QByteArrayView data, bool fin)
{
    if (patternError.isEmpty()) {
        for (qsizetype i = 0; i < data.size(); ++i) {
            if (data[i] != patternByte(m_receiveSeed, m_received + i)) {
                patternError = QStringLiteral("wrong byte at offset %1").arg(m_received + i);
                break;
            }
        }
    }
    m_received += data.size();
    m_maxUnconsumed = qMax(m_maxUnconsumed, unconsumed());
    if (!m_stalled && !data.isEmpty()) {
        m_connection->consumeStreamData(m_id, data.size());
        m_consumed += data.size();
    }
    m_fin = m_fin || fin;
    Q_EMIT progressed();
}

void H2PatternStream::onStreamReset(StreamId, const Error &reason)
{
    resetReason = reason.toString();
    Q_EMIT progressed();
}

void H2PatternStream::onStreamWritable(StreamId)
{
    m_blocked = false;
    pump();
}

} // namespace qmasque::test
