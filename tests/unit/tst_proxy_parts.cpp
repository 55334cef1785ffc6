// Pieces of the proxy without sockets: the CONNECT-IP responder (echo replies, Time Exceeded),
// Happy Eyeballs address ordering, and the self-signed identity with its pin.

#include "proxy/IpResponder.h"
#include "proxy/ProxyIdentity.h"
#include "proxy/TcpDialer.h"
#include "wire/InternetChecksum.h"
#include "wire/IpPacket.h"

#include <QtCore/QFile>
#include <QtNetwork/QSslCertificate>
#include <QtNetwork/QSslKey>
#include <QtTest/QTest>

using namespace qmasque;
using wire::IpAddress;

namespace {

IpAddress ip(const char16_t *text)
{
    return *IpAddress::fromString(QStringView(text));
}

quint16 readU16(QByteArrayView data, qsizetype at)
{
    return quint16(quint8(data[at]) << 8 | quint8(data[at + 1]));
}

QByteArray icmpEcho(const IpAddress &from, const IpAddress &to, bool corrupt = false)
{
    QByteArray icmp = QByteArray::fromHex("0800000001020003") + QByteArray("payload!");
    if (from.isIpv6())
        icmp[0] = char(128);
    const quint16 checksum = from.isIpv4() ? wire::internetChecksum(icmp)
                                           : wire::pseudoHeaderChecksum(from, to, 58, icmp);
    icmp[2] = char(checksum >> 8);
    icmp[3] = char((checksum & 0xff) ^ (corrupt ? 1 : 0));
    QByteArray packet;
    IpResponder::buildIpPacket(from, to, from.isIpv4() ? 1 : 58, 9, icmp, packet);
    return packet;
}

QByteArray udp(const IpAddress &from, const IpAddress &to, quint16 port, bool zeroChecksum = false)
{
    QByteArray segment = QByteArray::fromHex("d431") + QByteArray(2, '\0') +
                         QByteArray::fromHex("000b0000") + QByteArray("abc");
    segment[2] = char(port >> 8);
    segment[3] = char(port & 0xff);
    if (!zeroChecksum) {
        const quint16 checksum = wire::udpChecksum(from, to, segment);
        segment[6] = char(checksum >> 8);
        segment[7] = char(checksum & 0xff);
    }
    QByteArray packet;
    IpResponder::buildIpPacket(from, to, 17, 9, segment, packet);
    return packet;
}

} // namespace

