#include "transport/h2/H2Session.h"

#include "core/Log.h"
#include "transport/StreamHandler.h"

#include <QtNetwork/QSslSocket>

#include <cstring>

namespace qmasque {

namespace {

// LibraryCall: marks the time spent inside nghttp2_session_mem_recv/mem_send, during which
// nghttp2 must not be re-entered with mem_send and the session must not be deleted.
class LibraryCall
{
public:
    explicit LibraryCall(int &depth)
        : m_depth(depth)
    {
        ++m_depth;
    }
    ~LibraryCall() { --m_depth; }
    Q_DISABLE_COPY_MOVE(LibraryCall)

private:
    int &m_depth;
};

QString libraryError(int rv)
{
    return QString::fromLatin1(nghttp2_strerror(rv));
}

} // namespace

H2Session::H2Session(Role role, QSslSocket *socket, const Config &config, QObject *parent)
    : QObject(parent)
    , m_role(role)
    , m_socket(socket)
    , m_config(config)
{
    m_clock.start();
    m_keepaliveTimer.setTimerType(Qt::CoarseTimer);
    m_idleTimer.setSingleShot(true);
    connect(&m_keepaliveTimer, &QTimer::timeout, this, &H2Session::handleKeepalive);
    connect(&m_idleTimer, &QTimer::timeout, this, [this] {
        if (openStreamCount() == 0 && !m_finished) {
            qCDebug(lcH2).noquote() << "[" << this << "] idle, closing with GOAWAY";
            nghttp2_session_terminate_session(m_session.get(), NGHTTP2_NO_ERROR);
            finish(Error(ErrorCode::IdleTimeout,
                         QStringLiteral("no streams for %1 ms").arg(m_config.closeWhenIdleMs)),
                   true);
        }
    });
    connect(m_socket, &QSslSocket::readyRead, this, &H2Session::handleReadyRead);
    // Both: plaintext handed to the TLS layer, and ciphertext handed to the kernel.
    connect(m_socket, &QSslSocket::bytesWritten, this, &H2Session::flush);
    connect(m_socket, &QSslSocket::encryptedBytesWritten, this, &H2Session::flush);
}

H2Session::~H2Session() = default;

Status H2Session::start()
{
    auto option = makeNghttp2Option();
    if (!option)
        return option.error();
    // Credit only what handlers consumed (RFC 9113, 5.2.2 leaves the policy to the receiver).
    nghttp2_option_set_no_auto_window_update(option->get(), 1);
    // RFC 9113, 6.5.2: no concurrency limit until the peer's SETTINGS say otherwise; nghttp2's
    // own default (100) would queue requests silently instead of failing with stream_limit.
    nghttp2_option_set_peer_max_concurrent_streams(option->get(), 0xffffffffu);

    nghttp2_session *raw = nullptr;
    const int created =
        m_role == Role::Client
            ? nghttp2_session_client_new2(&raw, h2CallbackTable(), this, option->get())
            : nghttp2_session_server_new2(&raw, h2CallbackTable(), this, option->get());
    if (created != 0)
        return Error(ErrorCode::Internal, libraryError(created));
    m_session.reset(raw);

    std::vector<nghttp2_settings_entry> settings{
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, m_config.streamReceiveWindow},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, uint32_t(kMaxHeaderListBytes)},
    };
    if (m_role == Role::Client)
        settings.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
    if (m_config.maxConcurrentStreams)
        settings.push_back(
            {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, *m_config.maxConcurrentStreams});
    if (m_config.enableConnectProtocol) // RFC 8441, 3
        settings.push_back({NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1});
    int rv = nghttp2_submit_settings(m_session.get(), NGHTTP2_FLAG_NONE, settings.data(),
                                     settings.size());
    if (rv == 0) // RFC 9113, 6.9.2: the connection window only grows with WINDOW_UPDATE
        rv = nghttp2_session_set_local_window_size(m_session.get(), NGHTTP2_FLAG_NONE, 0,
                                                   int32_t(m_config.connectionReceiveWindow));
    if (rv != 0)
        return Error(ErrorCode::Internal, libraryError(rv));

    if (m_config.keepaliveMs > 0) {
        m_keepaliveTimer.start(m_config.keepaliveMs);
        sendPing(); // a first RTT sample right away
    }
    updateIdleTimer();
    handleReadyRead(); // bytes that arrived with the handshake; also sends the preface
    return {};
}

