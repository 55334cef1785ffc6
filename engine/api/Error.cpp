#include "api/Error.h"

#include <QtCore/QStringList>

#include <array>

namespace qmasque {

namespace {

constexpr std::array kErrorNames = {
#define QMASQUE_ERROR_NAME(name, text) text,
    QMASQUE_ERROR_CODES(QMASQUE_ERROR_NAME)
#undef QMASQUE_ERROR_NAME
};

} // namespace

const char *errorCodeName(ErrorCode code) noexcept
{
    const auto index = static_cast<std::size_t>(code);
    return index < kErrorNames.size() ? kErrorNames[index] : "unknown_error";
}

bool errorCodeFromName(QStringView name, ErrorCode *code) noexcept
{
    for (std::size_t i = 0; i < kErrorNames.size(); ++i) {
        if (name == QLatin1StringView(kErrorNames[i])) {
            *code = static_cast<ErrorCode>(i);
            return true;
        }
    }
    return false;
}

QString Error::toString() const
{
    QString text = QLatin1StringView(name());
    QStringList parts;
    if (httpStatus != 0)
        parts << QStringLiteral("HTTP %1").arg(httpStatus);
    if (!proxyErrorType.isEmpty()) {
        QString proxy = QStringLiteral("proxy-status ") + proxyErrorType;
        if (!proxyErrorDetails.isEmpty())
            proxy += QStringLiteral(" (") + proxyErrorDetails + QLatin1Char(')');
        parts << proxy;
    }
    if (!detail.isEmpty())
        parts << detail;
    if (!parts.isEmpty())
        text += QStringLiteral(": ") + parts.join(QStringLiteral(", "));
    return text;
}

} // namespace qmasque
