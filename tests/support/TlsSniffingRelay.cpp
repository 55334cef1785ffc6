#include "support/TlsSniffingRelay.h"

#include "wire/ByteReader.h"

namespace qmasque::test {

TlsSniffingRelay::TlsSniffingRelay(quint16 targetPort, QObject *parent)
    : QObject(parent)
    , m_targetPort(targetPort)
{
    connect(&m_server, &QTcpServer::newConnection, this, &TlsSniffingRelay::handleNewConnection);
}

bool TlsSniffingRelay::listen()
{
    return m_server.listen(QHostAddress::LocalHost, 0);
}

void TlsSniffingRelay::handleNewConnection()
{
    m_client = m_server.nextPendingConnection();
    m_client->setParent(this);
    m_target = new QTcpSocket(this);
    connect(m_client, &QTcpSocket::readyRead, this, &TlsSniffingRelay::forwardFromClient);
    connect(m_target, &QTcpSocket::readyRead, this, &TlsSniffingRelay::forwardFromTarget);
    connect(m_target, &QTcpSocket::connected, this, [this] {
        m_target->write(m_pendingToTarget);
        m_pendingToTarget.clear();
    });
    connect(m_client, &QTcpSocket::disconnected, this, [this] {
        if (m_target && !m_frozen)
            m_target->disconnectFromHost();
    });
    connect(m_target, &QTcpSocket::disconnected, this, [this] {
        if (m_client && !m_frozen)
            m_client->disconnectFromHost();
    });
    m_target->connectToHost(QHostAddress::LocalHost, m_targetPort);
}

void TlsSniffingRelay::forwardFromClient()
{
    if (m_frozen || !m_client)
        return;
    const QByteArray bytes = m_client->readAll();
    if (!m_helloSeen) {
        m_helloBytes += bytes;
        parseClientHello();
    }
    if (m_target->state() == QAbstractSocket::ConnectedState)
        m_target->write(bytes);
    else
        m_pendingToTarget += bytes;
}

void TlsSniffingRelay::forwardFromTarget()
{
    if (m_frozen || !m_client)
        return;
    m_client->write(m_target->readAll());
}

void TlsSniffingRelay::parseClientHello()
{
    // RFC 8446, 5.1 and 4.1.2: a record header, then the ClientHello handshake message.
    wire::ByteReader record(m_helloBytes);
    const auto contentType = record.readU8();
    const auto recordVersion = record.readU16();
    const auto recordLength = record.readU16();
    if (!contentType || !recordVersion || !recordLength || record.remaining() < *recordLength)
        return; // not complete yet
    m_helloSeen = true;
    const auto body = record.readBytes(*recordLength);
    if (*contentType != 22 || !body)
        return;
    wire::ByteReader hello(*body);
    const auto skipLength8 = [&hello] {
        const auto length = hello.readU8();
        return length && hello.readBytes(*length);
    };
    const auto skipLength16 = [&hello] {
        const auto length = hello.readU16();
        return length && hello.readBytes(*length);
    };
    const auto type = hello.readU8();
    if (!type || *type != 1 || !hello.readBytes(3) || !hello.readU16() || !hello.readBytes(32) ||
        !skipLength8() || !skipLength16() || !skipLength8())
        return; // legacy_version, random, session id, cipher suites, compression
    const auto extensionsLength = hello.readU16();
    const auto extensions = extensionsLength ? hello.readBytes(*extensionsLength) : std::nullopt;
    if (!extensions)
        return;
    wire::ByteReader list(*extensions);
    while (!list.atEnd()) {
        const auto extensionType = list.readU16();
        const auto length = list.readU16();
        const auto data = length ? list.readBytes(*length) : std::nullopt;
        if (!extensionType || !data)
            return;
        if (*extensionType != 0) // server_name
            continue;
        wire::ByteReader names(*data);
        const auto listLength = names.readU16();
        const auto nameType = names.readU8();
        const auto nameLength = names.readU16();
        const auto name = nameLength ? names.readBytes(*nameLength) : std::nullopt;
        if (listLength && nameType && *nameType == 0 && name)
            m_sni = name->toByteArray();
        return;
    }
}

void TlsSniffingRelay::freeze()
{
    m_frozen = true;
}

void TlsSniffingRelay::cut()
{
    if (m_client)
        m_client->abort();
    if (m_target)
        m_target->abort();
}

} // namespace qmasque::test
