// RFC 6570 URI Templates (levels 1-3): parsing, the RFC's own expansion examples, and the
// server-side match that inverts an expansion.

#include "wire/UriTemplate.h"

#include <QtTest/QTest>

using namespace qmasque;
using namespace qmasque::wire;

namespace {

// The variables of RFC 6570, 1.2 and 3.2.
UriVariables rfcVariables()
{
    return {{QStringLiteral("var"), QStringLiteral("value")},
            {QStringLiteral("hello"), QStringLiteral("Hello World!")},
            {QStringLiteral("path"), QStringLiteral("/foo/bar")},
            {QStringLiteral("empty"), QString()},
            {QStringLiteral("x"), QStringLiteral("1024")},
            {QStringLiteral("y"), QStringLiteral("768")}};
}

UriTemplate parsed(const QString &text)
{
    auto t = UriTemplate::parse(text);
    if (!t)
        qFatal("template %s: %s", qPrintable(text), qPrintable(t.error().detail));
    return *t;
}

} // namespace

Q_DECLARE_METATYPE(qmasque::wire::UriVariables)

class tst_WireUriTemplate : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rfc6570Examples_data();
    void rfc6570Examples();
    void undefinedAndEmpty();
    void encodingOfValues();
    void literalsAreEncodedWhenNeeded();
    void structure();
    void malformedTemplates_data();
    void malformedTemplates();
    void matchInvertsExpansion_data();
    void matchInvertsExpansion();
    void matchVectors_data();
    void matchVectors();
    void matchRefusals_data();
    void matchRefusals();
    void matchDecodesOnce();
    void matchAbsoluteForms();
    void repeatedVariableMustAgree();
    void ambiguousMatchIsBounded();
    void percentDecoding();
};

void tst_WireUriTemplate::rfc6570Examples_data()
{
    QTest::addColumn<QString>("templateText");
    QTest::addColumn<QString>("expansion");
    // RFC 6570, 1.2: level 1.
    QTest::newRow("L1 var") << "{var}"
                            << "value";
    QTest::newRow("L1 hello") << "{hello}"
                              << "Hello%20World%21";
    // Level 2.
    QTest::newRow("L2 +var") << "{+var}"
                             << "value";
    QTest::newRow("L2 +hello") << "{+hello}"
                               << "Hello%20World!";
    QTest::newRow("L2 +path") << "{+path}/here"
                              << "/foo/bar/here";
    QTest::newRow("L2 ref") << "here?ref={+path}"
                            << "here?ref=/foo/bar";
    QTest::newRow("L2 #var") << "X{#var}"
                             << "X#value";
    QTest::newRow("L2 #hello") << "X{#hello}"
                               << "X#Hello%20World!";
    // Level 3.
    QTest::newRow("L3 map") << "map?{x,y}"
                            << "map?1024,768";
    QTest::newRow("L3 x,hello,y") << "{x,hello,y}"
                                  << "1024,Hello%20World%21,768";
    QTest::newRow("L3 +x,hello,y") << "{+x,hello,y}"
                                   << "1024,Hello%20World!,768";
    QTest::newRow("L3 +path,x") << "{+path,x}/here"
                                << "/foo/bar,1024/here";
    QTest::newRow("L3 #x,hello,y") << "{#x,hello,y}"
                                   << "#1024,Hello%20World!,768";
    QTest::newRow("L3 #path,x") << "{#path,x}/here"
                                << "#/foo/bar,1024/here";
    QTest::newRow("L3 .var") << "X{.var}"
                             << "X.value";
    QTest::newRow("L3 .x,y") << "X{.x,y}"
                             << "X.1024.768";
    QTest::newRow("L3 /var") << "{/var}"
                             << "/value";
    QTest::newRow("L3 /var,x") << "{/var,x}/here"
                               << "/value/1024/here";
    QTest::newRow("L3 ;x,y") << "{;x,y}"
                             << ";x=1024;y=768";
    QTest::newRow("L3 ;x,y,empty") << "{;x,y,empty}"
                                   << ";x=1024;y=768;empty";
    QTest::newRow("L3 ?x,y") << "{?x,y}"
                             << "?x=1024&y=768";
    QTest::newRow("L3 ?x,y,empty") << "{?x,y,empty}"
                                   << "?x=1024&y=768&empty=";
    QTest::newRow("L3 fixed&x") << "?fixed=yes{&x}"
                                << "?fixed=yes&x=1024";
    QTest::newRow("L3 &x,y,empty") << "{&x,y,empty}"
                                   << "&x=1024&y=768&empty=";
}

