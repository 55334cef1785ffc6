#pragma once

#include "api/Error.h"

#include <optional>
#include <utility>
#include <variant>

namespace qmasque {

// Result<T>: a value or a typed Error, returned by every fallible engine call. Nothing throws
// across the engine's API. "Would block" / "need more bytes" are never errors: APIs that can be
// blocked say so in their own return type.
template<typename T>
class [[nodiscard]] Result
{
public:
    Result(T value)
        : m_value(std::in_place_index<0>, std::move(value))
    {}
    Result(Error error)
        : m_value(std::in_place_index<1>, std::move(error))
    {}
    Result(ErrorCode code, QString detail = {})
        : m_value(std::in_place_index<1>, Error(code, std::move(detail)))
    {}

    bool ok() const noexcept { return m_value.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T &value() & { return std::get<0>(m_value); }
    const T &value() const & { return std::get<0>(m_value); }
    T &&value() && { return std::get<0>(std::move(m_value)); }
    T valueOr(T fallback) const { return ok() ? std::get<0>(m_value) : std::move(fallback); }

    const Error &error() const { return std::get<1>(m_value); }

    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }

private:
    std::variant<T, Error> m_value;
};

template<>
class [[nodiscard]] Result<void>
{
public:
    Result() = default;
    Result(Error error)
        : m_error(std::move(error))
    {}
    Result(ErrorCode code, QString detail = {})
        : m_error(Error(code, std::move(detail)))
    {}

    bool ok() const noexcept { return !m_error.has_value(); }
    explicit operator bool() const noexcept { return ok(); }
    const Error &error() const { return *m_error; }

private:
    std::optional<Error> m_error;
};

using Status = Result<void>;

} // namespace qmasque
