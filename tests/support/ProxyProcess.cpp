#include "support/ProxyProcess.h"

#include "support/TestSupport.h"

namespace qmasque::test {

ProxyProcess::ProxyProcess(const QStringList &prefix)
    : ContractProcess(prefix + QStringList{executable()})
{}

QString ProxyProcess::executable()
{
    return binaryPath(QStringLiteral("app/qmasque-proxy"));
}

bool ProxyProcess::start(const QStringList &arguments, int timeoutMs)
{
    return startAndWait(arguments, timeoutMs, [this](const QByteArray &line) {
        if (line.startsWith("pin-sha256=")) {
            m_pin = QByteArray::fromBase64(line.mid(11));
        } else if (line.startsWith("listen=")) {
            // listen=127.0.0.1:43123 transports=h3,h2,h1
            const QList<QByteArray> fields = line.split(' ');
            const QByteArray endpoint = fields.value(0).mid(7);
            if (m_port == 0)
                m_port = quint16(endpoint.mid(endpoint.lastIndexOf(':') + 1).toUInt());
            for (const QByteArray &field : fields) {
                if (field.startsWith("transports="))
                    m_transports = QString::fromLatin1(field.mid(11)).split(u',');
            }
        } else if (line == "ready") {
            if (m_pin.size() == 32 && m_port != 0)
                return Line::Ready;
            m_error = QStringLiteral("ready without pin or port:\n") +
                      QString::fromLatin1(standardOutput());
            return Line::Broken;
        }
        return Line::More;
    });
}

ConnectOptions ProxyProcess::clientOptions() const
{
    ConnectOptions options;
    options.host = QStringLiteral("127.0.0.1");
    options.port = m_port;
    options.tls.useSystemTrust = false;
    options.tls.pinsSha256 = {m_pin};
    options.connectTimeoutMs = 10000;
    return options;
}

} // namespace qmasque::test