void tst_WireUriTemplate::rfc6570Examples()
{
    QFETCH(QString, templateText);
    QFETCH(QString, expansion);
    QCOMPARE(parsed(templateText).expand(rfcVariables()), expansion);
}

void tst_WireUriTemplate::undefinedAndEmpty()
{
    // RFC 6570, 3.2.1: undefined variables vanish with their prefix; empty ones do not.
    const UriVariables vars = rfcVariables();
    QCOMPARE(parsed(QStringLiteral("a{undef}b")).expand(vars), QStringLiteral("ab"));
    QCOMPARE(parsed(QStringLiteral("{?undef,x}")).expand(vars), QStringLiteral("?x=1024"));
    QCOMPARE(parsed(QStringLiteral("{/undef}")).expand(vars), QString());
    QCOMPARE(parsed(QStringLiteral("{empty}")).expand(vars), QString());
    QCOMPARE(parsed(QStringLiteral("{?empty}")).expand(vars), QStringLiteral("?empty="));
    QCOMPARE(parsed(QStringLiteral("{x,undef,y}")).expand(vars), QStringLiteral("1024,768"));
}

void tst_WireUriTemplate::encodingOfValues()
{
    const UriTemplate simple = parsed(QStringLiteral("{v}"));
    const UriTemplate reserved = parsed(QStringLiteral("{+v}"));
    auto with = [](const char *value) {
        return UriVariables{{QStringLiteral("v"), QString::fromUtf8(value)}};
    };
    // RFC 9298, 2: an IPv6 target_host has its colons percent-encoded.
    QCOMPARE(simple.expand(with("2001:db8::42")), QStringLiteral("2001%3Adb8%3A%3A42"));
    QCOMPARE(simple.expand(with("*")), QStringLiteral("%2A"));
    QCOMPARE(simple.expand(with("192.0.2.0/24")), QStringLiteral("192.0.2.0%2F24"));
    QCOMPARE(simple.expand(with("a-b.c_d~e")), QStringLiteral("a-b.c_d~e"));
    QCOMPARE(simple.expand(with("100%")), QStringLiteral("100%25"));
    QCOMPARE(simple.expand(with("\xc3\xa9")), QStringLiteral("%C3%A9"));               // é
    QCOMPARE(simple.expand(with("\xf0\x9f\x98\x80")), QStringLiteral("%F0%9F%98%80")); // emoji
    // Reserved expansion keeps reserved characters and valid triplets, encodes a stray '%'.
    QCOMPARE(reserved.expand(with("/a?b=c&d")), QStringLiteral("/a?b=c&d"));
    QCOMPARE(reserved.expand(with("%2F%zz")), QStringLiteral("%2F%25zz"));
}

void tst_WireUriTemplate::literalsAreEncodedWhenNeeded()
{
    // RFC 6570, 3.1: literal characters outside the URI character set are percent-encoded.
    QCOMPARE(parsed(QString::fromUtf8("/caf\xc3\xa9/{x}")).expand(rfcVariables()),
             QStringLiteral("/caf%C3%A9/1024"));
    QCOMPARE(parsed(QStringLiteral("/a%20b")).expand({}), QStringLiteral("/a%20b"));
}

void tst_WireUriTemplate::structure()
{
    const UriTemplate t = parsed(QStringLiteral("https://h/p/{a}/{b}{?a,c}"));
    QCOMPARE(t.variableNames(),
             (QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}));
    QVERIFY(t.hasVariable(u"c"));
    QVERIFY(!t.hasVariable(u"d"));
    QVERIFY(t.usesOperator(UriTemplate::Operator::Query));
    QVERIFY(!t.usesOperator(UriTemplate::Operator::Reserved));
    QCOMPARE(t.parts().size(), 5); // "https://h/p/", {a}, "/", {b}, {?a,c}
    QCOMPARE(t.text(), QStringLiteral("https://h/p/{a}/{b}{?a,c}"));
    QVERIFY(UriTemplate().isEmpty());
}

