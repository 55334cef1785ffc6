#pragma once

#include <nghttp3/nghttp3.h>

namespace qmasque::h3 {

// h3Callbacks: the nghttp3 callback table of every H3Session: thin trampolines (conn_user_data
// = the session, stream_user_data = its H3Stream, null for control and QPACK streams) into the
// session and its stream table. Built once.
const nghttp3_callbacks &h3Callbacks();

// h3BodyReader: the data reader of every request and response body (H3Session::readBody):
// hands out the stream's send buffer, NGHTTP3_ERR_WOULDBLOCK when it is empty and open.
const nghttp3_data_reader &h3BodyReader();

} // namespace qmasque::h3