H2Stream *H2Session::findStream(StreamId id) const
{
    const auto it = m_streams.find(int32_t(id));
    return it == m_streams.end() ? nullptr : it->second.get();
}

H2Stream &H2Session::addStream(int32_t id, bool outgoing)
{
    auto &slot = m_streams[id];
    slot = std::make_unique<H2Stream>(id, outgoing);
    return *slot;
}

void H2Session::retire(H2Stream &stream)
{
    if (stream.unconsumed > 0 && m_session) {
        // The stream is gone: whatever it still owed must not shrink the connection window.
        nghttp2_session_consume_connection(m_session.get(), size_t(stream.unconsumed));
        stream.unconsumed = 0;
        scheduleFlush();
    }
    const auto it = m_streams.find(stream.id);
    if (it == m_streams.end())
        return;
    m_retired.push_back(std::move(it->second));
    m_streams.erase(it);
}

void H2Session::sweep()
{
    if (m_libraryDepth == 0)
        m_retired.clear();
}

bool H2Session::isAttached(StreamId id, StreamHandler *handler) const
{
    const H2Stream *stream = findStream(id);
    return stream && stream->handler == handler && !stream->localReset && !m_finished;
}

// --- Client and server heads -------------------------------------------------------------

Result<StreamId> H2Session::submitRequest(const Request &request)
{
    if (m_finished || !m_session)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("the connection is closed"));
    if (m_role != Role::Client)
        return Error(ErrorCode::InvalidArgument, QStringLiteral("servers do not send requests"));
    if (isDraining())
        return Error(ErrorCode::Goaway, QStringLiteral("the connection is draining (GOAWAY)"));
    if (request.isExtendedConnect() && !m_peerSettings.extendedConnect) {
        // RFC 8441, 4: :protocol only after the peer's SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
        // SETTINGS not received yet counts as "not enabled".
        return Error(ErrorCode::NoExtendedConnect,
                     m_peerSettings.received
                         ? QStringLiteral("the proxy did not enable extended CONNECT")
                         : QStringLiteral("the proxy's SETTINGS have not arrived yet"));
    }
    const uint32_t limit = nghttp2_session_get_remote_settings(
        m_session.get(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    if (m_openOutgoing >= qint64(limit))
        return Error(
            ErrorCode::StreamLimit,
            QStringLiteral("%1 streams open, the peer allows %2").arg(m_openOutgoing).arg(limit));
    auto block = requestBlock(request);
    if (!block)
        return block.error();
    const nghttp2_data_provider provider = dataProvider();
    const int32_t id = nghttp2_submit_request(m_session.get(), nullptr, block->nv(), block->size(),
                                              request.endStream ? nullptr : &provider, nullptr);
    if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE)
        return Error(ErrorCode::StreamLimit, QStringLiteral("stream ids exhausted"));
    if (id < 0)
        return Error(ErrorCode::Internal, libraryError(id));
    H2Stream &stream = addStream(id, true);
    stream.endRequested = request.endStream;
    ++m_openOutgoing;
    scheduleFlush();
    return StreamId(id);
}

