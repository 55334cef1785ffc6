#include "transport/h3/QuicConfig.h"

#include "transport/h3/QuicHandles.h"

#include <algorithm>
#include <iterator>

namespace qmasque::h3 {

namespace {

constexpr quint64 kUniStreamWindow = 1024 * 1024;
const uint32_t kVersions[] = {NGTCP2_PROTO_VER_V1, NGTCP2_PROTO_VER_V2};
// PMTUD probe sizes (RFC 8899), never above what we allow ourselves to send; ngtcp2 skips the
// ones above max_tx_udp_payload_size.
const uint16_t kProbes[] = {1452, 1400, 1350, 1280};

ngtcp2_duration milliseconds(int ms)
{
    return ngtcp2_duration(ms) * NGTCP2_MILLISECONDS;
}

} // namespace

void QuicConfig::applyTo(ngtcp2_settings &settings) const
{
    ngtcp2_settings_default(&settings);
    settings.initial_ts = quicTimestamp();
    settings.cc_algo = NGTCP2_CC_ALGO_CUBIC;
    settings.max_tx_udp_payload_size = size_t(
        std::clamp<qsizetype>(maxUdpPayload, NGTCP2_MAX_UDP_PAYLOAD_SIZE, UdpSocket::kSlotSize));
    settings.handshake_timeout =
        handshakeTimeoutMs > 0 ? milliseconds(handshakeTimeoutMs) : UINT64_MAX;
    // Receive windows stay what the options say (no auto-tuning beyond them): the window is the
    // backpressure bound of consumption-based flow control.
    settings.max_window = connectionReceiveWindow;
    settings.max_stream_window = streamReceiveWindow;
    settings.no_pmtud = 0;
    settings.pmtud_probes = kProbes;
    settings.pmtud_probeslen = std::size(kProbes);
    // RFC 9368: compatible version negotiation between v1 and v2.
    settings.preferred_versions = kVersions;
    settings.preferred_versionslen = std::size(kVersions);
    settings.available_versions = kVersions;
    settings.available_versionslen = std::size(kVersions);
}

void QuicConfig::applyTo(ngtcp2_transport_params &params) const
{
    ngtcp2_transport_params_default(&params);
    params.initial_max_stream_data_bidi_local = streamReceiveWindow;
    params.initial_max_stream_data_bidi_remote = streamReceiveWindow;
    params.initial_max_stream_data_uni = kUniStreamWindow;
    params.initial_max_data = connectionReceiveWindow;
    params.initial_max_streams_bidi = maxStreamsBidi;
    params.initial_max_streams_uni = maxStreamsUni;
    params.max_idle_timeout = idleTimeoutMs > 0 ? milliseconds(idleTimeoutMs) : 0;
    params.max_udp_payload_size = UdpSocket::kSlotSize;
    params.active_connection_id_limit = 8;
    // RFC 9297, 2.1.1: HTTP datagrams need the QUIC DATAGRAM extension (RFC 9221, 3).
    params.max_datagram_frame_size = maxDatagramFrameSize;
}

} // namespace qmasque::h3
