#include "support/MockTransport.h"

#include <QtCore/QTimer>

#include <stdexcept>

namespace qmasque::test {

namespace {

const char *resetReasonName(StreamResetReason reason)
{
    switch (reason) {
    case StreamResetReason::Cancel:
        return "cancel";
    case StreamResetReason::ConnectError:
        return "connect_error";
    case StreamResetReason::MessageError:
        return "message_error";
    case StreamResetReason::Refused:
        return "refused";
    case StreamResetReason::Internal:
        return "internal";
    }
    return "unknown";
}

} // namespace

MockTransport::MockTransport(TransportKind kind, MockConnect script, QObject *parent)
    : Transport(parent)
    , m_kind(kind)
    , m_script(std::move(script))
    // Client-initiated bidirectional streams: h2 odd ids (RFC 9113, 5.1.1), QUIC 0, 4, 8, ...
    // (RFC 9000, 2.1).
    , m_nextStreamId(kind == TransportKind::H3 ? 0 : 1)
{
    m_stats.kind = kind;
    m_stats.alpn = kind == TransportKind::H3 ? QStringLiteral("h3") : QStringLiteral("h2");
}

MockTransport::~MockTransport() = default;

void MockTransport::record(const char *name, StreamId id, QByteArray detail)
{
    m_calls.append(Call{QByteArray(name), id, std::move(detail)});
}

void MockTransport::connectToProxy(const ConnectOptions &options)
{
    record("connectToProxy");
    m_connectOptions = options;
    m_state = State::Connecting;
    switch (m_script.kind) {
    case MockConnect::Kind::Succeed:
        QTimer::singleShot(m_script.delayMs, this, [this] {
            if (m_state == State::Connecting)
                simulateConnected();
        });
        break;
    case MockConnect::Kind::Fail:
        QTimer::singleShot(m_script.delayMs, this, [this] {
            if (m_state == State::Connecting)
                simulateClose(m_script.error);
        });
        break;
    case MockConnect::Kind::DestroySelf:
        QTimer::singleShot(m_script.delayMs, this, [this] { deleteLater(); });
        break;
    case MockConnect::Kind::ConnectThrows:
        throw std::runtime_error("mock connect crashed");
    case MockConnect::Kind::Never:
    case MockConnect::Kind::FactoryThrows:
    case MockConnect::Kind::FactoryReturnsNull:
        break;
    }
}

Result<StreamId> MockTransport::submitRequest(const Request &request)
{
    record("submitRequest", -1, request.protocol);
    if (m_state == State::Draining)
        return Error(ErrorCode::Goaway, QStringLiteral("mock: draining"));
    if (m_state == State::Closed)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("mock: closed"));
    if (m_state != State::Connected)
        return Error(ErrorCode::NotReady, QStringLiteral("mock: not connected"));
    if (!m_submitFailures.empty()) {
        Error error = std::move(m_submitFailures.front());
        m_submitFailures.pop_front();
        return error;
    }
    if (m_enforceStreamLimit && m_peerStreamLimit && openStreamCount() >= *m_peerStreamLimit)
        return Error(ErrorCode::StreamLimit, QStringLiteral("mock: peer stream limit"));
    const StreamId id = m_nextStreamId;
    m_nextStreamId += m_kind == TransportKind::H3 ? 4 : 2;
    Stream stream;
    stream.request = request;
    m_streams.insert(id, std::move(stream));
    m_calls.last().id = id;
    if (m_submitHook)
        m_submitHook(id);
    return id;
}

Status MockTransport::setStreamHandler(StreamId id, StreamHandler *handler)
{
    record("setStreamHandler", id);
    if (m_setHandlerFailure) {
        Error error = std::move(*m_setHandlerFailure);
        m_setHandlerFailure.reset();
        return error;
    }
    const auto it = m_streams.find(id);
    if (it == m_streams.end())
        return Error(ErrorCode::UnknownStream);
    it->handler = handler;
    it->cleared = false;
    // The contract: events that arrived without a handler are replayed now, in order.
    std::vector<Event> buffered = std::exchange(it->buffered, {});
    for (Event &event : buffered) {
        const auto current = m_streams.find(id);
        if (current == m_streams.end() || !current->handler)
            break;
        deliver(id, *current, std::move(event), true);
    }
    return {};
}

void MockTransport::clearStreamHandler(StreamId id)
{
    record("clearStreamHandler", id);
    const auto it = m_streams.find(id);
    if (it == m_streams.end())
        return;
    it->handler = nullptr;
    it->cleared = true;
    it->buffered.clear();
}