void tst_WireUriTemplate::malformedTemplates_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("unclosed") << "/a/{b";
    QTest::newRow("nested") << "/{a{b}}";
    QTest::newRow("stray close") << "/a}";
    QTest::newRow("empty expression") << "/{}";
    QTest::newRow("only operator") << "/{+}";
    QTest::newRow("empty name") << "/{a,}";
    QTest::newRow("reserved op =") << "/{=a}";
    QTest::newRow("reserved op !") << "/{!a}";
    QTest::newRow("reserved op |") << "/{|a}";
    QTest::newRow("prefix modifier") << "/{a:3}";
    QTest::newRow("explode modifier") << "/{a*}";
    QTest::newRow("space in name") << "/{a b}";
    QTest::newRow("dash in name") << "/{a-b}";
    QTest::newRow("double dot name") << "/{a..b}";
    QTest::newRow("leading dot name") << "/{.}";
    QTest::newRow("space literal") << "/a b/{x}";
    QTest::newRow("quote literal") << "/a\"b";
    QTest::newRow("backslash") << "/a\\b";
    QTest::newRow("bad triplet") << "/a%2";
    QTest::newRow("bad triplet hex") << "/a%zz";
    QTest::newRow("control") << "/a\tb";
}

void tst_WireUriTemplate::malformedTemplates()
{
    QFETCH(QString, text);
    const auto t = UriTemplate::parse(text);
    QVERIFY(!t.ok());
    QCOMPARE(t.error().code, ErrorCode::MalformedTemplate);
    QVERIFY(!t.error().detail.isEmpty());
}

void tst_WireUriTemplate::matchInvertsExpansion_data()
{
    QTest::addColumn<QString>("templateText");
    QTest::addColumn<UriVariables>("variables");
    auto vars = [](std::initializer_list<std::pair<const char *, const char *>> list) {
        UriVariables v;
        for (const auto &[name, value] : list)
            v.insert(QString::fromLatin1(name), QString::fromUtf8(value));
        return v;
    };
    QTest::newRow("udp default") << "/.well-known/masque/udp/{target_host}/{target_port}/"
                                 << vars({{"target_host", "2001:db8::42"}, {"target_port", "443"}});
    QTest::newRow("query literal") << "/masque?h={target_host}&p={target_port}"
                                   << vars({{"target_host", "a b&c=d"}, {"target_port", "1"}});
    QTest::newRow("form query") << "/masque{?target_host,target_port}"
                                << vars({{"target_host", "example.com"}, {"target_port", "80"}});
    QTest::newRow("form query, one") << "/ip{?target,ipproto}" << vars({{"ipproto", "17"}});
    QTest::newRow("form query, none") << "/ip{?target,ipproto}" << vars({});
    QTest::newRow("continuation") << "/x?fixed=1{&a,b}" << vars({{"a", ""}, {"b", "*"}});
    QTest::newRow("path segments") << "/base{/a,b}/end" << vars({{"a", "x y"}, {"b", "z"}});
    QTest::newRow("path segments, one") << "/base{/a,b}/end" << vars({{"a", "x"}});
    QTest::newRow("path segments, none") << "/base{/a,b}/end" << vars({});
    QTest::newRow("path parameters") << "/p{;x,y}" << vars({{"x", "1"}, {"y", ""}});
    QTest::newRow("label") << "/file{.ext}" << vars({{"ext", "json"}});
    QTest::newRow("reserved") << "{+base}/tail" << vars({{"base", "/a/b,c"}});
    QTest::newRow("simple pair") << "/map/{x,y}/" << vars({{"x", "1,2"}, {"y", "3"}});
    QTest::newRow("unicode value") << "/u/{v}/" << vars({{"v", "\xc3\xa9t\xc3\xa9"}});
    QTest::newRow("wildcards") << "/.well-known/masque/ip/{target}/{ipproto}/"
                               << vars({{"target", "*"}, {"ipproto", "*"}});
}

