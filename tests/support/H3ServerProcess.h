#pragma once

#include <QtCore/QProcess>
#include <QtCore/QStringList>

namespace qmasque::test {

// H3ServerProcess: runs tests/integration/helpers/h3_test_server (H3TestServer in its own
// process) with TestPki's server certificate, optionally behind a command prefix such as
// {"ip", "netns", "exec", "<ns>"}. Killed when destroyed.
class H3ServerProcess
{
public:
    explicit H3ServerProcess(QStringList prefix = {});
    ~H3ServerProcess();
    Q_DISABLE_COPY_MOVE(H3ServerProcess)

    // executable: the helper, built next to the test executables.
    static QString executable();

    // start: launches it on `address`:`port` (0: any free port) and waits for "LISTENING".
    bool start(const QString &address, quint16 port = 0, const QByteArray &secret = {},
               int timeoutMs = 15000);
    // kill: SIGKILL, as a crash would end it; waits until it is gone.
    void kill();

    quint16 port() const { return m_port; }
    const QString &error() const { return m_error; }
    QProcess &process() { return m_process; }

private:
    QStringList m_prefix;
    QProcess m_process;
    quint16 m_port = 0;
    QString m_error;
};

} // namespace qmasque::test
