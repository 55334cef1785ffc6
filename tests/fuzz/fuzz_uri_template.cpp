// libFuzzer target: URI templates (RFC 6570) and the MASQUE server-side matcher.
//
// Input: byte 0 picks the mode. Even: one of the RFC 9298 / RFC 9484 templates and the rest as
// the request target; whatever target the server accepts, the client expansion of the accepted
// target must be accepted again as the same target. Odd: the rest is "template\ntarget"; the
// template is parsed, expanded, validated and matched, and every match returns only variables the
// template has, with the documented error codes.

#include "FuzzCheck.h"
#include "wire/MasqueUri.h"
#include "wire/UriTemplate.h"

#include <QtCore/QString>

#include <cstdint>

using namespace qmasque;
using namespace qmasque::wire;

namespace {

const char *const kTemplates[] = {
    "/.well-known/masque/udp/{target_host}/{target_port}/",
    "/.well-known/masque/tcp/{target_host}/{target_port}/",
    "/.well-known/masque/ip/{target}/{ipproto}/",
    "https://proxy.example.org:4443/masque?h={target_host}&p={target_port}",
    "https://proxy.example.org:4443/masque{?target_host,target_port}",
    "https://proxy.example.org:4443/masque/ip?t={target}&i={ipproto}",
    "https://proxy.example.org:4443/masque/ip{?target,ipproto}",
    "https://masque.example.org/?user=bob",
};

// pathOf: what a client puts in :path for an expansion (absolute, or a path-only template's).
QString pathOf(const QString &expansion)
{
    if (expansion.startsWith(u'/'))
        return expansion;
    const auto split = splitRequestUri(expansion);
    FUZZ_CHECK(split.ok());
    return split->pathAndQuery;
}

void checkMatchResult(const UriTemplate &t, const Result<UriVariables> &matched)
{
    if (!matched) {
        const ErrorCode code = matched.error().code;
        FUZZ_CHECK(code == ErrorCode::BadPath || code == ErrorCode::MalformedTemplate);
        return;
    }
    for (auto it = matched->cbegin(); it != matched->cend(); ++it)
        FUZZ_CHECK(t.hasVariable(it.key()));
}

void fixedTemplate(const char *text, const QString &target)
{
    const auto t = UriTemplate::parse(QString::fromLatin1(text));
    FUZZ_CHECK(t.ok());
    checkMatchResult(*t, t->match(target));
    if (t->hasVariable(u"target_host")) {
        const auto host = matchHostRequest(*t, target);
        if (!host)
            return;
        FUZZ_CHECK(host->port != 0);
        const auto expanded = expandHostTemplate(*t, host->host, host->port);
        FUZZ_CHECK(expanded.ok());
        const auto again = matchHostRequest(*t, pathOf(*expanded));
        FUZZ_CHECK(again.ok());
        FUZZ_CHECK(again->host == host->host && again->port == host->port &&
                   again->kind == host->kind && again->address == host->address);
        return;
    }
    const auto scope = matchIpRequest(*t, target);
    if (!scope)
        return;
    if (scope->target.kind == IpTarget::Kind::Prefix)
        FUZZ_CHECK(scope->target.prefix.isCanonical());
    const auto expanded = expandIpTemplate(*t, *scope);
    FUZZ_CHECK(expanded.ok());
    const auto again = matchIpRequest(*t, pathOf(*expanded));
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(*again == *scope);
}

void fuzzedTemplate(const QString &text, const QString &target)
{
    const auto t = UriTemplate::parse(text);
    if (!t) {
        FUZZ_CHECK(t.error().code == ErrorCode::MalformedTemplate);
        return;
    }
    const QStringList names = t->variableNames();
    UriVariables variables;
    for (const QString &name : names)
        variables.insert(name, target);
    const QString expansion = t->expand(variables);
    checkMatchResult(*t, t->match(target));
    checkMatchResult(*t, t->match(expansion));
    for (const TunnelProtocol p : {TunnelProtocol::Udp, TunnelProtocol::Tcp, TunnelProtocol::Ip}) {
        const Status valid = validateMasqueTemplate(*t, p, false);
        if (!valid) {
            const ErrorCode code = valid.error().code;
            FUZZ_CHECK(code == ErrorCode::MalformedTemplate ||
                       code == ErrorCode::MissingTemplateVariable);
        }
    }
    static_cast<void>(matchHostRequest(*t, target));
    static_cast<void>(matchIpRequest(*t, target));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    const QString rest =
        QString::fromUtf8(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    if (data[0] % 2 == 0) {
        constexpr size_t count = sizeof(kTemplates) / sizeof(kTemplates[0]);
        fixedTemplate(kTemplates[(data[0] / 2) % count], rest);
        return 0;
    }
    const qsizetype newline = rest.indexOf(u'\n');
    fuzzedTemplate(newline < 0 ? rest : rest.first(newline),
                   newline < 0 ? QString() : rest.sliced(newline + 1));
    return 0;
}
