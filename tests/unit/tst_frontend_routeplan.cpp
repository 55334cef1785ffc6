// routePrefixes (what the TUN front end installs for a ROUTE_ADVERTISEMENT): exact CIDR covers,
// never /0, the proxy's own addresses cut out; and the TUN open errors (permission_denied
// naming CAP_NET_ADMIN).

#include "local/TunInterface.h"
#include "local/TunRoutePlan.h"

#include <QtTest/QTest>

#include <cerrno>

using namespace qmasque;
using wire::IpAddress;
using wire::IpAddressRange;
using wire::IpPrefix;

namespace {

IpAddress ip(const char16_t *text)
{
    return *IpAddress::fromString(QStringView(text));
}

IpAddressRange range(const char16_t *start, const char16_t *end)
{
    return IpAddressRange{ip(start), ip(end), 0};
}

QStringList texts(const QList<IpPrefix> &prefixes)
{
    QStringList out;
    for (const IpPrefix &prefix : prefixes)
        out.append(prefix.toString());
    return out;
}

} // namespace

class TstFrontendRoutePlan : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void exactCovers()
    {
        QCOMPARE(texts(routePrefixes({range(u"192.0.2.0", u"192.0.2.255")}, {})),
                 QStringList{QStringLiteral("192.0.2.0/24")});
        QCOMPARE(texts(routePrefixes({range(u"10.0.0.1", u"10.0.0.6")}, {})),
                 (QStringList{QStringLiteral("10.0.0.1/32"), QStringLiteral("10.0.0.2/31"),
                              QStringLiteral("10.0.0.4/31"), QStringLiteral("10.0.0.6/32")}));
        QCOMPARE(texts(routePrefixes({range(u"2001:db8::", u"2001:db8::ffff")}, {})),
                 QStringList{QStringLiteral("2001:db8::/112")});
        // One address, and the top of the space (no overflow past the last address).
        QCOMPARE(texts(routePrefixes({range(u"203.0.113.9", u"203.0.113.9")}, {})),
                 QStringList{QStringLiteral("203.0.113.9/32")});
        QCOMPARE(texts(routePrefixes({range(u"255.255.255.254", u"255.255.255.255")}, {})),
                 QStringList{QStringLiteral("255.255.255.254/31")});
    }

    void neverTheDefaultRoute()
    {
        QCOMPARE(texts(routePrefixes({range(u"0.0.0.0", u"255.255.255.255"),
                                      range(u"::", u"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")},
                                     {})),
                 (QStringList{QStringLiteral("0.0.0.0/1"), QStringLiteral("128.0.0.0/1"),
                              QStringLiteral("::/1"), QStringLiteral("8000::/1")}));
    }

    void excludedAddressesAreCutOut()
    {
        const QList<IpPrefix> routes =
            routePrefixes({range(u"0.0.0.0", u"255.255.255.255")}, {ip(u"198.51.100.7")});
        QVERIFY(!routes.isEmpty());
        quint64 covered = 0;
        for (const IpPrefix &route : routes) {
            QVERIFY(!route.contains(ip(u"198.51.100.7")));
            covered += quint64(1) << (32 - route.length);
        }
        QCOMPARE(covered, (quint64(1) << 32) - 1); // everything else
        QCOMPARE(routes.size(), 32);
        // Excluded addresses of the other family or outside every range change nothing.
        QCOMPARE(texts(routePrefixes({range(u"192.0.2.0", u"192.0.2.255")},
                                     {ip(u"::1"), ip(u"10.0.0.1")})),
                 QStringList{QStringLiteral("192.0.2.0/24")});
    }

    void overlappingAndAdjacentRangesMerge()
    {
        QCOMPARE(texts(routePrefixes({range(u"192.0.2.128", u"192.0.2.255"),
                                      range(u"192.0.2.0", u"192.0.2.127"),
                                      range(u"192.0.2.10", u"192.0.2.20")},
                                     {})),
                 QStringList{QStringLiteral("192.0.2.0/24")});
        // A reversed range is ignored, not trusted.
        QVERIFY(routePrefixes({range(u"192.0.2.9", u"192.0.2.1")}, {}).isEmpty());
    }

    void openErrors()
    {
        const Error denied = tunOpenError(EPERM, QStringLiteral("create TUN device qmtun0"));
        QCOMPARE(denied.code, ErrorCode::PermissionDenied);
        QVERIFY(denied.detail.contains(QStringLiteral("CAP_NET_ADMIN")));
        QVERIFY(denied.detail.contains(QStringLiteral("qmtun0")));
        QCOMPARE(tunOpenError(EACCES, QStringLiteral("open /dev/net/tun")).code,
                 ErrorCode::PermissionDenied);
        QCOMPARE(tunOpenError(ENOENT, QStringLiteral("open /dev/net/tun")).code,
                 ErrorCode::NotSupported);
        QCOMPARE(tunOpenError(EBUSY, QStringLiteral("create TUN device qmtun0")).code,
                 ErrorCode::Io);
    }
};

QTEST_GUILESS_MAIN(TstFrontendRoutePlan)
#include "tst_frontend_routeplan.moc"
