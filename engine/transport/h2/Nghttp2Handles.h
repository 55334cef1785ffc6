#pragma once

#include "api/Result.h"

#include <nghttp2/nghttp2.h>

#include <memory>

namespace qmasque {

// RAII for nghttp2 handles: unique_ptr with empty deleter structs, one word wide.
struct Nghttp2SessionDeleter
{
    void operator()(nghttp2_session *session) const noexcept { nghttp2_session_del(session); }
};
using Nghttp2SessionPtr = std::unique_ptr<nghttp2_session, Nghttp2SessionDeleter>;

struct Nghttp2CallbacksDeleter
{
    void operator()(nghttp2_session_callbacks *callbacks) const noexcept
    {
        nghttp2_session_callbacks_del(callbacks);
    }
};
using Nghttp2CallbacksPtr = std::unique_ptr<nghttp2_session_callbacks, Nghttp2CallbacksDeleter>;

struct Nghttp2OptionDeleter
{
    void operator()(nghttp2_option *option) const noexcept { nghttp2_option_del(option); }
};
using Nghttp2OptionPtr = std::unique_ptr<nghttp2_option, Nghttp2OptionDeleter>;

// Factories that check the library's return code.
inline Result<Nghttp2CallbacksPtr> makeNghttp2Callbacks()
{
    nghttp2_session_callbacks *raw = nullptr;
    if (const int rv = nghttp2_session_callbacks_new(&raw); rv != 0)
        return Error(ErrorCode::Internal, QString::fromLatin1(nghttp2_strerror(rv)));
    return Nghttp2CallbacksPtr(raw);
}

inline Result<Nghttp2OptionPtr> makeNghttp2Option()
{
    nghttp2_option *raw = nullptr;
    if (const int rv = nghttp2_option_new(&raw); rv != 0)
        return Error(ErrorCode::Internal, QString::fromLatin1(nghttp2_strerror(rv)));
    return Nghttp2OptionPtr(raw);
}

} // namespace qmasque
