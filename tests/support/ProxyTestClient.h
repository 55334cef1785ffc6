#pragma once

#include "api/Types.h"
#include "proxy/MasqueProxy.h"
#include "proxy/ProxyConfig.h"
#include "transport/ConnectOptions.h"
#include "transport/StreamHandler.h"
#include "transport/Transport.h"
#include "tunnel/CapsuleChannel.h"
#include "wire/MasqueUri.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>

#include <memory>
#include <optional>

namespace qmasque::test {

// Tests of qmasque-proxy drive it with the real client transports (H1Transport, H2Transport,
// H3Transport) and hand-built MASQUE requests: a raw-protocol view, below the tunnel sessions.

// proxyTestConfig: a self-signed proxy on 127.0.0.1:0, loopback targets allowed unless
// `allowLoopback` is false; short DNS/connect timeouts.
ProxyConfig proxyTestConfig(bool allowLoopback = true);

// ProxyTestServer: an in-process MasqueProxy plus client options that pin its key.
class ProxyTestServer
{
public:
    explicit ProxyTestServer(const ProxyConfig &config = proxyTestConfig());
    ~ProxyTestServer();

    // start: false with `error` set when the proxy did not start.
    bool start();
    MasqueProxy &proxy() { return *m_proxy; }
    quint16 port() const;
    QString authority() const; // "127.0.0.1:<port>"
    ConnectOptions clientOptions() const;

    QString error;

private:
    ProxyConfig m_config;
    std::unique_ptr<MasqueProxy> m_proxy;
};

// connectTransport: a connected client transport of `kind` (child of `parent`), or nullptr with
// `*error` set.
Transport *connectTransport(TransportKind kind, const ConnectOptions &options, QObject *parent,
                            Error *error = nullptr, int timeoutMs = 15000);

// Requests as a MASQUE client builds them (erlang-masque.md 5.1): :authority is the proxy.
Request udpRequest(const QString &proxyAuthority, const QString &host, quint16 port);
Request tcpTemplateRequest(const QString &proxyAuthority, const QString &host, quint16 port);
Request tcpClassicRequest(const QString &target);
Request ipRequest(const QString &proxyAuthority, const wire::IpScope &scope = {});

// ProxyTestStream: one request stream on a client transport. It records the response, and
// then either decodes the body as capsules (UDP, IP: datagrams and other capsules; h3
// datagrams are routed here from the transport's datagramReceived()) or keeps it raw (TCP,
// refusal bodies). Everything received is consumed at once unless `autoConsume` is false.
class ProxyTestStream : public QObject, public StreamHandler, private CapsuleChannelHandler
{
    Q_OBJECT

public:
    ProxyTestStream(Transport *transport, bool capsuleMode, QObject *parent = nullptr);
    ~ProxyTestStream() override;

    // open: submits `request` and registers as the stream's handler.
    Status open(const Request &request);
    // waitForResponse: true once a response arrived (2xx/101 or refusal) within `timeoutMs`.
    bool waitForResponse(int timeoutMs = 15000);
    bool isSuccess() const
    {
        return response && (response->status / 100 == 2 || response->status == 101);
    }
    QByteArray header(QByteArrayView name) const;

    // startUpload: sends `total` bytes of H3TestPattern as stream data, resuming when the
    // stream is writable again; FIN after the last byte when `endAfter`.
    void startUpload(qint64 total, bool endAfter);
    qint64 uploaded = 0;

    Status sendDatagram(QByteArrayView payload, qint64 limit = 65527);
    Status sendCapsule(quint64 type, QByteArrayView value);
    CapsuleChannel &channel() { return m_channel; }

    StreamId id = -1;
    bool autoConsume = true;
    std::optional<Response> response;
    QByteArray data;     // raw mode: the body; capsule mode: refusal bodies
    qint64 received = 0; // raw bytes received
    bool fin = false;
    std::optional<Error> reset;
    std::optional<Error> channelError;
    QList<QByteArray> datagrams;
    QList<std::pair<quint64, QByteArray>> capsules;
    bool keepDatagrams = true;
    quint64 datagramCount = 0;
    std::function<void(QByteArrayView)> onDatagramHook;

    void onStreamResponse(StreamId streamId, const Response &response) override;
    void onStreamData(StreamId streamId, QByteArrayView bytes, bool finished) override;
    void onStreamReset(StreamId streamId, const Error &reason) override;
    void onStreamWritable(StreamId streamId) override;

Q_SIGNALS:
    void responseReceived();
    void dataReceived();
    void datagramReceived();
    void capsuleReceived();
    void finished();
    void resetReceived();
    void writable();

private:
    void pumpUpload();
    void onChannelDatagram(QByteArrayView payload) override;
    Status onChannelCapsule(quint64 type, QByteArrayView value) override;

    QPointer<Transport> m_transport;
    const bool m_capsules;
    qint64 m_uploadTotal = 0;
    bool m_endAfterUpload = false;
    CapsuleChannel m_channel;
};

} // namespace qmasque::test