void H2Session::closeOutgoing()
{
    const uint32_t limit = nghttp2_session_get_remote_settings(
        m_session.get(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    const bool wasFull = m_openOutgoing >= qint64(limit);
    --m_openOutgoing;
    // RFC 9113, 5.1.2: a stream in "closed" no longer counts against the peer's limit. Our
    // user may have let go of the stream long before (a tunnel that sent END_STREAM, then the
    // peer's END_STREAM arrives), so a refused submitRequest() needs this news to try again.
    if (wasFull && m_openOutgoing < qint64(limit))
        Q_EMIT outgoingSlotFreed();
}

std::optional<qint64> H2Session::peerStreamLimit() const
{
    if (!m_peerSettings.maxConcurrentStreams)
        return std::nullopt;
    return qint64(*m_peerSettings.maxConcurrentStreams);
}

Status H2Session::submitResponse(StreamId id, const Response &response, bool endStream)
{
    if (m_finished || !m_session)
        return Error(ErrorCode::ConnectionClosed, QStringLiteral("the connection is closed"));
    H2Stream *stream = findStream(id);
    if (!stream || stream->outgoing)
        return Error(ErrorCode::UnknownStream, QStringLiteral("no request %1").arg(id));
    if (!stream->open || stream->localReset)
        return Error(ErrorCode::StreamClosed, QStringLiteral("stream %1 is closed").arg(id));
    if (stream->responseStatus != 0)
        return Error(ErrorCode::InvalidArgument, QStringLiteral("response already submitted"));
    auto block = responseBlock(response);
    if (!block)
        return block.error();
    const nghttp2_data_provider provider = dataProvider();
    const int rv = nghttp2_submit_response(m_session.get(), stream->id, block->nv(), block->size(),
                                           endStream ? nullptr : &provider);
    if (rv != 0)
        return Error(ErrorCode::Internal, libraryError(rv));
    stream->responseStatus = response.status;
    stream->endRequested = stream->endRequested || endStream;
    scheduleFlush();
    return {};
}

void H2Session::setMaxConcurrentStreams(quint32 limit)
{
    if (m_finished || !m_session)
        return;
    const nghttp2_settings_entry entry{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limit};
    nghttp2_submit_settings(m_session.get(), NGHTTP2_FLAG_NONE, &entry, 1);
    scheduleFlush();
}

// --- Socket I/O ---------------------------------------------------------------------------

void H2Session::handleReadyRead()
{
    if (m_finished || !m_session)
        return;
    sweep();
    while (!m_finished) {
        const qint64 count = m_socket->read(m_readBuffer.data(), qint64(m_readBuffer.size()));
        if (count <= 0)
            break;
        m_bytesReceived += quint64(count);
        ssize_t rv = 0;
        {
            LibraryCall call(m_libraryDepth);
            rv = nghttp2_session_mem_recv(m_session.get(),
                                          reinterpret_cast<const uint8_t *>(m_readBuffer.data()),
                                          size_t(count));
        }
        if (rv < 0) {
            fail(Error(ErrorCode::ProtocolError, libraryError(int(rv))), NGHTTP2_PROTOCOL_ERROR);
            return;
        }
    }
    flush();
}

void H2Session::scheduleFlush()
{
    if (m_flushScheduled || m_finished)
        return;
    m_flushScheduled = true;
    QMetaObject::invokeMethod(this, &H2Session::flush, Qt::QueuedConnection);
}

qint64 H2Session::socketBacklog() const
{
    return m_socket->bytesToWrite() + m_socket->encryptedBytesToWrite() + m_out.size();
}

void H2Session::flush()
{
    m_flushScheduled = false;
    if (m_finished || !m_session)
        return;
    if (m_libraryDepth > 0) {
        scheduleFlush();
        return;
    }
    sweep();
    // Pull frames while the socket is below its high-water mark; bytesWritten resumes us. This
    // bounds QSslSocket's buffers; everything else waits in the per-stream queues (bounded) or
    // in the peer's flow-control window.
    while (socketBacklog() < kSocketHighWater) {
        const uint8_t *data = nullptr;
        ssize_t count = 0;
        {
            LibraryCall call(m_libraryDepth);
            count = nghttp2_session_mem_send(m_session.get(), &data);
        }
        if (count < 0) {
            fail(Error(ErrorCode::Internal, libraryError(int(count))), NGHTTP2_INTERNAL_ERROR);
            return;
        }
        if (count == 0 || m_finished)
            break;
        m_out.append(reinterpret_cast<const char *>(data), qsizetype(count));
        if (m_out.size() >= kWriteChunk)
            writeOut();
    }
    writeOut();
    notifyWritable();
    checkDrained();
}

void H2Session::writeOut()
{
    if (m_out.isEmpty())
        return;
    m_bytesSent += quint64(m_out.size());
    m_socket->write(m_out);
    m_out.resize(0);
}

void H2Session::notifyWritable()
{
    if (m_writable.empty())
        return;
    std::vector<int32_t> ids;
    ids.swap(m_writable);
    for (int32_t id : ids) {
        H2Stream *stream = findStream(id);
        if (stream && stream->handler && stream->open && !stream->localReset && !m_finished)
            stream->handler->onStreamWritable(id);
    }
}

void H2Session::checkDrained()
{
    if (m_finished || !m_session || !m_out.isEmpty())
        return;
    if (nghttp2_session_want_read(m_session.get()) || nghttp2_session_want_write(m_session.get()))
        return;
    // nghttp2 is done: GOAWAY went one way or the other and the last stream ended.
    if (m_goawaySent) {
        finish(Error(ErrorCode::LocalClose, QStringLiteral("drained after our GOAWAY")), true);
    } else if (m_goawayReceived && m_goawayErrorCode != NGHTTP2_NO_ERROR) {
        Error reason(ErrorCode::ProtocolError,
                     QStringLiteral("peer sent GOAWAY ") +
                         QString::fromLatin1(nghttp2_http2_strerror(m_goawayErrorCode)));
        reason.wireCode = m_goawayErrorCode;
        finish(reason, true);
    } else {
        finish(Error(ErrorCode::ConnectionClosed, QStringLiteral("peer sent GOAWAY")), true);
    }
}

// --- Liveness -----------------------------------------------------------------------------

void H2Session::sendPing()
{
    if (m_finished || !m_session)
        return;
    const qint64 now = m_clock.nsecsElapsed();
    uint8_t opaque[8];
    std::memcpy(opaque, &now, sizeof opaque);
    if (nghttp2_submit_ping(m_session.get(), NGHTTP2_FLAG_NONE, opaque) == 0) {
        m_pingOutstanding = true;
        m_pingSentNs = now;
        m_bytesAtPing = m_bytesReceived;
        scheduleFlush();
    }
}

void H2Session::handleKeepalive()
{
    if (m_finished)
        return;
    if (!m_pingOutstanding) {
        sendPing();
        return;
    }
    // A PING may wait behind our own queued data, so bytes from the peer also prove it alive;
    // only silence for deadPeerMs since the PING means the peer (or the path) is gone.
    if (m_bytesReceived != m_bytesAtPing) {
        m_bytesAtPing = m_bytesReceived;
        m_pingSentNs = m_clock.nsecsElapsed();
        return;
    }
    const qint64 silentMs = (m_clock.nsecsElapsed() - m_pingSentNs) / 1000000;
    if (silentMs >= m_config.deadPeerMs)
        finish(Error(ErrorCode::ConnectionLost,
                     QStringLiteral("no PING ACK and no data for %1 ms").arg(silentMs)),
               false);
}

void H2Session::updateIdleTimer()
{
    if (m_config.closeWhenIdleMs <= 0 || m_finished)
        return;
    if (openStreamCount() == 0) {
        if (!m_idleTimer.isActive())
            m_idleTimer.start(m_config.closeWhenIdleMs);
    } else {
        m_idleTimer.stop();
    }
}

// --- Shutdown -----------------------------------------------------------------------------

void H2Session::goaway(std::optional<StreamId> lastStreamId)
{
    if (m_finished || m_goawaySent || !m_session)
        return;
    m_goawaySent = true;
    const int32_t last = lastStreamId ? int32_t(*lastStreamId)
                                      : nghttp2_session_get_last_proc_stream_id(m_session.get());
    nghttp2_submit_goaway(m_session.get(), NGHTTP2_FLAG_NONE, last, NGHTTP2_NO_ERROR, nullptr, 0);
    qCDebug(lcH2).noquote() << "[" << this << "] GOAWAY sent, last stream" << last;
    scheduleFlush();
}

void H2Session::close()
{
    if (m_finished)
        return;
    if (m_session)
        nghttp2_session_terminate_session(m_session.get(), NGHTTP2_NO_ERROR);
    finish(Error(ErrorCode::LocalClose, QStringLiteral("closed locally")), true);
}

void H2Session::socketClosed(const Error &cause)
{
    if (m_finished)
        return;
    handleReadyRead(); // a GOAWAY may sit in the last bytes
    if (m_finished)
        return;
    Error reason = cause;
    if (cause.code == ErrorCode::ConnectionLost) {
        if (m_goawayReceived && m_goawayErrorCode != NGHTTP2_NO_ERROR) {
            reason = Error(ErrorCode::ProtocolError,
                           QStringLiteral("peer sent GOAWAY ") +
                               QString::fromLatin1(nghttp2_http2_strerror(m_goawayErrorCode)));
            reason.wireCode = m_goawayErrorCode;
        } else if (openStreamCount() == 0) {
            reason =
                Error(ErrorCode::ConnectionClosed, QStringLiteral("peer closed the connection"));
        } else {
            reason.detail = QStringLiteral("peer closed the connection with %1 streams open (%2)")
                                .arg(openStreamCount())
                                .arg(cause.detail);
        }
    }
    finish(reason, false);
}

void H2Session::fail(const Error &reason, uint32_t wireCode)
{
    if (m_finished)
        return;
    qCDebug(lcH2).noquote() << "[" << this << "] failing:" << reason.toString();
    if (m_session)
        nghttp2_session_terminate_session(m_session.get(), wireCode);
    Error withCode = reason;
    withCode.wireCode = wireCode;
    finish(withCode, true);
}

void H2Session::finish(const Error &reason, bool graceful)
{
    if (m_finished)
        return;
    m_finished = true;
    m_finishReason = reason;
    m_gracefulTeardown = graceful;
    m_keepaliveTimer.stop();
    m_idleTimer.stop();
    QMetaObject::invokeMethod(this, &H2Session::teardown, Qt::QueuedConnection);
}

void H2Session::teardown()
{
    if (m_teardownDone)
        return;
    m_teardownDone = true;
    QObject::disconnect(m_socket, nullptr, this, nullptr);
    if (m_gracefulTeardown && m_session && m_socket->state() == QAbstractSocket::ConnectedState) {
        // What nghttp2 still has after a terminate is the GOAWAY (it stops after it); bound the
        // loop anyway so a close never turns into a bulk transfer.
        for (qint64 total = 0; total < kSocketHighWater;) {
            const uint8_t *data = nullptr;
            ssize_t count = 0;
            {
                LibraryCall call(m_libraryDepth);
                count = nghttp2_session_mem_send(m_session.get(), &data);
            }
            if (count <= 0)
                break;
            m_out.append(reinterpret_cast<const char *>(data), qsizetype(count));
            total += count;
        }
        writeOut();
        // finished() only once the last bytes (final DATA, GOAWAY) left: the owner deletes the
        // socket on finished(). A peer that stops reading is cut after kLingerMs.
        connect(m_socket, &QSslSocket::disconnected, this, &H2Session::emitFinished);
        QTimer::singleShot(kLingerMs, this, [this] {
            m_socket->abort();
            emitFinished();
        });
        m_socket->disconnectFromHost();
    } else {
        m_socket->abort();
    }
    m_streams.clear();
    m_retired.clear();
    m_openOutgoing = 0;
    m_openIncoming = 0;
    if (m_socket->state() == QAbstractSocket::UnconnectedState)
        emitFinished();
}

void H2Session::emitFinished()
{
    if (m_finishedEmitted)
        return;
    m_finishedEmitted = true;
    QObject::disconnect(m_socket, nullptr, this, nullptr);
    Q_EMIT finished(m_finishReason);
}

void H2Session::fillStats(TransportStats &stats) const
{
    stats.bytesSent = m_bytesSent;
    stats.bytesReceived = m_bytesReceived;
    stats.framesSent = m_framesSent;
    stats.framesReceived = m_framesReceived;
    stats.streamsOpen = quint32(openStreamCount());
    stats.smoothedRttUs = m_smoothedRttUs;
    stats.rttVarianceUs = m_rttVarianceUs;
    stats.minRttUs = m_minRttUs;
    stats.datagramsSent = m_datagramsSent;
    stats.datagramDrops = m_datagramDrops;
}

} // namespace qmasque
