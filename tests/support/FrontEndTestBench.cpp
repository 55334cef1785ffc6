#include "support/FrontEndTestBench.h"

#include "support/TestSupport.h"

#include <QtCore/QStandardPaths>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QTest>

#include <cerrno>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace qmasque::test {

FrontEndTestBench::FrontEndTestBench(const ProxyConfig &config)
    : m_server(config)
{
    PoolOptions options;
    options.factory = defaultTransportFactory();
    m_pool = std::make_unique<UpstreamPool>(options);
}

FrontEndTestBench::~FrontEndTestBench()
{
    m_clients.clear(); // tunnels before the pool and the proxy
    m_pool.reset();
}

bool FrontEndTestBench::start()
{
    if (!m_server.start()) {
        error = m_server.error;
        return false;
    }
    return true;
}

Profile FrontEndTestBench::profile(TransportKind kind)
{
    Profile profile;
    profile.proxy = QStringLiteral("https://127.0.0.1:%1").arg(m_server.port());
    profile.pinSha256 = {m_server.proxy().identity().pinBase64()};
    profile.transports = {kind};
    return profile;
}

TunnelClient *FrontEndTestBench::client(TransportKind kind)
{
    auto &slot = m_clients[kind];
    if (!slot) {
        slot = std::make_unique<TunnelClient>(m_pool.get(), defaultTransportFactory());
        if (Status configured = slot->configure(profile(kind)); !configured)
            qFatal("front-end bench profile: %s", qPrintable(configured.error().toString()));
    }
    return slot.get();
}

std::unique_ptr<TunnelClient> FrontEndTestBench::makeClient(TransportKind kind,
                                                            const ConnectOptions &tuning)
{
    auto client = std::make_unique<TunnelClient>(nullptr, defaultTransportFactory());
    if (Status configured = client->configure(profile(kind), tuning); !configured)
        qFatal("front-end bench profile: %s", qPrintable(configured.error().toString()));
    return client;
}

QString findTool(const QString &name)
{
    QString path = QStandardPaths::findExecutable(name);
    if (path.isEmpty())
        path = QStandardPaths::findExecutable(
            name, {QStringLiteral("/usr/sbin"), QStringLiteral("/usr/bin"), QStringLiteral("/sbin"),
                   QStringLiteral("/bin")});
    return path;
}

quint16 freeUdpPort()
{
    QUdpSocket probe;
    return probe.bind(QHostAddress::LocalHost, 0) ? probe.localPort() : 0;
}

quint16 freeTcpPort()
{
    QTcpServer probe;
    return probe.listen(QHostAddress::LocalHost, 0) ? probe.serverPort() : 0;
}

QString frontEndTargetsScript()
{
    return sourcePath(QStringLiteral("tests/support/FrontEndTargets.py"));
}

bool startTarget(QProcess &process, const QStringList &arguments, quint16 *port, QString *error)
{
    process.start(findTool(QStringLiteral("python3")),
                  QStringList{frontEndTargetsScript()} + arguments);
    if (!process.waitForStarted(10000)) {
        *error = QStringLiteral("python3 did not start: ") + process.errorString();
        return false;
    }
    const bool printed = QTest::qWaitFor(
        [&] { return process.canReadLine() || process.state() == QProcess::NotRunning; }, 15000);
    const QByteArray line = process.readLine().trimmed();
    if (!printed || !line.startsWith("PORT ")) {
        *error = QStringLiteral("the target did not start: ") +
                 QString::fromLocal8Bit(line + process.readAllStandardError());
        return false;
    }
    *port = quint16(line.mid(5).toUInt());
    return *port != 0;
}

bool runToEnd(QProcess &process, int timeoutMs)
{
    return QTest::qWaitFor([&] { return process.state() == QProcess::NotRunning; }, timeoutMs);
}

QByteArray rawExchange(quint16 port, QByteArrayView request, bool halfClose, bool *closedByServer,
                       int timeoutMs)
{
    if (closedByServer)
        *closedByServer = false;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return {};
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Loopback connects complete in the kernel, without the listener's event loop.
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof(address)) != 0) {
        ::close(fd);
        return {};
    }
    qsizetype sent = 0;
    if (request.isEmpty() && halfClose)
        ::shutdown(fd, SHUT_WR);
    QByteArray received;
    bool closed = false;
    (void)QTest::qWaitFor(
        [&] {
            while (sent < request.size()) {
                const ssize_t n = ::send(fd, request.data() + sent, size_t(request.size() - sent),
                                         MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n <= 0)
                    break;
                sent += qsizetype(n);
                if (sent == request.size() && halfClose)
                    ::shutdown(fd, SHUT_WR);
            }
            char buffer[65536];
            for (;;) {
                const ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
                if (n > 0) {
                    received.append(buffer, qsizetype(n));
                    continue;
                }
                if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                    closed = true;
                break;
            }
            return closed;
        },
        timeoutMs);
    ::close(fd);
    if (closedByServer)
        *closedByServer = closed;
    return received;
}

void stopProcess(QProcess &process)
{
    if (process.state() != QProcess::NotRunning) {
        process.kill();
        process.waitForFinished(5000);
    }
}

} // namespace qmasque::test
