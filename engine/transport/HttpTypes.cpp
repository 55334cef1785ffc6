#include "transport/HttpTypes.h"

namespace qmasque {

QByteArray headerValue(const HeaderList &headers, QByteArrayView name)
{
    for (const Header &header : headers) {
        if (header.name.compare(name, Qt::CaseInsensitive) == 0)
            return header.value;
    }
    return {};
}

} // namespace qmasque
