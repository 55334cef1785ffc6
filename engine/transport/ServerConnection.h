#pragma once

#include "transport/HttpConnection.h"

#include <QtNetwork/QHostAddress>

namespace qmasque {

// IncomingRequest: a request head as a server connection received it, pseudo-headers split out.
// h1 requests are mapped to the same shape: `GET path` + `Upgrade: connect-udp` becomes method
// CONNECT, protocol "connect-udp", path; `CONNECT host:port` becomes a classic CONNECT.
struct IncomingRequest
{
    QByteArray method;
    QByteArray protocol; // :protocol of an extended CONNECT (or the h1 Upgrade token)
    QByteArray scheme;
    QByteArray authority;
    QByteArray path;
    HeaderList headers;
};

// ServerConnection: the server side of one accepted connection (h1, h2 or h3). Every request is
// announced with requestReceived(); the handler answers with submitResponse() and then uses the
// HttpConnection stream operations, exactly like a client session.
class ServerConnection : public HttpConnection
{
    Q_OBJECT

public:
    using HttpConnection::HttpConnection;

    // submitResponse: sends the response head. A 2xx (or h1 101) keeps the stream open for data
    // unless endStream; anything else is a refusal (send a short body, then endStream). h1
    // refusals close the connection afterwards.
    virtual Status submitResponse(StreamId id, const Response &response, bool endStream) = 0;

    virtual QHostAddress peerAddress() const = 0;
    virtual quint16 peerPort() const = 0;

Q_SIGNALS:
    // requestReceived: a new request head. Register a stream handler before returning to see its
    // body; unhandled body bytes are kept until setStreamHandler() as for any stream.
    void requestReceived(qmasque::StreamId id, const qmasque::IncomingRequest &request);
};

} // namespace qmasque
