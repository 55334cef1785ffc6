#include "support/ProxyTestClient.h"

#include "support/H3TestPattern.h"
#include "wire/UriTemplate.h"

#include <QtCore/QDeadlineTimer>
#include <QtTest/QSignalSpy>

namespace qmasque::test {

ProxyConfig proxyTestConfig(bool allowLoopback)
{
    ProxyConfig config;
    config.listen = {ProxyListenAddress{QHostAddress(QHostAddress::LocalHost), 0}};
    config.selfSigned = true;
    if (allowLoopback) {
        config.allow = {*wire::IpPrefix::fromString(u"127.0.0.0/8"),
                        *wire::IpPrefix::fromString(u"::1/128")};
    }
    config.dnsTimeoutMs = 5000;
    config.connectTimeoutMs = 5000;
    config.drainTimeoutMs = 5000;
    return config;
}

ProxyTestServer::ProxyTestServer(const ProxyConfig &config)
    : m_config(config)
{}

ProxyTestServer::~ProxyTestServer() = default;

bool ProxyTestServer::start()
{
    m_proxy = std::make_unique<MasqueProxy>(m_config);
    const Status started = m_proxy->start();
    if (!started)
        error = started.error().toString();
    return started.ok();
}

quint16 ProxyTestServer::port() const
{
    return m_proxy && !m_proxy->endpoints().isEmpty() ? m_proxy->endpoints().first().port : 0;
}

QString ProxyTestServer::authority() const
{
    return QStringLiteral("127.0.0.1:%1").arg(port());
}

ConnectOptions ProxyTestServer::clientOptions() const
{
    ConnectOptions options;
    options.host = QStringLiteral("127.0.0.1");
    options.port = port();
    options.tls.useSystemTrust = false;
    options.tls.pinsSha256 = {m_proxy->identity().spkiSha256()};
    options.connectTimeoutMs = 10000;
    return options;
}

Transport *connectTransport(TransportKind kind, const ConnectOptions &options, QObject *parent,
                            Error *error, int timeoutMs)
{
    Transport *transport = defaultTransportFactory()(kind, parent);
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

namespace {

Request hostTemplateRequest(TunnelProtocol protocol, const QString &proxyAuthority,
                            const QString &host, quint16 port)
{
    Request request;
    request.protocol = protocol == TunnelProtocol::Udp ? "connect-udp" : "connect-tcp";
    request.authority = proxyAuthority.toLatin1();
    const auto uriTemplate = wire::UriTemplate::parse(wire::defaultTemplatePath(protocol));
    request.path = wire::expandHostTemplate(*uriTemplate, host, port).valueOr(QString()).toLatin1();
    if (protocol == TunnelProtocol::Udp)
        request.headers.append(Header{"capsule-protocol", "?1"});
    return request;
}

} // namespace

Request udpRequest(const QString &proxyAuthority, const QString &host, quint16 port)
{
    return hostTemplateRequest(TunnelProtocol::Udp, proxyAuthority, host, port);
}

Request tcpTemplateRequest(const QString &proxyAuthority, const QString &host, quint16 port)
{
    return hostTemplateRequest(TunnelProtocol::Tcp, proxyAuthority, host, port);
}

Request tcpClassicRequest(const QString &target)
{
    Request request;
    request.authority = target.toLatin1();
    request.scheme.clear();
    return request;
}

Request ipRequest(const QString &proxyAuthority, const wire::IpScope &scope)
{
    Request request;
    request.protocol = "connect-ip";
    request.authority = proxyAuthority.toLatin1();
    const auto uriTemplate =
        wire::UriTemplate::parse(wire::defaultTemplatePath(TunnelProtocol::Ip));
    request.path = wire::expandIpTemplate(*uriTemplate, scope).valueOr(QString()).toLatin1();
    request.headers.append(Header{"capsule-protocol", "?1"});
    return request;
}

ProxyTestStream::ProxyTestStream(Transport *transport, bool capsuleMode, QObject *parent)
    : QObject(parent)
    , m_transport(transport)
    , m_capsules(capsuleMode)
    , m_channel(this)
{
    connect(transport, &HttpConnection::datagramReceived, this,
            [this](StreamId streamId, QByteArrayView payload) {
                if (streamId == id)
                    m_channel.receiveDatagram(payload);
            });
}

ProxyTestStream::~ProxyTestStream()
{
    if (m_transport && id >= 0)
        m_transport->clearStreamHandler(id);
}

Status ProxyTestStream::open(const Request &request)
{
    auto streamId = m_transport->submitRequest(request);
    if (!streamId)
        return streamId.error();
    id = *streamId;
    m_channel.attach(m_transport, id);
    return m_transport->setStreamHandler(id, this);
}

bool ProxyTestStream::waitForResponse(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    QSignalSpy spy(this, &ProxyTestStream::responseReceived);
    while (!response && !reset && !deadline.hasExpired())
        spy.wait(50);
    return response.has_value();
}

QByteArray ProxyTestStream::header(QByteArrayView name) const
{
    return response ? headerValue(response->headers, name) : QByteArray();
}

void ProxyTestStream::startUpload(qint64 total, bool endAfter)
{
    m_uploadTotal = total;
    m_endAfterUpload = endAfter;
    pumpUpload();
}

void ProxyTestStream::pumpUpload()
{
    constexpr qsizetype kChunk = 64 * 1024;
    while (m_transport && uploaded < m_uploadTotal) {
        const qsizetype size = qsizetype(qMin<qint64>(kChunk, m_uploadTotal - uploaded));
        const QByteArray chunk = H3TestPattern::chunk(uploaded, size);
        auto accepted = m_transport->sendStreamData(id, chunk);
        if (!accepted)
            return;
        uploaded += *accepted;
        if (*accepted < size)
            return; // resumed by onStreamWritable()
    }
    if (m_transport && m_uploadTotal > 0 && uploaded == m_uploadTotal && m_endAfterUpload) {
        m_endAfterUpload = false;
        (void)m_transport->endStream(id);
    }
}

Status ProxyTestStream::sendDatagram(QByteArrayView payload, qint64 limit)
{
    return m_channel.sendDatagram(payload, limit);
}

Status ProxyTestStream::sendCapsule(quint64 type, QByteArrayView value)
{
    return m_channel.sendCapsule(type, value);
}

void ProxyTestStream::onStreamResponse(StreamId, const Response &head)
{
    response = head;
    Q_EMIT responseReceived();
}

void ProxyTestStream::onStreamData(StreamId, QByteArrayView bytes, bool finished)
{
    received += bytes.size();
    const bool raw = !m_capsules || !isSuccess();
    if (raw) {
        data.append(bytes.data(), bytes.size());
        if (autoConsume && !bytes.isEmpty() && m_transport)
            m_transport->consumeStreamData(id, bytes.size());
    } else if (!channelError) {
        if (Status ok = m_channel.receiveStreamData(bytes, finished); !ok)
            channelError = ok.error();
    }
    if (!bytes.isEmpty())
        Q_EMIT dataReceived();
    if (finished) {
        fin = true;
        Q_EMIT this->finished();
    }
}

void ProxyTestStream::onStreamReset(StreamId, const Error &reason)
{
    reset = reason;
    Q_EMIT resetReceived();
}

void ProxyTestStream::onStreamWritable(StreamId)
{
    m_channel.flush();
    pumpUpload();
    Q_EMIT writable();
}

void ProxyTestStream::onChannelDatagram(QByteArrayView payload)
{
    ++datagramCount;
    if (keepDatagrams)
        datagrams.append(payload.toByteArray());
    if (onDatagramHook)
        onDatagramHook(payload);
    Q_EMIT datagramReceived();
}

Status ProxyTestStream::onChannelCapsule(quint64 type, QByteArrayView value)
{
    capsules.append({type, value.toByteArray()});
    Q_EMIT capsuleReceived();
    return {};
}

} // namespace qmasque::test
