#pragma once

#include <QtCore/QObject>
#include <QtCore/QProcess>
#include <QtCore/QStringList>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QTcpServer>

#include <functional>
#include <memory>

namespace qmasque::test {

// Helpers for interop tests that run real programs (nghttpx, tinyproxy, curl) on loopback.

// programPath: the absolute path of an installed program, or empty (the test then QSKIPs).
QString programPath(const QString &name);

// ExternalServer: a server program started on a free loopback port. The port is only known to
// be free when it was probed, so start() retries with a new port when the program exits early
// or never accepts connections. The program runs as the current user with its files (config,
// pid, logs) in a private temporary directory, and is terminated (by its own process id) when
// this object goes.
class ExternalServer : public QObject
{
    Q_OBJECT

public:
    // ArgumentsFor: the program's arguments for `port`, writing any files into `dir`.
    using ArgumentsFor = std::function<QStringList(quint16 port, const QString &dir)>;

    ExternalServer(QString program, ArgumentsFor arguments, QObject *parent = nullptr);
    ~ExternalServer() override;

    bool start();
    quint16 port() const { return m_port; }
    QString dir() const { return m_dir.path(); }
    // diagnostics: the program's output and log files, for failure messages.
    QString diagnostics() const;

private:
    bool startOnce(quint16 port);
    void stop();

    const QString m_program;
    const ArgumentsFor m_arguments;
    QTemporaryDir m_dir;
    std::unique_ptr<QProcess> m_process;
    quint16 m_port = 0;
    QString m_lastOutput;
};

// EchoTcpServer: a loopback TCP server that writes back every byte it reads.
class EchoTcpServer : public QObject
{
    Q_OBJECT

public:
    explicit EchoTcpServer(QObject *parent = nullptr);
    bool listen();
    quint16 port() const { return m_server.serverPort(); }
    qint64 bytesEchoed() const { return m_bytesEchoed; }

private:
    QTcpServer m_server;
    qint64 m_bytesEchoed = 0;
};

// H2TinyHttpServer: a loopback HTTP/1.1 origin answering every request with `body`
// (Content-Length framed, then close).
class H2TinyHttpServer : public QObject
{
    Q_OBJECT

public:
    explicit H2TinyHttpServer(QByteArray body, QObject *parent = nullptr);
    bool listen();
    quint16 port() const { return m_server.serverPort(); }
    int requests() const { return m_requests; }

private:
    QTcpServer m_server;
    const QByteArray m_body;
    int m_requests = 0;
};

} // namespace qmasque::test