Result<qint64> MockTransport::sendStreamData(StreamId id, QByteArrayView data)
{
    const auto it = m_streams.find(id);
    if (it == m_streams.end())
        return Error(ErrorCode::UnknownStream);
    if (!it->open || it->finSent)
        return Error(ErrorCode::StreamClosed);
    const qint64 accepted = it->sendBudget < 0 ? data.size() : qMin(it->sendBudget, data.size());
    if (it->sendBudget >= 0)
        it->sendBudget -= accepted;
    it->sent.append(data.first(accepted));
    return accepted;
}

void MockTransport::setSendBudget(StreamId id, qint64 bytes)
{
    if (const auto it = m_streams.find(id); it != m_streams.end())
        it->sendBudget = bytes;
}

void MockTransport::grantSendBudget(StreamId id, qint64 bytes)
{
    const auto it = m_streams.find(id);
    if (it == m_streams.end())
        return;
    if (it->sendBudget >= 0)
        it->sendBudget += bytes;
    if (it->handler && !it->cleared)
        it->handler->onStreamWritable(id);
}

Status MockTransport::endStream(StreamId id)
{
    record("endStream", id);
    const auto it = m_streams.find(id);
    if (it == m_streams.end())
        return Error(ErrorCode::UnknownStream);
    it->finSent = true;
    maybeFinish(*it);
    return {};
}

void MockTransport::resetStream(StreamId id, StreamResetReason reason)
{
    record("resetStream", id, resetReasonName(reason));
    const auto it = m_streams.find(id);
    if (it == m_streams.end())
        return;
    it->open = false;
    it->handler = nullptr;
    it->buffered.clear();
}

void MockTransport::consumeStreamData(StreamId id, qint64 bytes)
{
    record("consumeStreamData", id, QByteArray::number(bytes));
    const auto it = m_streams.find(id);
    if (it != m_streams.end())
        it->consumed += bytes;
}

Status MockTransport::sendDatagram(StreamId id, QByteArrayView payload)
{
    record("sendDatagram", id, payload.toByteArray());
    if (m_datagramFailure) {
        Error error = std::move(*m_datagramFailure);
        m_datagramFailure.reset();
        return error;
    }
    ++m_stats.datagramsSent;
    return {};
}

qint64 MockTransport::maxDatagramPayload(StreamId id) const
{
    Q_UNUSED(id)
    if (m_maxDatagramPayload >= 0)
        return m_maxDatagramPayload;
    return m_kind == TransportKind::H3 ? 1200 : 65535;
}

PeerSettings MockTransport::peerSettings() const
{
    PeerSettings settings;
    settings.received = m_state == State::Connected || m_state == State::Draining;
    settings.extendedConnect = m_peerExtendedConnect;
    settings.h3Datagram = m_peerH3Datagram.value_or(m_kind == TransportKind::H3);
    if (m_kind == TransportKind::H2 && m_peerStreamLimit)
        settings.maxConcurrentStreams = static_cast<quint32>(*m_peerStreamLimit);
    settings.maxDatagramFrameSize = m_kind == TransportKind::H3 ? 65535 : 0;
    return settings;
}

qint64 MockTransport::openStreamCount() const
{
    qint64 open = 0;
    for (const Stream &stream : m_streams)
        open += stream.open ? 1 : 0;
    return open;
}

void MockTransport::goaway()
{
    record("goaway");
    if (m_state == State::Connected)
        m_state = State::Draining;
}

void MockTransport::close()
{
    record("close");
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    for (Stream &stream : m_streams) {
        stream.open = false;
        stream.handler = nullptr;
    }
    // The contract: closed() follows from the event loop, never from inside close().
    QTimer::singleShot(0, this, [this] {
        emit closed(Error(ErrorCode::ConnectionClosed, QStringLiteral("closed locally")));
    });
}

TransportStats MockTransport::stats() const
{
    TransportStats stats = m_stats;
    stats.streamsOpen = static_cast<quint32>(openStreamCount());
    return stats;
}

void MockTransport::setPeerStreamLimit(std::optional<qint64> limit, bool announce)
{
    m_peerStreamLimit = limit;
    if (announce)
        emit settingsChanged();
}

void MockTransport::simulateConnected()
{
    m_state = State::Connected;
    emit connected();
}

void MockTransport::deliver(StreamId id, Stream &stream, Event event, bool replay)
{
    if (stream.cleared || (!replay && !stream.open))
        return; // after clearStreamHandler() / resetStream(): discarded
    if (!stream.handler) {
        stream.buffered.push_back(std::move(event));
        return;
    }
    StreamHandler *handler = stream.handler;
    if (const auto *response = std::get_if<Response>(&event)) {
        handler->onStreamResponse(id, *response);
    } else if (const auto *data = std::get_if<DataEvent>(&event)) {
        handler->onStreamData(id, data->bytes, data->fin);
    } else {
        handler->onStreamReset(id, std::get<Error>(event));
    }
}

