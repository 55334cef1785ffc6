#pragma once

#include <QtCore/QByteArray>

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace qmasque::h3 {

// H3SettingsSniffer: reads SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220, 3) from the peer's HTTP/3
// control stream (RFC 9114, 6.2.1 and 7.2.4) as the bytes go by, before nghttp3 sees them.
//
// Why: nghttp3 1.8 drops that setting on the client side, so its recv_settings callback always
// reports enable_connect_protocol = 0 to clients (later nghttp3 versions parse it). The client
// needs it to refuse extended CONNECT towards servers that did not enable it.
//
// Only the first frame of the control stream (which must be SETTINGS) is read; other
// unidirectional stream types are ignored after their type byte. Bounded: at most
// kMaxSettingsBytes are buffered. Malformed input is left for nghttp3 to reject.
class H3SettingsSniffer
{
public:
    static constexpr qsizetype kMaxSettingsBytes = 4096;

    // feed: bytes of the peer-initiated unidirectional stream `streamId`, in order.
    void feed(int64_t streamId, const uint8_t *data, size_t size);

    bool done() const noexcept { return m_done; }
    // enableConnectProtocol: the value, once the SETTINGS frame was read (absent = 0).
    std::optional<bool> enableConnectProtocol() const noexcept { return m_enableConnect; }

private:
    enum class Outcome : quint8
    {
        NeedMore,
        NotControl,
        Done
    };
    Outcome parse(const QByteArray &buffer);

    std::unordered_map<int64_t, QByteArray> m_pending; // streams being read
    std::unordered_set<int64_t> m_ignored;             // not the control stream
    bool m_done = false;
    std::optional<bool> m_enableConnect;
};

} // namespace qmasque::h3
