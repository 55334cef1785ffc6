#include "transport/h3/H3Callbacks.h"

#include "transport/h3/H3Session.h"

namespace qmasque::h3 {

// H3Callbacks: nghttp3 callback trampolines; conn_user_data is the session, stream_user_data the
// H3Stream (null for streams nghttp3 knows and we do not: control and QPACK streams).
struct H3Callbacks
{
    static H3Session *self(void *userData) { return static_cast<H3Session *>(userData); }
    static H3Stream *stream(void *streamUserData)
    {
        return static_cast<H3Stream *>(streamUserData);
    }

    static int ackedStreamData(nghttp3_conn *, int64_t, uint64_t size, void *, void *sud)
    {
        if (H3Stream *s = stream(sud))
            s->send.acknowledge(size);
        return 0;
    }
    static int streamClose(nghttp3_conn *, int64_t id, uint64_t code, void *ud, void *)
    {
        self(ud)->finishStream(id, code);
        return 0;
    }
    static int recvData(nghttp3_conn *, int64_t, const uint8_t *data, size_t size, void *ud,
                        void *sud)
    {
        if (H3Stream *s = stream(sud))
            self(ud)->m_streams.deliverData(*s, QByteArrayView(data, qsizetype(size)));
        return 0;
    }
    static int deferredConsume(nghttp3_conn *, int64_t id, size_t consumed, void *ud, void *)
    {
        // Bytes nghttp3 held back while QPACK was blocked are framing: credit at once.
        self(ud)->m_streams.credit(id, qint64(consumed));
        return 0;
    }
    static int beginHeaders(nghttp3_conn *, int64_t id, void *ud, void *sud)
    {
        return self(ud)->onBeginHeaders(id, stream(sud));
    }
    static int recvHeader(nghttp3_conn *, int64_t, int32_t, nghttp3_rcbuf *name,
                          nghttp3_rcbuf *value, uint8_t, void *, void *sud)
    {
        if (H3Stream *s = stream(sud)) {
            const nghttp3_vec n = nghttp3_rcbuf_get_buf(name);
            const nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
            s->fields.add(QByteArrayView(n.base, qsizetype(n.len)),
                          QByteArrayView(v.base, qsizetype(v.len)));
        }
        return 0;
    }
    static int endHeaders(nghttp3_conn *, int64_t, int, void *ud, void *sud)
    {
        if (H3Stream *s = stream(sud))
            self(ud)->onEndHeaders(*s);
        return 0;
    }
    static int stopSending(nghttp3_conn *, int64_t id, uint64_t code, void *ud, void *)
    {
        // nghttp3 asks us to stop reading (for example a response ended the exchange).
        ngtcp2_conn_shutdown_stream_read(self(ud)->m_quic->handle(), 0, id, code);
        return 0;
    }
    static int endStream(nghttp3_conn *, int64_t, void *ud, void *sud)
    {
        if (H3Stream *s = stream(sud))
            self(ud)->m_streams.deliverFin(*s);
        return 0;
    }
    static int resetStream(nghttp3_conn *, int64_t id, uint64_t code, void *ud, void *sud)
    {
        // nghttp3 rejects a malformed message (RFC 9114, 4.1.2): abort our side too.
        ngtcp2_conn_shutdown_stream_write(self(ud)->m_quic->handle(), 0, id, code);
        if (H3Stream *s = stream(sud)) {
            Error error(ErrorCode::ProtocolError,
                        QStringLiteral("malformed HTTP/3 message (0x%1)").arg(code, 0, 16));
            error.wireCode = code;
            self(ud)->m_streams.reportReset(*s, error);
        }
        return 0;
    }
    static int shutdown(nghttp3_conn *, int64_t id, void *ud)
    {
        self(ud)->onGoaway(id);
        return 0;
    }
    static int recvSettings(nghttp3_conn *, const nghttp3_settings *settings, void *ud)
    {
        return self(ud)->onSettings(*settings);
    }
    static nghttp3_ssize readData(nghttp3_conn *, int64_t, nghttp3_vec *vectors, size_t capacity,
                                  uint32_t *flags, void *ud, void *sud)
    {
        H3Stream *s = stream(sud);
        if (!s)
            return NGHTTP3_ERR_WOULDBLOCK;
        return self(ud)->m_streams.readBody(*s, vectors, capacity, flags);
    }

    static nghttp3_callbacks make()
    {
        nghttp3_callbacks callbacks{};
        callbacks.acked_stream_data = &ackedStreamData;
        callbacks.stream_close = &streamClose;
        callbacks.recv_data = &recvData;
        callbacks.deferred_consume = &deferredConsume;
        callbacks.begin_headers = &beginHeaders;
        callbacks.recv_header = &recvHeader;
        callbacks.end_headers = &endHeaders;
        callbacks.stop_sending = &stopSending;
        callbacks.end_stream = &endStream;
        callbacks.reset_stream = &resetStream;
        callbacks.shutdown = &shutdown;
        callbacks.recv_settings = &recvSettings;
        return callbacks;
    }
};

const nghttp3_callbacks &h3Callbacks()
{
    static const nghttp3_callbacks callbacks = H3Callbacks::make();
    return callbacks;
}

const nghttp3_data_reader &h3BodyReader()
{
    static const nghttp3_data_reader reader{&H3Callbacks::readData};
    return reader;
}

} // namespace qmasque::h3
