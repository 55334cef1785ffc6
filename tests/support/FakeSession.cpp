#include "support/FakeSession.h"

namespace qmasque::test {

void FakeSession::add(StreamId id, QByteArray event)
{
    events.append(event);
    eventStreams.append(id);
    if (onEvent)
        onEvent(event);
    emit eventRecorded();
}

void FakeSession::onStreamResponse(StreamId id, const Response &response)
{
    add(id, "response " + QByteArray::number(response.status));
}

void FakeSession::onStreamData(StreamId id, QByteArrayView data, bool fin)
{
    received.append(data);
    add(id, "data " + data.toByteArray() + (fin ? " fin" : ""));
}

void FakeSession::onStreamReset(StreamId id, const Error &reason)
{
    ++resets;
    lastError = reason;
    add(id, QByteArray("reset ") + reason.name());
}

void FakeSession::onDatagram(StreamId id, QByteArrayView payload)
{
    datagrams.append(payload.toByteArray());
    add(id, "datagram " + payload.toByteArray().toHex());
}

void FakeSession::onConnectionClosed(StreamId id, const Error &reason)
{
    ++closes;
    lastError = reason;
    add(id, QByteArray("closed ") + reason.name());
}

void FakeSession::describeStream(StreamSnapshot &row) const
{
    if (!target.isEmpty())
        row.target = target;
    row.localClient = localClient;
    row.state = state;
    row.responseStatus = responseStatus;
    row.bytesSent = bytesSent;
    row.bytesReceived = bytesReceived;
}

} // namespace qmasque::test
