#pragma once

#include "transport/HttpConnection.h"
#include "transport/StreamHandler.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>

namespace qmasque::test {

// H2PatternStream: one end of a bulk transfer test on one stream, for any HttpConnection. It
// sends `sendTotal` bytes of a deterministic pattern (seeded) as fast as the connection accepts
// them, honouring short writes and onStreamWritable(), then ends the stream; and it checks every
// received byte against the peer's pattern. While stalled it consumes nothing, so the peer's
// flow control must stop the sender; resume() returns the credit.
//
// Invariants are checked on every event, not sampled: `maxUnconsumed` is the largest backlog
// ever held, `patternError` is set at the first wrong byte.
class H2PatternStream : public QObject, public StreamHandler
{
    Q_OBJECT

public:
    H2PatternStream(HttpConnection *connection, StreamId id, int sendSeed, int receiveSeed,
                    qint64 sendTotal, QObject *parent = nullptr);
    ~H2PatternStream() override;

    static char patternByte(int seed, qint64 offset);

    // start: registers as the stream's handler and begins sending.
    bool start();
    void setStalled(bool stalled);
    // setEndAfterSending: end the stream once everything was sent (default). HTTP/1.1 tests turn
    // it off: an h1 endStream closes both directions.
    void setEndAfterSending(bool on) { m_endAfterSending = on; }

    qint64 accepted() const { return m_accepted; } // bytes sendStreamData() took
    qint64 received() const { return m_received; } // bytes delivered to us
    qint64 consumed() const { return m_consumed; } // bytes credited back
    qint64 unconsumed() const { return m_received - m_consumed; }
    qint64 maxUnconsumed() const { return m_maxUnconsumed; }
    bool sendBlocked() const { return m_blocked; } // the last write was short
    bool sendDone() const { return m_sendDone; }
    bool finReceived() const { return m_fin; }
    bool hasResponse() const { return m_response; }
    QString patternError;
    QString resetReason;

    void onStreamResponse(StreamId id, const Response &response) override;
    void onStreamData(StreamId id, QByteArrayView data, bool fin) override;
    void onStreamReset(StreamId id, const Error &reason) override;
    void onStreamWritable(StreamId id) override;

Q_SIGNALS:
    void progressed();

private:
    void pump();

    QPointer<HttpConnection> m_connection;
    const StreamId m_id;
    const int m_sendSeed;
    const int m_receiveSeed;
    const qint64 m_sendTotal;
    QByteArray m_chunk;
    qint64 m_accepted = 0;
    qint64 m_received = 0;
    qint64 m_consumed = 0;
    qint64 m_maxUnconsumed = 0;
    bool m_stalled = false;
    bool m_blocked = false;
    bool m_sendDone = false;
    bool m_fin = false;
    bool m_response = false;
    bool m_inPump = false;
    bool m_endAfterSending = true;
};

} // namespace qmasque::test
