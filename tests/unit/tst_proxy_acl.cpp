// AccessControl (the proxy's target policy) and IpAddressPool (CONNECT-IP addresses).

#include "proxy/AccessControl.h"
#include "proxy/IpAddressPool.h"

#include <QtTest/QTest>

using namespace qmasque;
using wire::IpAddress;
using wire::IpPrefix;

namespace {

IpAddress ip(const char16_t *text)
{
    return *IpAddress::fromString(QStringView(text));
}

IpPrefix prefix(const char16_t *text)
{
    return *IpPrefix::fromString(QStringView(text));
}

} // namespace

class TstProxyAcl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaultPolicy_data()
    {
        QTest::addColumn<QString>("address");
        QTest::addColumn<bool>("permitted");
        for (const char16_t *denied : {u"127.0.0.1",
                                       u"127.255.255.254",
                                       u"0.0.0.0",
                                       u"10.0.0.1",
                                       u"172.16.0.1",
                                       u"172.31.255.255",
                                       u"192.168.1.1",
                                       u"169.254.1.1",
                                       u"100.64.0.1",
                                       u"224.0.0.251",
                                       u"239.255.255.250",
                                       u"255.255.255.255",
                                       u"240.0.0.1",
                                       u"192.0.2.1",
                                       u"198.51.100.7",
                                       u"203.0.113.9",
                                       u"198.18.0.1",
                                       u"::",
                                       u"::1",
                                       u"fe80::1",
                                       u"fc00::1",
                                       u"fd12:3456::1",
                                       u"ff02::1",
                                       u"2001:db8::1",
                                       u"::ffff:127.0.0.1",
                                       u"::ffff:10.1.2.3",
                                       u"2002:c000:0201::1",
                                       u"2001::1",
                                       u"64:ff9b:1::1",
                                       u"100::1",
                                       u"::127.0.0.1"})
            QTest::newRow(QString::fromUtf16(denied).toLatin1())
                << QString::fromUtf16(denied) << false;
        for (const char16_t *public_ :
             {u"1.1.1.1", u"8.8.8.8", u"93.184.216.34", u"172.32.0.1", u"172.15.255.255",
              u"100.128.0.1", u"192.0.3.1", u"223.255.255.255", u"2606:4700::1111",
              u"2001:4860:4860::8888", u"::ffff:1.1.1.1", u"64:ff9b::808:808"})
            QTest::newRow(QString::fromUtf16(public_).toLatin1())
                << QString::fromUtf16(public_) << true;
    }
    void defaultPolicy()
    {
        QFETCH(QString, address);
        QFETCH(bool, permitted);
        const AccessControl acl;
        const auto parsed = IpAddress::fromString(address);
        QVERIFY(parsed);
        QCOMPARE(acl.permits(*parsed), permitted);
        QCOMPARE(acl.permits(QHostAddress(address)), permitted);
    }

    void allowAddsExceptions()
    {
        const AccessControl acl(
            {prefix(u"127.0.0.0/8"), prefix(u"10.1.0.0/16"), prefix(u"fd00::/8")});
        QVERIFY(acl.permits(ip(u"127.0.0.1")));
        QVERIFY(acl.permits(ip(u"::ffff:127.0.0.1"))); // mapped, then checked as IPv4
        QVERIFY(acl.permits(ip(u"10.1.255.255")));
        QVERIFY(!acl.permits(ip(u"10.2.0.0")));
        QVERIFY(acl.permits(ip(u"fd00::1")));
        QVERIFY(!acl.permits(ip(u"fc00::1")));
        QVERIFY(!acl.permits(ip(u"::1")));
        QVERIFY(acl.permits(ip(u"1.1.1.1"))); // public stays permitted
        QVERIFY(!acl.permits(IpAddress()));
    }

    void prefixes()
    {
        const AccessControl acl({prefix(u"10.1.0.0/16")});
        QVERIFY(acl.permitsAnyOf(prefix(u"10.0.0.0/8")));
        QVERIFY(!acl.permitsAnyOf(prefix(u"192.168.0.0/16")));
        QVERIFY(acl.permitsAnyOf(prefix(u"0.0.0.0/0")));
        QVERIFY(!acl.permitsAnyOf(prefix(u"fe80::/10")));
        QVERIFY(acl.permitsAnyOf(prefix(u"2000::/3")));
    }

    void permittedRangesAreTheComplement()
    {
        const AccessControl acl({prefix(u"127.0.0.0/8")});
        const QList<wire::IpAddressRange> v4 = acl.permittedRanges(4, IpPrefix(), 0);
        QVERIFY(wire::validateRouteAdvertisement(v4).ok());
        QCOMPARE(v4.first().start, ip(u"1.0.0.0"));
        QCOMPARE(v4.last().end, ip(u"223.255.255.255"));
        // Every range boundary agrees with permits(), one address inside and one outside.
        for (const wire::IpAddressRange &range : v4) {
            QVERIFY(acl.permits(range.start));
            QVERIFY(acl.permits(range.end));
        }
        bool sawLoopback = false;
        for (const wire::IpAddressRange &range : v4)
            sawLoopback =
                sawLoopback || (range.start <= ip(u"127.0.0.1") && ip(u"127.0.0.1") <= range.end);
        QVERIFY(sawLoopback);

        const QList<wire::IpAddressRange> v6 = acl.permittedRanges(6, IpPrefix(), 17);
        QVERIFY(wire::validateRouteAdvertisement(v6).ok());
        for (const wire::IpAddressRange &range : v6)
            QCOMPARE(range.ipProtocol, quint8(17));
        QCOMPARE(v6.last().end,
                 ip(u"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff")); // fe80::/10 on denied

        // Inside a scope: clipped to it.
        const QList<wire::IpAddressRange> scoped = acl.permittedRanges(4, prefix(u"10.0.0.0/7"), 0);
        QCOMPARE(scoped.size(), 1);
        QCOMPARE(scoped.first().start, ip(u"11.0.0.0")); // 10/8 cut off
        QCOMPARE(scoped.first().end, ip(u"11.255.255.255"));
        QVERIFY(acl.permittedRanges(6, prefix(u"10.0.0.0/8"), 0).isEmpty());
    }

    void poolHandsOutHostAddresses()
    {
        IpAddressPool pool({prefix(u"10.89.0.0/30"), prefix(u"fd00:89::/126")});
        QCOMPARE(pool.gateway(4), ip(u"10.89.0.1"));
        QCOMPARE(pool.gateway(6), ip(u"fd00:89::1"));
        QCOMPARE(pool.capacity(4), quint64(1)); // .0 network, .1 gateway, .3 broadcast
        QCOMPARE(pool.capacity(6), quint64(2));
        QCOMPARE(pool.allocate(4).value(), ip(u"10.89.0.2"));
        QVERIFY(!pool.allocate(4)); // exhausted
        QCOMPARE(pool.allocate(6).value(), ip(u"fd00:89::2"));
        QCOMPARE(pool.allocate(6).value(), ip(u"fd00:89::3"));
        QVERIFY(!pool.allocate(6));
        pool.release(ip(u"10.89.0.2"));
        QCOMPARE(pool.allocate(4).value(), ip(u"10.89.0.2"));
    }

    void poolHonoursPreferences()
    {
        IpAddressPool pool({prefix(u"10.89.0.0/24")});
        QCOMPARE(pool.allocate(4, ip(u"10.89.0.77")).value(), ip(u"10.89.0.77"));
        // Taken, the gateway, the network or broadcast address, outside: another one.
        for (const char16_t *refused :
             {u"10.89.0.77", u"10.89.0.1", u"10.89.0.0", u"10.89.0.255", u"10.90.0.5"}) {
            const auto address = pool.allocate(4, ip(refused));
            QVERIFY(address);
            QVERIFY(*address != ip(refused));
            QVERIFY(prefix(u"10.89.0.0/24").contains(*address));
        }
        QVERIFY(!pool.allocate(6)); // no IPv6 pool
        QCOMPARE(pool.inUse(), qsizetype(6));
    }

    void poolWalksOnAfterRelease()
    {
        // A released address is not handed out again at once (the cursor moves on).
        IpAddressPool pool({prefix(u"10.89.0.0/24")});
        const IpAddress first = *pool.allocate(4);
        pool.release(first);
        const IpAddress second = *pool.allocate(4);
        QVERIFY(second != first);
        // 253 assignable addresses in a /24, all distinct.
        QSet<IpAddress> seen{second};
        while (auto next = pool.allocate(4))
            seen.insert(*next);
        QCOMPARE(seen.size(), qsizetype(253));
    }
};

QTEST_APPLESS_MAIN(TstProxyAcl)
#include "tst_proxy_acl.moc"