void MockTransport::simulateResponse(StreamId id, int status, HeaderList headers)
{
    const auto it = m_streams.find(id);
    if (it != m_streams.end())
        deliver(id, *it, Response{status, std::move(headers)});
}

void MockTransport::simulateData(StreamId id, const QByteArray &data, bool fin)
{
    auto it = m_streams.find(id);
    if (it == m_streams.end())
        return;
    deliver(id, *it, DataEvent{data, fin});
    it = m_streams.find(id);
    if (fin && it != m_streams.end()) {
        it->finReceived = true;
        maybeFinish(*it);
    }
}

void MockTransport::simulateReset(StreamId id, const Error &reason)
{
    auto it = m_streams.find(id);
    if (it == m_streams.end() || !it->open)
        return;
    deliver(id, *it, reason);
    it = m_streams.find(id);
    if (it != m_streams.end() && it->handler) {
        it->open = false;
        it->handler = nullptr;
    } else if (it != m_streams.end()) {
        // Buffered for a later setStreamHandler(); the stream is gone at the transport.
        it->open = false;
    }
    // The contract: streamReset follows the handler's onStreamReset().
    emit streamReset(id, reason);
}

void MockTransport::simulateDatagram(StreamId id, const QByteArray &payload)
{
    ++m_stats.datagramsReceived;
    emit datagramReceived(id, payload);
}

void MockTransport::simulateGoaway(StreamId id)
{
    if (m_state == State::Connected)
        m_state = State::Draining;
    emit goawayReceived(id);
}

void MockTransport::simulateClose(const Error &reason)
{
    m_state = State::Closed;
    for (Stream &stream : m_streams) {
        stream.open = false;
        stream.handler = nullptr;
    }
    emit closed(reason);
}

void MockTransport::maybeFinish(Stream &stream)
{
    // Both sides sent FIN: the stream is closed at the transport (RFC 9113, 5.1).
    if (stream.finSent && stream.finReceived)
        stream.open = false;
}

QByteArrayList MockTransport::callNames() const
{
    QByteArrayList names;
    for (const Call &call : m_calls)
        names.append(call.name);
    return names;
}

int MockTransport::callCount(QByteArrayView name) const
{
    int count = 0;
    for (const Call &call : m_calls)
        count += call.name == name ? 1 : 0;
    return count;
}

bool MockTransport::called(QByteArrayView name, StreamId id) const
{
    for (const Call &call : m_calls) {
        if (call.name == name && call.id == id)
            return true;
    }
    return false;
}

StreamHandler *MockTransport::handlerOf(StreamId id) const
{
    const auto it = m_streams.constFind(id);
    return it == m_streams.cend() ? nullptr : it->handler;
}

bool MockTransport::isStreamOpen(StreamId id) const
{
    const auto it = m_streams.constFind(id);
    return it != m_streams.cend() && it->open;
}

QList<StreamId> MockTransport::streamIds() const
{
    QList<StreamId> ids = m_streams.keys();
    std::sort(ids.begin(), ids.end());
    return ids;
}

const Request *MockTransport::requestOf(StreamId id) const
{
    const auto it = m_streams.constFind(id);
    return it == m_streams.cend() ? nullptr : &it->request;
}

QByteArray MockTransport::sentData(StreamId id) const
{
    const auto it = m_streams.constFind(id);
    return it == m_streams.cend() ? QByteArray() : it->sent;
}

TransportFactory MockNetwork::factory()
{
    return [this](TransportKind kind, QObject *parent) -> Transport * {
        ++m_factoryCalls;
        MockConnect script = m_defaultByKind.value(kind, m_default);
        if (!m_script.empty()) {
            script = std::move(m_script.front());
            m_script.pop_front();
        }
        if (script.kind == MockConnect::Kind::FactoryThrows)
            throw std::runtime_error("mock factory crashed");
        if (script.kind == MockConnect::Kind::FactoryReturnsNull)
            return nullptr;
        auto *transport = new MockTransport(kind, std::move(script), parent);
        transport->setPeerStreamLimit(m_peerStreamLimit, false);
        m_transports.append(transport);
        emit transportCreated(transport);
        return transport;
    };
}

QList<MockTransport *> MockNetwork::transports() const
{
    QList<MockTransport *> alive;
    for (const QPointer<MockTransport> &transport : m_transports) {
        if (transport)
            alive.append(transport.data());
    }
    return alive;
}

MockTransport *MockNetwork::last() const
{
    for (auto it = m_transports.crbegin(); it != m_transports.crend(); ++it) {
        if (*it)
            return it->data();
    }
    return nullptr;
}

} // namespace qmasque::test