void tst_WireUriTemplate::matchInvertsExpansion()
{
    QFETCH(QString, templateText);
    QFETCH(UriVariables, variables);
    const UriTemplate t = parsed(templateText);
    const QString expansion = t.expand(variables);
    const auto matched = t.match(expansion);
    QVERIFY2(matched.ok(), qPrintable(expansion + QStringLiteral(": ") +
                                      (matched.ok() ? QString() : matched.error().detail)));
    QCOMPARE(*matched, variables);
}

void tst_WireUriTemplate::matchVectors_data()
{
    QTest::addColumn<QString>("templateText");
    QTest::addColumn<QString>("target");
    QTest::addColumn<UriVariables>("expected");
    // RFC 9298, 3.4 / 3.2 and RFC 9484, 4.4 / 4.2 request examples.
    QTest::newRow("rfc9298 h2/h3")
        << "https://example.org/.well-known/masque/udp/{target_host}/{target_port}/"
        << "/.well-known/masque/udp/192.0.2.6/443/"
        << UriVariables{{QStringLiteral("target_host"), QStringLiteral("192.0.2.6")},
                        {QStringLiteral("target_port"), QStringLiteral("443")}};
    QTest::newRow("rfc9298 h1 absolute form")
        << "https://example.org/.well-known/masque/udp/{target_host}/{target_port}/"
        << "https://example.org/.well-known/masque/udp/192.0.2.6/443/"
        << UriVariables{{QStringLiteral("target_host"), QStringLiteral("192.0.2.6")},
                        {QStringLiteral("target_port"), QStringLiteral("443")}};
    QTest::newRow("rfc9484 raw wildcards")
        << "https://example.org/.well-known/masque/ip/{target}/"
           "{ipproto}/"
        << "/.well-known/masque/ip/*/*/"
        << UriVariables{{QStringLiteral("target"), QStringLiteral("*")},
                        {QStringLiteral("ipproto"), QStringLiteral("*")}};
    QTest::newRow("form query reordered")
        << "/masque{?target_host,target_port}"
        << "/masque?target_port=443&target_host=a.example"
        << UriVariables{{QStringLiteral("target_host"), QStringLiteral("a.example")},
                        {QStringLiteral("target_port"), QStringLiteral("443")}};
    QTest::newRow("lower-case triplets")
        << "/u/{h}/"
        << "/u/2001%3adb8%3a%3a1/"
        << UriVariables{{QStringLiteral("h"), QStringLiteral("2001:db8::1")}};
    QTest::newRow("no variables") << "https://masque.example.org/?user=bob"
                                  << "/?user=bob" << UriVariables{};
}

void tst_WireUriTemplate::matchVectors()
{
    QFETCH(QString, templateText);
    QFETCH(QString, target);
    QFETCH(UriVariables, expected);
    const auto matched = parsed(templateText).match(target);
    QVERIFY2(matched.ok(), qPrintable(matched.ok() ? QString() : matched.error().detail));
    QCOMPARE(*matched, expected);
}

void tst_WireUriTemplate::matchRefusals_data()
{
    QTest::addColumn<QString>("templateText");
    QTest::addColumn<QString>("target");
    const QString udp = QStringLiteral("/.well-known/masque/udp/{target_host}/{target_port}/");
    QTest::newRow("other prefix") << udp << "/.well-known/masque/tcp/a/1/";
    QTest::newRow("extra segment") << udp << "/.well-known/masque/udp/a/b/1/";
    QTest::newRow("missing trailing slash") << udp << "/.well-known/masque/udp/a/1";
    QTest::newRow("trailing query") << udp << "/.well-known/masque/udp/a/1/?x=1";
    QTest::newRow("fragment") << udp << "/.well-known/masque/udp/a/1/#f";
    QTest::newRow("raw colon") << udp << "/.well-known/masque/udp/2001:db8::1/1/";
    QTest::newRow("raw brackets") << udp << "/.well-known/masque/udp/[::1]/1/";
    QTest::newRow("bad triplet") << udp << "/.well-known/masque/udp/a%2/1/";
    QTest::newRow("invalid utf-8") << udp << "/.well-known/masque/udp/%C3%28/1/";
    QTest::newRow("empty") << udp << "";
    QTest::newRow("query literal swapped") << "/masque?h={h}&p={p}"
                                           << "/masque?p=1&h=a";
    QTest::newRow("unknown query name") << "/m{?a,b}"
                                        << "/m?a=1&c=2";
    QTest::newRow("repeated query name") << "/m{?a,b}"
                                         << "/m?a=1&a=2";
    QTest::newRow("query without =") << "/m{?a}"
                                     << "/m?a";
    QTest::newRow("too many pieces") << "/m/{a,b}/"
                                     << "/m/1,2,3/";
}

