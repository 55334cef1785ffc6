#pragma once

#include "transport/StreamHandler.h"
#include "transport/Transport.h"

#include <QtCore/QByteArrayList>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QMap>
#include <QtCore/QObject>
#include <QtCore/QPointer>

#include <deque>
#include <functional>
#include <optional>
#include <variant>
#include <vector>

namespace qmasque::test {

// MockConnect: what happens to one dial (the erlang mock's connect_result script).
struct MockConnect
{
    enum class Kind : quint8
    {
        Succeed,            // connected() after delayMs
        Fail,               // closed(error) after delayMs
        Never,              // no answer at all
        DestroySelf,        // the transport deletes itself after delayMs, before connected()
        ConnectThrows,      // connectToProxy() throws
        FactoryThrows,      // the factory throws instead of making a transport
        FactoryReturnsNull, // the factory returns nullptr
    };
    Kind kind = Kind::Succeed;
    int delayMs = 0;
    Error error;

    static MockConnect succeed(int delayMs = 0) { return {Kind::Succeed, delayMs, {}}; }
    static MockConnect fail(Error error, int delayMs = 0)
    {
        return {Kind::Fail, delayMs, std::move(error)};
    }
    static MockConnect never() { return {Kind::Never, 0, {}}; }
    static MockConnect destroySelf(int delayMs = 0) { return {Kind::DestroySelf, delayMs, {}}; }
    static MockConnect connectThrows() { return {Kind::ConnectThrows, 0, {}}; }
    static MockConnect factoryThrows() { return {Kind::FactoryThrows, 0, {}}; }
    static MockConnect factoryReturnsNull() { return {Kind::FactoryReturnsNull, 0, {}}; }
};

// MockTransport: an in-memory Transport for unit tests of the owner and the pool. It implements
// the documented contract (queued connected/closed, replay of events buffered before
// setStreamHandler, no callbacks after reset or clear) and lets the test play the peer:
// simulate*() deliver events synchronously, as a transport does while processing input.
// Every call the code under test makes is recorded in calls().
class MockTransport final : public Transport
{
    Q_OBJECT

public:
    struct Call
    {
        QByteArray name; // "submitRequest", "setStreamHandler", "resetStream", ...
        StreamId id = -1;
        QByteArray detail;
    };

    MockTransport(TransportKind kind, MockConnect script, QObject *parent = nullptr);
    ~MockTransport() override;

    // Transport / HttpConnection
    TransportKind kind() const override { return m_kind; }
    State state() const override { return m_state; }
    void connectToProxy(const ConnectOptions &options) override;
    Result<StreamId> submitRequest(const Request &request) override;
    std::optional<qint64> peerStreamLimit() const override { return m_peerStreamLimit; }
    Status setStreamHandler(StreamId id, StreamHandler *handler) override;
    void clearStreamHandler(StreamId id) override;
    Result<qint64> sendStreamData(StreamId id, QByteArrayView data) override;
    Status endStream(StreamId id) override;
    void resetStream(StreamId id, StreamResetReason reason) override;
    void consumeStreamData(StreamId id, qint64 bytes) override;
    Status sendDatagram(StreamId id, QByteArrayView payload) override;
    qint64 maxDatagramPayload(StreamId id) const override;
    PeerSettings peerSettings() const override;
    qint64 openStreamCount() const override;
    void goaway() override;
    void close() override;
    TransportStats stats() const override;

    // Script. setPeerStreamLimit() emits settingsChanged() (SETTINGS / MAX_STREAMS arrived).
    void setPeerStreamLimit(std::optional<qint64> limit, bool announce = true);
    // enforceStreamLimit: submitRequest() fails with stream_limit at the peer's limit (default on).
    void setEnforceStreamLimit(bool enforce) { m_enforceStreamLimit = enforce; }
    void failNextSubmit(Error error) { m_submitFailures.push_back(std::move(error)); }
    void failNextSetStreamHandler(Error error) { m_setHandlerFailure = std::move(error); }
    // onSubmit: runs inside submitRequest() after the stream exists (e.g. to buffer events that
    // "arrive" before the owner registers the handler).
    void setSubmitHook(std::function<void(StreamId)> hook) { m_submitHook = std::move(hook); }
    void setStats(const TransportStats &stats) { m_stats = stats; }
    // setSendBudget: sendStreamData() accepts at most `bytes` more on the stream (short writes);
    // -1 = unlimited (the default). grantSendBudget() adds room and calls onStreamWritable().
    void setSendBudget(StreamId id, qint64 bytes);
    void grantSendBudget(StreamId id, qint64 bytes);
    // failNextDatagram: the next sendDatagram() returns this error (queue_full, ...).
    void failNextDatagram(Error error) { m_datagramFailure = std::move(error); }
    void setMaxDatagramPayload(qint64 bytes) { m_maxDatagramPayload = bytes; }
    // The peer's SETTINGS as peerSettings() reports them (defaults: extended CONNECT on, h3
    // datagrams on for h3).
    void setPeerExtendedConnect(bool enabled) { m_peerExtendedConnect = enabled; }
    void setPeerH3Datagram(bool enabled) { m_peerH3Datagram = enabled; }