class TstProxyParts : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void echoReplies_data()
    {
        QTest::addColumn<QByteArray>("request");
        const IpAddress client4 = ip(u"10.89.0.2");
        const IpAddress client6 = ip(u"fd00:89::2");
        QTest::newRow("icmp") << icmpEcho(client4, ip(u"192.0.2.9"));
        QTest::newRow("icmpv6") << icmpEcho(client6, ip(u"2001:db8::9"));
        QTest::newRow("udp v4") << udp(client4, ip(u"192.0.2.9"), IpResponder::kEchoPort);
        QTest::newRow("udp v4 without checksum")
            << udp(client4, ip(u"192.0.2.9"), IpResponder::kEchoPort, true);
        QTest::newRow("udp v6") << udp(client6, ip(u"2001:db8::9"), IpResponder::kEchoPort);
    }
    void echoReplies()
    {
        QFETCH(QByteArray, request);
        auto info = wire::inspectIpPacket(request);
        QVERIFY(info);
        QByteArray reply;
        QVERIFY(IpResponder::answer(request, *info, reply));
        auto replyInfo = wire::inspectIpPacket(reply); // IPv4 header checksum verified here
        QVERIFY(replyInfo);
        QCOMPARE(replyInfo->source, info->destination);
        QCOMPARE(replyInfo->destination, info->source);
        QCOMPARE(replyInfo->hopLimit, IpResponder::kReplyHopLimit);
        QCOMPARE(replyInfo->payloadLength, info->payloadLength);
        const QByteArrayView upper = QByteArrayView(reply).sliced(replyInfo->headerLength);
        const QByteArrayView asked = QByteArrayView(request).sliced(info->headerLength);
        if (info->protocol == 17) {
            QCOMPARE(readU16(upper, 0), readU16(asked, 2));
            QCOMPARE(readU16(upper, 2), readU16(asked, 0));
            QCOMPARE(upper.sliced(8), asked.sliced(8));
            QCOMPARE(
                wire::pseudoHeaderChecksum(replyInfo->source, replyInfo->destination, 17, upper),
                quint16(0));
        } else {
            QCOMPARE(quint8(upper[0]), quint8(info->version == 4 ? 0 : 129));
            QCOMPARE(upper.sliced(4), asked.sliced(4)); // identifier, sequence, data
            const quint16 check =
                info->version == 4 ? wire::internetChecksum(upper)
                                   : wire::pseudoHeaderChecksum(replyInfo->source,
                                                                replyInfo->destination, 58, upper);
            QCOMPARE(check, quint16(0));
        }
    }

    void noAnswer_data()
    {
        QTest::addColumn<QByteArray>("request");
        const IpAddress client4 = ip(u"10.89.0.2");
        QTest::newRow("udp to another port") << udp(client4, ip(u"192.0.2.9"), 53);
        QTest::newRow("icmp bad checksum") << icmpEcho(client4, ip(u"192.0.2.9"), true);
        QByteArray reply = icmpEcho(client4, ip(u"192.0.2.9"));
        reply[20] = 0; // an echo reply is not answered
        reply[22] = reply[23] = 0;
        const quint16 checksum = wire::internetChecksum(QByteArrayView(reply).sliced(20));
        reply[22] = char(checksum >> 8);
        reply[23] = char(checksum & 0xff);
        QTest::newRow("icmp echo reply") << reply;
        QByteArray udpV6 = udp(ip(u"fd00:89::2"), ip(u"2001:db8::9"), IpResponder::kEchoPort, true);
        QTest::newRow("udp v6 without checksum") << udpV6; // RFC 8200, 8.1: mandatory
    }
    void noAnswer()
    {
        QFETCH(QByteArray, request);
        auto info = wire::inspectIpPacket(request);
        QVERIFY(info);
        QByteArray reply;
        QVERIFY(!IpResponder::answer(request, *info, reply));
    }

    void timeExceeded()
    {
        const IpAddress client4 = ip(u"10.89.0.2");
        const QByteArray big = [&] {
            QByteArray segment(1400, 'z');
            QByteArray packet;
            IpResponder::buildIpPacket(client4, ip(u"192.0.2.9"), 17, 1, segment, packet);
            return packet;
        }();
        auto info = wire::inspectIpPacket(big);
        QVERIFY(info);
        QByteArray error;
        QVERIFY(IpResponder::timeExceeded(big, *info, ip(u"10.89.0.1"), error));
        QCOMPARE(error.size(), 576); // RFC 1812, 4.3.2.3
        auto errorInfo = wire::inspectIpPacket(error);
        QVERIFY(errorInfo);
        QCOMPARE(errorInfo->source, ip(u"10.89.0.1"));
        QCOMPARE(errorInfo->destination, client4);
        const QByteArrayView icmp = QByteArrayView(error).sliced(20);
        QCOMPARE(quint8(icmp[0]), quint8(11));
        QCOMPARE(wire::internetChecksum(icmp), quint16(0));
        QCOMPARE(icmp.sliced(8), QByteArrayView(big).first(576 - 28));

        // IPv6: up to 1280 bytes, ICMPv6 checksum with the pseudo-header.
        QByteArray big6;
        IpResponder::buildIpPacket(ip(u"fd00:89::2"), ip(u"2001:db8::9"), 17, 1,
                                   QByteArray(2000, 'q'), big6);
        auto info6 = wire::inspectIpPacket(big6);
        QVERIFY(info6);
        QVERIFY(IpResponder::timeExceeded(big6, *info6, ip(u"fd00:89::1"), error));
        QCOMPARE(error.size(), 1280);
        const QByteArrayView icmp6 = QByteArrayView(error).sliced(40);
        QCOMPARE(quint8(icmp6[0]), quint8(3));
        QCOMPARE(wire::pseudoHeaderChecksum(ip(u"fd00:89::1"), ip(u"fd00:89::2"), 58, icmp6),
                 quint16(0));

        // Never about an ICMP error, nor from a router of the other version.
        QVERIFY(!IpResponder::timeExceeded(error, *wire::inspectIpPacket(error), ip(u"fd00:89::1"),
                                           big6));
        QVERIFY(!IpResponder::timeExceeded(big, *info, ip(u"fd00:89::1"), error));
    }

    void happyEyeballsOrder()
    {
        const QList<QHostAddress> order = TcpDialer::interleave(
            {QHostAddress(QStringLiteral("192.0.2.1")), QHostAddress(QStringLiteral("192.0.2.2")),
             QHostAddress(QStringLiteral("192.0.2.3")), QHostAddress(QStringLiteral("2001:db8::1")),
             QHostAddress(QStringLiteral("2001:db8::2"))});
        const QStringList expected{QStringLiteral("2001:db8::1"), QStringLiteral("192.0.2.1"),
                                   QStringLiteral("2001:db8::2"), QStringLiteral("192.0.2.2"),
                                   QStringLiteral("192.0.2.3")};
        QStringList actual;
        for (const QHostAddress &address : order)
            actual.append(address.toString());
        QCOMPARE(actual, expected);
    }

    void selfSignedIdentity()
    {
        auto identity = ProxyIdentity::generateSelfSigned(
            {QStringLiteral("localhost"), QStringLiteral("proxy.test")},
            {QHostAddress(QHostAddress::LocalHost), QHostAddress(QStringLiteral("::1"))});
        QVERIFY2(identity, qPrintable(identity ? QString() : identity.error().toString()));
        QCOMPARE(identity->spkiSha256().size(), 32);
        QCOMPARE(QByteArray::fromBase64(identity->pinBase64().toLatin1()), identity->spkiSha256());
        QFile keyFile(identity->privateKeyFile());
        QCOMPARE(keyFile.permissions() & (QFile::ReadGroup | QFile::ReadOther),
                 QFile::Permissions());

        const QList<QSslCertificate> chain = QSslCertificate::fromPath(identity->certificateFile());
        QCOMPARE(chain.size(), 1);
        const auto names = chain.first().subjectAlternativeNames();
        QVERIFY(names.values(QSsl::DnsEntry).contains(QStringLiteral("proxy.test")));
        QVERIFY(names.values(QSsl::IpAddressEntry).contains(QStringLiteral("127.0.0.1")));
        QVERIFY(chain.first().expiryDate() > QDateTime::currentDateTimeUtc().addDays(300));

        // The pin of the files is the pin of the key: what an operator's --cert gets.
        auto loaded =
            ProxyIdentity::fromFiles(identity->certificateFile(), identity->privateKeyFile());
        QVERIFY(loaded);
        QCOMPARE(loaded->spkiSha256(), identity->spkiSha256());

        // Two runs, two keys.
        auto other = ProxyIdentity::generateSelfSigned({QStringLiteral("localhost")}, {});
        QVERIFY(other);
        QVERIFY(other->spkiSha256() != identity->spkiSha256());

        QCOMPARE(ProxyIdentity::fromFiles(QStringLiteral("/nonexistent.pem"), {}).error().code,
                 ErrorCode::InvalidConfig);
    }
};

QTEST_MAIN(TstProxyParts)
#include "tst_proxy_parts.moc"
