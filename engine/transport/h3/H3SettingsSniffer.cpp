#include "transport/h3/H3SettingsSniffer.h"

#include "wire/ByteReader.h"

namespace qmasque::h3 {

namespace {

constexpr quint64 kControlStreamType = 0x00;     // RFC 9114, 6.2.1
constexpr quint64 kSettingsFrameType = 0x04;     // RFC 9114, 7.2.4
constexpr quint64 kEnableConnectProtocol = 0x08; // RFC 8441, 3 (RFC 9220, 3)

} // namespace

void H3SettingsSniffer::feed(int64_t streamId, const uint8_t *data, size_t size)
{
    if (m_done || size == 0 || m_ignored.count(streamId))
        return;
    QByteArray &buffer = m_pending[streamId];
    buffer.append(reinterpret_cast<const char *>(data), qsizetype(size));
    switch (parse(buffer)) {
    case Outcome::NeedMore:
        if (buffer.size() <= kMaxSettingsBytes)
            return;
        m_done = true; // absurdly long SETTINGS: give up (nghttp3 judges the frame)
        break;
    case Outcome::NotControl:
        m_ignored.insert(streamId);
        m_pending.erase(streamId);
        return;
    case Outcome::Done:
        m_done = true;
        break;
    }
    m_pending.clear();
    m_ignored.clear();
}

H3SettingsSniffer::Outcome H3SettingsSniffer::parse(const QByteArray &buffer)
{
    wire::ByteReader reader(buffer);
    const std::optional<quint64> type = reader.readVarint();
    if (!type)
        return Outcome::NeedMore;
    if (*type != kControlStreamType)
        return Outcome::NotControl;
    const std::optional<quint64> frameType = reader.readVarint();
    const std::optional<quint64> length = reader.readVarint();
    if (!frameType || !length)
        return Outcome::NeedMore;
    if (*frameType != kSettingsFrameType || *length > quint64(kMaxSettingsBytes))
        return Outcome::Done; // malformed: nghttp3 closes the connection
    const std::optional<QByteArrayView> payload = reader.readBytes(qsizetype(*length));
    if (!payload)
        return Outcome::NeedMore;
    wire::ByteReader settings(*payload);
    bool enabled = false;
    while (!settings.atEnd()) {
        const std::optional<quint64> id = settings.readVarint();
        const std::optional<quint64> value = settings.readVarint();
        if (!id || !value)
            break;
        if (*id == kEnableConnectProtocol)
            enabled = *value == 1;
    }
    m_enableConnect = enabled;
    return Outcome::Done;
}

} // namespace qmasque::h3