    // The peer's side, delivered now. Events for a stream without handler are buffered.
    void simulateConnected();
    void simulateResponse(StreamId id, int status, HeaderList headers = {});
    void simulateData(StreamId id, const QByteArray &data, bool fin = false);
    void simulateReset(StreamId id, const Error &reason);
    void simulateDatagram(StreamId id, const QByteArray &payload);
    void simulateGoaway(StreamId id);
    void simulateClose(const Error &reason);

    // Inspection.
    const QList<Call> &calls() const { return m_calls; }
    QByteArrayList callNames() const;
    int callCount(QByteArrayView name) const;
    bool called(QByteArrayView name, StreamId id) const;
    StreamHandler *handlerOf(StreamId id) const;
    bool isStreamOpen(StreamId id) const;
    QList<StreamId> streamIds() const;
    const Request *requestOf(StreamId id) const;
    QByteArray sentData(StreamId id) const;
    const ConnectOptions &connectOptions() const { return m_connectOptions; }

private:
    struct DataEvent
    {
        QByteArray bytes;
        bool fin = false;
    };
    using Event = std::variant<Response, DataEvent, Error>;
    struct Stream
    {
        Request request;
        StreamHandler *handler = nullptr; // not owned
        bool cleared = false;             // clearStreamHandler(): later events discarded
        bool open = true;
        bool finSent = false;
        bool finReceived = false;
        QByteArray sent;
        qint64 sendBudget = -1; // -1 = unlimited
        qint64 consumed = 0;
        std::vector<Event> buffered; // arrived without a handler, replayed on setStreamHandler
    };

    void record(const char *name, StreamId id = -1, QByteArray detail = {});
    void deliver(StreamId id, Stream &stream, Event event, bool replay = false);
    void maybeFinish(Stream &stream);

    const TransportKind m_kind;
    const MockConnect m_script;
    State m_state = State::Idle;
    ConnectOptions m_connectOptions;
    std::optional<qint64> m_peerStreamLimit;
    bool m_enforceStreamLimit = true;
    std::deque<Error> m_submitFailures;
    std::optional<Error> m_setHandlerFailure;
    std::optional<Error> m_datagramFailure;
    qint64 m_maxDatagramPayload = -1; // -1 = by kind
    bool m_peerExtendedConnect = true;
    std::optional<bool> m_peerH3Datagram; // unset = by kind
    std::function<void(StreamId)> m_submitHook;
    TransportStats m_stats;
    StreamId m_nextStreamId;
    QHash<StreamId, Stream> m_streams;
    QList<Call> m_calls;
};

// MockNetwork: the TransportFactory of the unit tests. Each dial takes the next scripted
// MockConnect (or the default) and new transports start with `peerStreamLimit`.
class MockNetwork : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

    TransportFactory factory();

    void setDefaultConnect(MockConnect connect) { m_default = std::move(connect); }
    // setDefaultConnect(kind, ...): the script for dials of that transport kind when the queue
    // is empty (racing tests: h3 never answers, h2 succeeds, ...).
    void setDefaultConnect(TransportKind kind, MockConnect connect)
    {
        m_defaultByKind.insert(kind, std::move(connect));
    }
    void enqueueConnect(MockConnect connect) { m_script.push_back(std::move(connect)); }
    void setPeerStreamLimit(std::optional<qint64> limit) { m_peerStreamLimit = limit; }

    int factoryCalls() const { return m_factoryCalls; }
    // transports: the ones still alive, in creation order.
    QList<MockTransport *> transports() const;
    MockTransport *last() const;

Q_SIGNALS:
    void transportCreated(qmasque::test::MockTransport *transport);

private:
    MockConnect m_default;
    QMap<TransportKind, MockConnect> m_defaultByKind;
    std::deque<MockConnect> m_script;
    std::optional<qint64> m_peerStreamLimit;
    int m_factoryCalls = 0;
    QList<QPointer<MockTransport>> m_transports;
};

} // namespace qmasque::test