void tst_WireUriTemplate::matchRefusals()
{
    QFETCH(QString, templateText);
    QFETCH(QString, target);
    const auto matched = parsed(templateText).match(target);
    QVERIFY(!matched.ok());
    QCOMPARE(matched.error().code, ErrorCode::BadPath);
}

void tst_WireUriTemplate::matchDecodesOnce()
{
    const UriTemplate t = parsed(QStringLiteral("/x/{v}/"));
    QCOMPARE(t.match(u"/x/%252A/").value().value(QStringLiteral("v")), QStringLiteral("%2A"));
    QCOMPARE(t.match(u"/x/%2A/").value().value(QStringLiteral("v")), QStringLiteral("*"));
    QCOMPARE(t.match(u"/x/%2F/").value().value(QStringLiteral("v")), QStringLiteral("/"));
}

void tst_WireUriTemplate::matchAbsoluteForms()
{
    const UriTemplate absolute = parsed(QStringLiteral("https://proxy.example.org:4443/masque/ip?t="
                                                       "{target}&i={ipproto}"));
    const auto m = absolute.match(u"/masque/ip?t=192.0.2.0%2F24&i=17");
    QVERIFY(m.ok());
    QCOMPARE(m->value(QStringLiteral("target")), QStringLiteral("192.0.2.0/24"));
    QCOMPARE(m->value(QStringLiteral("ipproto")), QStringLiteral("17"));
    // An expression inside the authority cannot be matched against a path.
    const UriTemplate hostVar = parsed(QStringLiteral("https://{host}/x"));
    QCOMPARE(hostVar.match(u"/x").error().code, ErrorCode::MalformedTemplate);
}

void tst_WireUriTemplate::repeatedVariableMustAgree()
{
    const UriTemplate t = parsed(QStringLiteral("/{a}/{a}/"));
    QCOMPARE(t.match(u"/x/x/").value().value(QStringLiteral("a")), QStringLiteral("x"));
    QCOMPARE(t.match(u"/x/y/").error().code, ErrorCode::BadPath);
}

void tst_WireUriTemplate::ambiguousMatchIsBounded()
{
    // Reserved expressions may end at any '/', so this target has about 10^9 readings; none fits.
    // The step budget ends the search after a fixed amount of work.
    const UriTemplate t = parsed(QStringLiteral("/{+a}/{+b}/{+c}/{+d}/end"));
    QString target = QStringLiteral("/");
    for (int i = 0; i < 2000; ++i)
        target += QStringLiteral("s/");
    target += QStringLiteral("nope");
    const auto matched = t.match(target);
    QVERIFY(!matched.ok());
    QCOMPARE(matched.error().code, ErrorCode::BadPath);
    // The refusal comes from the exhausted step budget, not from trying every reading.
    QVERIFY2(matched.error().detail.contains(QStringLiteral("ambiguous")),
             qPrintable(matched.error().detail));
    // The same template still matches a plain target.
    const auto ok = t.match(u"/1/2/3/4/end");
    QVERIFY(ok.ok());
    QCOMPARE(ok->value(QStringLiteral("d")), QStringLiteral("4"));
}

void tst_WireUriTemplate::percentDecoding()
{
    QString out;
    QVERIFY(percentDecode(u"a%20b%2f", &out));
    QCOMPARE(out, QStringLiteral("a b/"));
    QVERIFY(percentDecode(u"%E2%82%AC", &out));
    QCOMPARE(out, QString(QChar(0x20ac)));
    QVERIFY(!percentDecode(u"%", &out));
    QVERIFY(!percentDecode(u"%4", &out));
    QVERIFY(!percentDecode(u"%g0", &out));
    QVERIFY(!percentDecode(u"%ff", &out)); // not UTF-8
}

QTEST_APPLESS_MAIN(tst_WireUriTemplate)
#include "tst_wire_uritemplate.moc"
