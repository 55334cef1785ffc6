// The SOCKS5 reply code a client gets for each kind of tunnel failure (RFC 1928, 6).

#include "local/Socks5ErrorReply.h"

#include <QtTest/QTest>

using namespace qmasque;
using socks5::Reply;

namespace {

Error refusal(int status, const char *proxyErrorType)
{
    Error error(ErrorCode::HandshakeRejected, QStringLiteral("refused"));
    error.httpStatus = status;
    error.proxyErrorType = QString::fromLatin1(proxyErrorType);
    return error;
}

} // namespace

class tst_Socks5ErrorReply : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mapping_data()
    {
        QTest::addColumn<Error>("error");
        QTest::addColumn<int>("reply");
        QTest::newRow("refused") << refusal(502, "connection_refused")
                                 << int(Reply::ConnectionRefused);
        QTest::newRow("prohibited")
            << refusal(403, "destination_ip_prohibited") << int(Reply::NotAllowed);
        QTest::newRow("403 without proxy-status") << refusal(403, "") << int(Reply::NotAllowed);
        QTest::newRow("407") << refusal(407, "") << int(Reply::NotAllowed);
        QTest::newRow("dns") << refusal(502, "dns_error") << int(Reply::HostUnreachable);
        QTest::newRow("timeout") << refusal(504, "connection_timeout")
                                 << int(Reply::HostUnreachable);
        QTest::newRow("unroutable")
            << refusal(502, "destination_ip_unroutable") << int(Reply::NetworkUnreachable);
        QTest::newRow("overload") << refusal(503, "proxy_internal_error")
                                  << int(Reply::GeneralFailure);
        QTest::newRow("proxy down")
            << Error(ErrorCode::ConnectionRefused) << int(Reply::GeneralFailure);
        QTest::newRow("bad host") << Error(ErrorCode::BadHost) << int(Reply::GeneralFailure);
        QTest::newRow("race timeout")
            << Error(ErrorCode::RaceTimeout) << int(Reply::GeneralFailure);
    }

    void mapping()
    {
        QFETCH(Error, error);
        QFETCH(int, reply);
        QCOMPARE(int(socks5::replyForError(error)), reply);
    }
};

QTEST_GUILESS_MAIN(tst_Socks5ErrorReply)
#include "tst_socks5_error_reply.moc"
