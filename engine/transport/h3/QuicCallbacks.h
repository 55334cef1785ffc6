#pragma once

#include <ngtcp2/ngtcp2.h>

namespace qmasque::h3 {

// quicCallbacks: the ngtcp2 callback table of a client or server connection: ngtcp2's crypto
// helpers for the TLS side, and thin trampolines (user_data = the QuicConnection) into
// QuicConnection and its QuicApplication for the rest. Built once, shared by all connections.
const ngtcp2_callbacks &quicCallbacks(bool server);

} // namespace qmasque::h3
